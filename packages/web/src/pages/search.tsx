import { enc, get } from '../api.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { bytes } from '../format.js'
import { useLoad } from '../load.js'
import { href, navigate } from '../router.js'

interface SearchPage {
  readonly paths: { path: string; size: number }[]
  readonly scanned: number
  readonly truncated: boolean
  readonly next?: string
}

/** Paths at a ref that match a glob under a prefix, found by the server a page at a time. */
export function SearchPage({ repo, refName, prefix, glob, after }: { repo: string; refName: string; prefix: string; glob: string; after: string | undefined }) {
  const [found] = useLoad(
    () => (glob ? get<SearchPage>(`/repositories/${enc(repo)}/search`, { ref: refName, prefix, glob, after, limit: '100' }) : Promise.resolve(undefined)),
    [repo, refName, prefix, glob, after],
  )
  return (
    <section>
      <RepoNav repo={repo} tab="files" refName={refName} />
      <form
        key={`${refName} ${prefix} ${glob}`}
        class="inline-form"
        aria-label="search paths"
        onSubmit={(e) => {
          e.preventDefault()
          const d = new FormData(e.target as HTMLFormElement)
          navigate(href(['r', repo, 'search'], { ref: String(d.get('ref')), prefix: String(d.get('prefix')), glob: String(d.get('glob')) }))
        }}
      >
        <label>
          Ref
          <input name="ref" defaultValue={refName} required spellcheck={false} autocomplete="off" />
        </label>
        <label>
          Under
          <input name="prefix" defaultValue={prefix} placeholder="data/" spellcheck={false} autocomplete="off" />
        </label>
        <label>
          Paths matching
          <input name="glob" defaultValue={glob || '**/*.parquet'} required spellcheck={false} autocomplete="off" />
        </label>
        <button type="submit">Search</button>
      </form>
      <Status loaded={found}>
        {(f) =>
          f && (
            <>
              <ul class="changes found">
                {f.paths.map((p) => (
                  <li key={p.path}>
                    <a href={href(['r', repo, 'object'], { ref: refName, path: p.path })}>{p.path}</a> <span class="meta">{bytes(p.size)}</span>
                  </li>
                ))}
              </ul>
              {!f.paths.length && <p class="notice">{f.truncated ? `No match in the first ${f.scanned.toLocaleString('en')} paths.` : 'No path matches.'}</p>}
              {f.truncated && f.next && (
                <a class="button" href={href(['r', repo, 'search'], { ref: refName, prefix, glob, after: f.next })}>
                  More results
                </a>
              )}
            </>
          )
        }
      </Status>
    </section>
  )
}
