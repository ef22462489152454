import { enc, get, type Change } from '../api.js'
import { RefList, useRefNames } from '../components/ref-picker.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { useLoad } from '../load.js'
import { href, navigate } from '../router.js'
import { ChangeList } from './commit.js'
import { FileDiff } from './file-diff.js'

/** Changes listed at once; `next` pages on. */
const PAGE = 1000

/** Any two refs: what changed from `left` to `right`, counted per folder, and one file's diff. */
export function ComparePage({ repo, left, right, path, after }: { repo: string; left: string; right: string; path: string; after: string | undefined }) {
  const names = useRefNames(repo)
  const go = (query: Record<string, string | undefined>) => navigate(href(['r', repo, 'compare'], { left, right, ...query }))
  const ready = Boolean(left && right)
  const [diff] = useLoad(
    () =>
      ready
        ? get<{ changes: Change[]; truncated: boolean; next?: string }>(`/repositories/${enc(repo)}/diff`, { left, right, limit: String(PAGE), after })
        : Promise.resolve(undefined),
    [repo, left, right, after],
  )
  return (
    <section>
      <RepoNav repo={repo} tab="compare" />
      <form
        key={`${left} ${right}`}
        class="toolbar compare-refs"
        aria-label="refs to compare"
        onSubmit={(e) => {
          e.preventDefault()
          const data = new FormData(e.target as HTMLFormElement)
          navigate(href(['r', repo, 'compare'], { left: String(data.get('left')).trim(), right: String(data.get('right')).trim() }))
        }}
      >
        <label>
          From
          <input name="left" list="compare-refs" defaultValue={left} required spellcheck={false} autocomplete="off" />
        </label>
        <span aria-hidden="true">→</span>
        <label>
          To
          <input name="right" list="compare-refs" defaultValue={right} required spellcheck={false} autocomplete="off" />
        </label>
        <RefList id="compare-refs" names={names} />
        <button type="submit">Compare</button>
      </form>
      {!ready && <p class="notice">Pick two refs: a branch, tag, commit id or an expression such as main~3.</p>}
      {ready && path && <FileDiff repo={repo} left={left} right={right} path={path} />}
      {ready && !path && (
        <Status loaded={diff}>
          {(d) =>
            d && (
              <>
                {d.changes.length === 0 && !after ? (
                  <p class="notice">No differences.</p>
                ) : (
                  <ChangeList
                    repo={repo}
                    refName={right}
                    changes={d.changes}
                    truncated={d.truncated}
                    linkTo={(p) => href(['r', repo, 'compare'], { left, right, path: p })}
                    level={2}
                  />
                )}
                <nav class="pager" aria-label="pages">
                  {after !== undefined && (
                    <button type="button" onClick={() => go({})}>
                      First page
                    </button>
                  )}
                  {d.truncated && d.next && (
                    <button type="button" onClick={() => go({ after: d.next })}>
                      Next page
                    </button>
                  )}
                </nav>
              </>
            )
          }
        </Status>
      )}
    </section>
  )
}
