import { enc, get } from '../api.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { shortId, when } from '../format.js'
import { useLoad } from '../load.js'
import { href } from '../router.js'

interface RefLogEntry {
  readonly seq: number
  readonly old: string | null
  readonly new: string | null
  readonly operation: string
  readonly author: string
  readonly message?: string
  readonly at: number
}

/** Every move of a branch (or tag), newest first: who moved it, how, from which commit to which. */
export function RefLogPage({ repo, refName }: { repo: string; refName: string }) {
  const [log] = useLoad(() => get<{ entries: RefLogEntry[] }>(`/repositories/${enc(repo)}/reflog`, { ref: refName, limit: '200' }), [repo, refName])
  const commit = (id: string | null) => (id ? <a href={href(['r', repo, 'commit', id])}>{shortId(id)}</a> : '—')
  return (
    <section>
      <RepoNav repo={repo} tab="branches" />
      <h2>Ref log of {refName}</h2>
      <Status loaded={log}>
        {(l) => (
          <table class="listing">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Who</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
              </tr>
            </thead>
            <tbody>
              {l.entries.map((e) => (
                <tr key={e.seq}>
                  <td>{when(e.at)}</td>
                  <td>
                    {e.operation}
                    {e.message ? ` — ${e.message.split('\n')[0]}` : ''}
                  </td>
                  <td>{e.author}</td>
                  <td class="mono">{commit(e.old)}</td>
                  <td class="mono">{commit(e.new)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Status>
    </section>
  )
}
