import { useState } from 'preact/hooks'
import { del, enc, get, post, request, apiUrl, type Branch, type Tag } from '../api.js'
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
    const [b, t, pr, pins] = await Promise.all([
      get<{ branches: Branch[] }>(`${r}/branches`),
      get<{ tags: (Tag & { createdAt: number })[] }>(`${r}/tags`),
      get<{ protections: Protection[] }>(`${r}/protections`),
      get<{ pins: Pin[] }>(`${r}/pins`),
    ])
    return { branches: b.branches, tags: t.tags, protections: pr.protections, pins: pins.pins }
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
        {({ branches, tags, protections, pins }) => (
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
                      <a href={href(['r', repo, 'reflog'], { ref: b.name })}>ref log</a> · <a href={href(['r', repo, 'runs'], { branch: b.name })}>gate runs</a>{' '}
                      {can(session, 'admin', repo, b.name) && (
                        <ConfirmButton
                          question={`Delete branch ${b.name}?`}
                          label="Delete"
                          onConfirm={() => act(() => del(`/repositories/${enc(repo)}/branches/${enc(b.name)}`))}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>Protection</h2>
            {protections.length ? (
              <table class="listing">
                <thead>
                  <tr>
                    <th scope="col">Branch or pattern</th>
                    <th scope="col">Rules</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {protections.map((p) => (
                    <tr key={p.branch}>
                      <td class="mono">{p.branch}</td>
                      <td>{describeRules(p.rules)}</td>
                      <td class="num">
                        {can(session, 'admin', repo, p.branch) && (
                          <ConfirmButton
                            question={`Remove the rules of ${p.branch}?`}
                            label="Unprotect"
                            onConfirm={() => act(() => del(`/repositories/${enc(repo)}/protections/${enc(p.branch)}`))}
                          />
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p class="notice">No protected branches.</p>
            )}
            {can(session, 'admin', repo) && (
              <ProtectForm onProtect={(name, rules) => act(() => put(`/repositories/${enc(repo)}/protections/${enc(name)}`, rules))} />
            )}
            {can(session, 'admin', repo) && (
              <p>
                <a href={href(['r', repo, 'gc'])}>Garbage collection: what a retention would remove (dry run)</a>
              </p>
            )}
            <h2>Pins</h2>
            {pins.length ? (
              <table class="listing">
                <thead>
                  <tr>
                    <th scope="col">Pin</th>
                    <th scope="col">Commit</th>
                    <th scope="col" class="wide">
                      Pinned from, by
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {pins.map((p) => (
                    <tr key={p.name}>
                      <td>{p.name}</td>
                      <td>
                        <a class="mono" href={href(['r', repo, 'commit', p.commit])}>
                          {shortId(p.commit)}
                        </a>
                      </td>
                      <td class="wide">
                        {p.ref} · {p.author} · {when(p.createdAt)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p class="notice">No pins: no training run depends on a commit here yet.</p>
            )}
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
                    <th scope="col">
                      <span class="sr-only">Actions</span>
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
                      <td class="num">
                        {can(session, 'admin', repo, t.name) && (
                          <ConfirmButton
                            question={`Delete tag ${t.name}?`}
                            label="Delete"
                            onConfirm={() => act(() => del(`/repositories/${enc(repo)}/tags/${enc(t.name)}`))}
                          />
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p class="notice">No tags.</p>
            )}
            {can(session, 'admin', repo) && (
              <form
                class="inline-form"
                aria-label="create a tag"
                onSubmit={(e) => {
                  e.preventDefault()
                  const form = e.target as HTMLFormElement
                  const d = new FormData(form)
                  void act(async () => {
                    await post(`/repositories/${enc(repo)}/tags`, { name: d.get('tag'), ref: d.get('at') })
                    form.reset()
                  })
                }}
              >
                <label>
                  New tag
                  <input name="tag" required spellcheck={false} autocomplete="off" />
                </label>
                <label>
                  at
                  <input name="at" required placeholder="main, a commit, main~3" spellcheck={false} autocomplete="off" />
                </label>
                <button type="submit">Create tag</button>
              </form>
            )}
          </>
        )}
      </Status>
    </section>
  )
}

interface Protection {
  readonly branch: string
  readonly rules: Record<string, boolean | number>
}
interface Pin {
  readonly name: string
  readonly commit: string
  readonly ref: string
  readonly author: string
  readonly createdAt: number
}

const put = (path: string, body: unknown) => request('PUT', apiUrl(path), body)

const RULE_LABELS: Record<string, string> = {
  directCommits: 'direct commits allowed',
  deletion: 'deletion allowed',
  reset: 'reset allowed',
  dismissStaleApprovals: 'stale approvals dismissed',
  requireMergeRequest: 'merge requests required',
  signedApprovals: 'signed approvals',
}

function describeRules(rules: Record<string, boolean | number>): string {
  const parts = Object.entries(RULE_LABELS)
    .filter(([k]) => rules[k] === true)
    .map(([, label]) => label)
  if (Number(rules.requiredApprovals) > 0) parts.unshift(`${rules.requiredApprovals} approval${rules.requiredApprovals === 1 ? '' : 's'} required`)
  return parts.join(', ') || 'no direct commits, no deletion, no reset'
}

/** Protect a branch or a pattern (`release-*`): the rules replace any it had. */
function ProtectForm({ onProtect }: { onProtect: (name: string, rules: Record<string, boolean | number>) => void }) {
  return (
    <form
      class="inline-form"
      aria-label="protect a branch"
      onSubmit={(e) => {
        e.preventDefault()
        const form = e.target as HTMLFormElement
        const d = new FormData(form)
        const rules: Record<string, boolean | number> = { requiredApprovals: Number(d.get('requiredApprovals') ?? 0) }
        for (const k of Object.keys(RULE_LABELS)) rules[k] = d.get(k) === 'on'
        onProtect(String(d.get('name')).trim(), rules)
        form.reset()
      }}
    >
      <label>
        Protect branch or pattern
        <input name="name" required placeholder="main or release-*" spellcheck={false} autocomplete="off" />
      </label>
      <label>
        Approvals required
        <input name="requiredApprovals" type="number" min={0} max={100} defaultValue="0" />
      </label>
      {(['dismissStaleApprovals', 'requireMergeRequest', 'directCommits'] as const).map((k) => (
        <label key={k} class="check">
          <input type="checkbox" name={k} />
          {RULE_LABELS[k]}
        </label>
      ))}
      <button type="submit">Protect</button>
    </form>
  )
}

/** A destructive button that asks first. */
function ConfirmButton({ question, label, onConfirm }: { question: string; label: string; onConfirm: () => void }) {
  return (
    <button type="button" class="danger" onClick={() => confirm(question) && onConfirm()}>
      {label}
    </button>
  )
}
