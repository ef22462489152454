import { useEffect, useState } from 'preact/hooks'
import { enc, get, type Commit } from '../api.js'
import { RefPicker } from '../components/ref-picker.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { shortId, when } from '../format.js'
import { useLoad } from '../load.js'
import { graphRows } from '../commit-graph.js'
import { GraphCell } from '../components/graph-cell.js'
import { href, navigate } from '../router.js'
import { defaultRef } from './default-ref.js'

const PAGE = 50

/** The history of a ref, or of a path on it (the commits that changed it). */
export function LogPage({ repo, refName, path }: { repo: string; refName: string | undefined; path: string }) {
  const [limit, setLimit] = useState(PAGE)
  useEffect(() => {
    if (refName === undefined) void defaultRef(repo).then((ref) => navigate(href(['r', repo, 'log'], { ref, path }), true))
  }, [repo, refName, path])
  useEffect(() => setLimit(PAGE), [repo, refName, path])
  const [log] = useLoad(
    () =>
      refName === undefined
        ? new Promise<never>(() => {})
        : get<{ commits: Commit[]; truncated: boolean }>(`/repositories/${enc(repo)}/log`, { ref: refName, prefix: path || undefined, limit: String(limit) }),
    [repo, refName, path, limit],
  )
  if (refName === undefined) return <p class="notice">Loading…</p>
  return (
    <section>
      <RepoNav repo={repo} tab="commits" refName={refName} />
      <div class="toolbar">
        <RefPicker key={refName} repo={repo} value={refName} onPick={(ref) => navigate(href(['r', repo, 'log'], { ref, path }))} />
        {path && (
          <span class="notice">
            Commits that changed <code>{path}</code> — <a href={href(['r', repo, 'log'], { ref: refName })}>all commits</a>
          </span>
        )}
      </div>
      <Status loaded={log}>
        {(l) => {
          const rows = graphRows(l.commits)
          const width = Math.max(1, ...rows.map((r) => Math.max(r.above.length, r.below.length, r.col + 1)))
          return (
            <>
              <ol class="log">
                {l.commits.map((c, i) => (
                  <li key={c.id}>
                    <GraphCell row={rows[i]!} width={width} merge={c.parents.length > 1} />
                    <a class="mono" href={href(['r', repo, 'commit', c.id])}>
                      {shortId(c.id)}
                    </a>
                    <span class="message">{c.message.split('\n')[0]}</span>
                    <span class="meta">
                      {c.author} · {when(c.createdAt)}
                    </span>
                  </li>
                ))}
              </ol>
              {!l.commits.length && <p class="notice">No commits.</p>}
              {l.truncated && (
                <button type="button" onClick={() => setLimit((n) => n + PAGE)}>
                  More commits
                </button>
              )}
            </>
          )
        }}
      </Status>
    </section>
  )
}
