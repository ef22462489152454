import { useState } from 'preact/hooks'
import { del, enc, get, post, type Conflict, type MergeRequest } from '../api.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { shortId, when } from '../format.js'
import { can } from '../grants.js'
import { useLoad } from '../load.js'
import { href } from '../router.js'
import { useLoggedIn } from '../session.js'
import { ChangeList } from './commit.js'

/**
 * One merge request as a reviewer needs it: the change, the destination's gates run on it now (which
 * rule, which file, why), approvals (required, counted, stale), comments, conflicts with a choice
 * per path, and merge or close.
 */
export function MergeRequestPage({ repo, id }: { repo: string; id: string }) {
  const session = useLoggedIn()
  const base = `/repositories/${enc(repo)}/merge-requests/${enc(id)}`
  const [request, reload] = useLoad(() => get<MergeRequest>(base), [repo, id])
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  // A choice per conflicting path: which side's version the merge keeps.
  const [choices, setChoices] = useState<Record<string, 'source' | 'dest'>>({})
  const act = async (what: () => Promise<unknown>) => {
    setError(undefined)
    setBusy(true)
    try {
      await what()
      reload()
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section>
      <RepoNav repo={repo} tab="merge-requests" />
      <Status loaded={request}>
        {(r) => {
          const open = r.state === 'open'
          const conflicts = r.conflicts ?? []
          const unresolved = conflicts.filter((c) => !choices[c.path])
          const mine = r.approvals.some((a) => a.reviewer === session.accessKey)
          const resolve = conflicts.filter((c) => choices[c.path]).map((c) => ({ paths: c.path, take: choices[c.path]! }))
          return (
            <>
              <h2 class="request-title">
                #{r.id} {r.title} <span class={`badge state-${r.state}`}>{r.state}</span>
              </h2>
              <p class="meta">
                <a href={href(['r', repo, 'tree'], { ref: r.source })}>{r.source}</a> into <a href={href(['r', repo, 'tree'], { ref: r.dest })}>{r.dest}</a>,
                opened by {r.author} {when(r.createdAt)}
                {r.merged && (
                  <>
                    {' '}
                    · merged by {r.merged.by} as <a href={href(['r', repo, 'commit', r.merged.commit])}>{shortId(r.merged.commit)}</a>
                  </>
                )}
                {r.closed && ` · closed by ${r.closed.by}`}
              </p>
              {r.description && <p class="description">{r.description}</p>}
              {error && (
                <p class="notice error" role="alert">
                  {error}
                </p>
              )}
              {open && <Blockers r={r} />}

              {r.gates && (
                <section aria-labelledby="gates">
                  <h3 id="gates">
                    Gates: <span class={`gate-${r.gates.status}`}>{r.gates.status}</span>
                  </h3>
                  {r.gates.reason && <p class="notice">{r.gates.reason}</p>}
                  {r.gates.failures?.length ? (
                    <table class="listing failures">
                      <thead>
                        <tr>
                          <th scope="col">Rule</th>
                          <th scope="col">File</th>
                          <th scope="col">Why</th>
                        </tr>
                      </thead>
                      <tbody>
                        {r.gates.failures.map((f, i) => (
                          <tr key={`${f.hookId}-${f.file}-${i}`}>
                            <td class="mono">{f.hookId}</td>
                            <td>{f.file ? <a href={href(['r', repo, 'object'], { ref: r.source, path: f.file })}>{f.file}</a> : ''}</td>
                            <td>{f.reason}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : null}
                  {r.gates.runs?.length ? (
                    <ul class="runs">
                      {r.gates.runs.map((run) => (
                        <li key={run.runId + run.hookId}>
                          <span class={`badge gate-${run.status}`}>{run.status}</span> <span class="mono">{run.hookId}</span> {run.message}{' '}
                          <span class="meta">({run.durationMs} ms)</span>
                        </li>
                      ))}
                    </ul>
                  ) : null}
                </section>
              )}

              {r.approval && (
                <section aria-labelledby="approvals">
                  <h3 id="approvals">
                    Approvals: {r.approval.counted.length} of {r.approval.required} required
                    {r.approval.satisfied ? ' ✓' : ''}
                  </h3>
                  <ul class="approvals">
                    {r.approvals.map((a) => (
                      <li key={a.reviewer}>
                        {a.reviewer} <span class="meta">approved {shortId(a.sourceHead)}</span>
                        {r.approval?.stale.includes(a.reviewer) && <span class="badge stale">stale: the source changed since</span>}
                        {r.approval?.rejected?.find((x) => x.reviewer === a.reviewer) && (
                          <span class="badge removed">{r.approval.rejected.find((x) => x.reviewer === a.reviewer)!.reason}</span>
                        )}
                      </li>
                    ))}
                    {!r.approvals.length && <li class="notice">No approvals yet.</li>}
                  </ul>
                  {open &&
                    can(session, 'approve', repo, r.dest) &&
                    (mine ? (
                      <button type="button" disabled={busy} onClick={() => act(() => del(`${base}/approvals`))}>
                        Withdraw my approval
                      </button>
                    ) : (
                      <button type="button" disabled={busy} onClick={() => act(() => post(`${base}/approvals`, { head: r.sourceHead ?? undefined }))}>
                        Approve
                      </button>
                    ))}
                </section>
              )}

              {open && conflicts.length > 0 && (
                <section aria-labelledby="conflicts">
                  <h3 id="conflicts">Conflicts: choose a side for each path</h3>
                  <ConflictChoices conflicts={conflicts} choices={choices} onChoose={(path, side) => setChoices((c) => ({ ...c, [path]: side }))} />
                </section>
              )}

              {open && (
                <div class="actions">
                  {can(session, 'commit', repo, r.dest) && (
                    <button
                      type="submit"
                      disabled={busy || unresolved.length > 0}
                      title={unresolved.length ? 'choose a side for every conflict first' : undefined}
                      onClick={() => act(() => post(`${base}/merge`, resolve.length ? { resolve } : {}))}
                    >
                      Merge into {r.dest}
                    </button>
                  )}
                  {(r.author === session.accessKey || can(session, 'commit', repo, r.dest)) && (
                    <button type="button" class="danger" disabled={busy} onClick={() => act(() => post(`${base}/close`, {}))}>
                      Close
                    </button>
                  )}
                </div>
              )}

              {r.changes && (
                <section aria-labelledby="changes">
                  <h3 id="changes" class="sr-only">
                    Changes
                  </h3>
                  <ChangeList repo={repo} refName={r.source} changes={[...r.changes.paths]} truncated={r.changes.truncated} />
                </section>
              )}

              <Comments r={r} busy={busy} onComment={(text, path) => act(() => post(`${base}/comments`, { text, ...(path ? { path } : {}) }))} />
            </>
          )
        }}
      </Status>
    </section>
  )
}

function Blockers({ r }: { r: MergeRequest }) {
  if (r.mergeable) return <p class="notice ok">Ready to merge.</p>
  if (!r.blockers?.length) return null
  return (
    <ul class="blockers" aria-label="what stops the merge">
      {r.blockers.map((b) => (
        <li key={b}>{b}</li>
      ))}
    </ul>
  )
}

/** A radio pair per conflicting path: the choices become the merge's `resolve` rules. */
export function ConflictChoices({
  conflicts,
  choices,
  onChoose,
}: {
  conflicts: readonly Conflict[]
  choices: Record<string, 'source' | 'dest'>
  onChoose: (path: string, side: 'source' | 'dest') => void
}) {
  return (
    <table class="listing conflicts">
      <thead>
        <tr>
          <th scope="col">Path</th>
          <th scope="col">Source did</th>
          <th scope="col">Destination did</th>
          <th scope="col">Keep</th>
        </tr>
      </thead>
      <tbody>
        {conflicts.map((c) => (
          <tr key={c.path}>
            <td class="mono">{c.path}</td>
            <td>
              {c.source}
              {c.rows?.source !== undefined ? ` (${c.rows.source} rows)` : ''}
            </td>
            <td>
              {c.dest}
              {c.rows?.dest !== undefined ? ` (${c.rows.dest} rows)` : ''}
            </td>
            <td>
              <fieldset class="choice">
                <legend class="sr-only">Keep for {c.path}</legend>
                {(['source', 'dest'] as const).map((side) => (
                  <label key={side}>
                    <input type="radio" name={`keep-${c.path}`} value={side} checked={choices[c.path] === side} onChange={() => onChoose(c.path, side)} />
                    {side === 'source' ? 'source' : 'destination'}
                  </label>
                ))}
              </fieldset>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Comments({ r, busy, onComment }: { r: MergeRequest; busy: boolean; onComment: (text: string, path?: string) => void }) {
  const submit = (e: Event) => {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const data = new FormData(form)
    onComment(String(data.get('text')), String(data.get('path') ?? '') || undefined)
    form.reset()
  }
  return (
    <section aria-labelledby="comments">
      <h3 id="comments">Comments</h3>
      <ul class="comments">
        {r.comments.map((c) => (
          <li key={c.id}>
            <span class="meta">
              {c.author} · {when(c.at)}
              {c.path ? ` · on ${c.path}` : ''}
            </span>
            <p>{c.text}</p>
          </li>
        ))}
        {!r.comments.length && <li class="notice">No comments yet.</li>}
      </ul>
      <form class="stacked" onSubmit={submit} aria-label="add a comment">
        <label>
          Comment
          <textarea name="text" required rows={3} />
        </label>
        <label>
          On a path (optional)
          <input name="path" list="request-paths" spellcheck={false} autocomplete="off" />
        </label>
        <datalist id="request-paths">
          {r.changes?.paths.map((p) => (
            <option key={p.path} value={p.path} />
          ))}
        </datalist>
        <button type="submit" disabled={busy}>
          Comment
        </button>
      </form>
    </section>
  )
}
