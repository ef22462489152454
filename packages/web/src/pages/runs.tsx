import { enc, get, type HookRun } from '../api.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { shortId, when } from '../format.js'
import { useLoad } from '../load.js'
import { href } from '../router.js'

type Run = HookRun & { readonly branch: string; readonly candidate: string; readonly event: string; readonly startedAt: number }

/** Recent gate runs with what each found (which file, why), for one branch or all the key can read. */
export function RunsPage({ repo, branch }: { repo: string; branch: string | undefined }) {
  const [runs] = useLoad(() => get<{ runs: Run[] }>(`/repositories/${enc(repo)}/hook-runs`, { branch, limit: '100' }), [repo, branch])
  return (
    <section>
      <RepoNav repo={repo} tab="branches" />
      <h2>Gate runs{branch ? ` on ${branch}` : ''}</h2>
      <Status loaded={runs}>
        {(r) =>
          r.runs.length ? (
            <ul class="runs detailed">
              {r.runs.map((run) => (
                <li key={`${run.runId}-${run.hookId}`}>
                  <span class={`badge gate-${run.status}`}>{run.status}</span> <span class="mono">{run.hookId}</span> ({run.origin}) on {run.event} of{' '}
                  <a href={href(['r', repo, 'tree'], { ref: run.branch })}>{run.branch}</a> at{' '}
                  <a href={href(['r', repo, 'tree'], { ref: run.candidate })}>{shortId(run.candidate)}</a>
                  <span class="meta">
                    {' '}
                    · {when(run.startedAt)} · {run.durationMs} ms
                  </span>
                  {run.message && <p>{run.message}</p>}
                  {run.failures.length > 0 && (
                    <ul class="findings">
                      {run.failures.map((f, i) => (
                        <li key={i}>
                          {f.file && <span class="mono">{f.file}: </span>}
                          {f.reason}
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
            </ul>
          ) : (
            <p class="notice">No gate runs recorded.</p>
          )
        }
      </Status>
    </section>
  )
}
