import { useState } from 'preact/hooks'
import { del, enc, get, post, type Branch, type Tag } from '../api.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { shortId, when } from '../format.js'
import { can } from '../grants.js'
import { useLoad } from '../load.js'
import { href } from '../router.js'
import { useLoggedIn } from '../session.js'

/** Branches and tags; creating a branch from any ref and deleting one, for keys allowed to. */
export function BranchesPage({ repo }: { repo: string }) {
  const session = useLoggedIn()
  const [refs, reload] = useLoad(async () => {
    const r = `/repositories/${enc(repo)}`
    const [b, t] = await Promise.all([get<{ branches: Branch[] }>(`${r}/branches`), get<{ tags: (Tag & { createdAt: number })[] }>(`${r}/tags`)])
    return { branches: b.branches, tags: t.tags }
  }, [repo])
  const [error, setError] = useState<string>()
  const act = async (what: () => Promise<unknown>) => {
    setError(undefined)
    try {
      await what()
      reload()
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    }
  }
  const create = (e: Event) => {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const data = new FormData(form)
    void act(async () => {
      await post(`/repositories/${enc(repo)}/branches`, { name: data.get('name'), from: data.get('from') || undefined })
      form.reset()
    })
  }
  return (
    <section>
      <RepoNav repo={repo} tab="branches" />
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      {can(session, 'write', repo) && (
        <form class="inline-form" onSubmit={create} aria-label="create a branch">
          <label>
            New branch
            <input name="name" required spellcheck={false} autocomplete="off" />
          </label>
          <label>
            from
            <input name="from" placeholder="main, a tag, a commit, main~3" spellcheck={false} autocomplete="off" />
          </label>
          <button type="submit">Create branch</button>
        </form>
      )}
      <Status loaded={refs}>
        {({ branches, tags }) => (
          <>
            <h2>Branches</h2>
            <table class="listing">
              <thead>
                <tr>
                  <th scope="col">Branch</th>
                  <th scope="col">Head</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {branches.map((b) => (
                  <tr key={b.name}>
                    <td>
                      <a href={href(['r', repo, 'tree'], { ref: b.name })}>{b.name}</a>
                    </td>
                    <td>
                      <a class="mono" href={href(['r', repo, 'commit', b.head])}>
                        {shortId(b.head)}
                      </a>
                    </td>
                    <td class="num">
                      {can(session, 'admin', repo, b.name) && (
                        <button
                          type="button"
                          class="danger"
                          onClick={() => confirm(`Delete branch ${b.name}?`) && void act(() => del(`/repositories/${enc(repo)}/branches/${enc(b.name)}`))}
                        >
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>Tags</h2>
            {tags.length ? (
              <table class="listing">
                <thead>
                  <tr>
                    <th scope="col">Tag</th>
                    <th scope="col">Commit</th>
                    <th scope="col" class="wide">
                      Created
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {tags.map((t) => (
                    <tr key={t.name}>
                      <td>
                        <a href={href(['r', repo, 'tree'], { ref: t.name })}>{t.name}</a>
                      </td>
                      <td>
                        <a class="mono" href={href(['r', repo, 'commit', t.commit])}>
                          {shortId(t.commit)}
                        </a>
                      </td>
                      <td class="wide">{when(t.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p class="notice">No tags.</p>
            )}
          </>
        )}
      </Status>
    </section>
  )
}
