import { useState } from 'preact/hooks'
import { enc, get, post, type MergeRequest } from '../api.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { when } from '../format.js'
import { useLoad } from '../load.js'
import { href, navigate } from '../router.js'

const STATES = ['open', 'merged', 'closed', 'all'] as const

/** Merge requests of a repository by state, and a form to open one. */
export function MergeRequestsPage({ repo, state }: { repo: string; state: string }) {
  const [list] = useLoad(() => get<{ mergeRequests: MergeRequest[] }>(`/repositories/${enc(repo)}/merge-requests`, { state }), [repo, state])
  const [error, setError] = useState<string>()
  const open = async (e: Event) => {
    e.preventDefault()
    const data = new FormData(e.target as HTMLFormElement)
    setError(undefined)
    try {
      const r = await post<MergeRequest>(`/repositories/${enc(repo)}/merge-requests`, {
        source: data.get('source'),
        dest: data.get('dest'),
        title: data.get('title'),
        description: data.get('description') || undefined,
      })
      navigate(href(['r', repo, 'merge-requests', String(r.id)]))
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    }
  }
  return (
    <section>
      <RepoNav repo={repo} tab="merge-requests" />
      <nav class="tabs states" aria-label="state">
        {STATES.map((s) => (
          <a key={s} href={href(['r', repo, 'merge-requests'], { state: s })} aria-current={s === state ? 'page' : undefined}>
            {s}
          </a>
        ))}
      </nav>
      <Status loaded={list}>
        {(l) =>
          l.mergeRequests.length ? (
            <ul class="requests">
              {[...l.mergeRequests].reverse().map((r) => (
                <li key={r.id}>
                  <a href={href(['r', repo, 'merge-requests', String(r.id)])}>
                    #{r.id} {r.title}
                  </a>
                  <span class={`badge state-${r.state}`}>{r.state}</span>
                  <span class="meta">
                    {r.source} → {r.dest} · {r.author} · {when(r.createdAt)}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="notice">No {state === 'all' ? '' : `${state} `}merge requests.</p>
          )
        }
      </Status>
      <details class="new-request">
        <summary>Open a merge request</summary>
        <form class="stacked" onSubmit={open}>
          <label>
            Source branch
            <input name="source" required spellcheck={false} autocomplete="off" />
          </label>
          <label>
            Destination branch
            <input name="dest" required value="main" spellcheck={false} autocomplete="off" />
          </label>
          <label>
            Title
            <input name="title" required />
          </label>
          <label>
            Description
            <textarea name="description" rows={3} />
          </label>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit">Open merge request</button>
        </form>
      </details>
    </section>
  )
}
