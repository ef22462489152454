import { useState } from 'preact/hooks'
import { enc, post } from '../api.js'
import { RepoNav } from '../components/repo-nav.js'

const LABELS: Record<string, string> = {
  scannedObjects: 'objects looked at',
  quarantinedObjects: 'objects it would collect',
  deletedObjects: 'objects it would delete for good now',
  deletedBytes: 'bytes it would free now',
  retainedCommits: 'commits kept (refs, pins, retention)',
  liveDataObjects: 'data objects still referred to',
  droppedStagingTokens: 'abandoned staging areas',
  removedTempFiles: 'temporary files of crashed writers',
  durationMs: 'dry run took (ms)',
}

/** What a garbage collection with a given retention would remove: a dry run (admins; `varve gc` collects). */
export function GcPage({ repo }: { repo: string }) {
  const [result, setResult] = useState<Record<string, unknown>>()
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const run = async (e: Event) => {
    e.preventDefault()
    const days = Number(new FormData(e.target as HTMLFormElement).get('retainDays'))
    setBusy(true)
    setError(undefined)
    try {
      setResult(await post<Record<string, unknown>>(`/repositories/${enc(repo)}/gc`, { dryRun: true, retainDays: days }))
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section>
      <RepoNav repo={repo} tab="branches" />
      <h2>Garbage collection</h2>
      <p class="notice">
        Data of commits younger than the retention stays restorable; what branches, tags, pins and staged changes reach is never collected. This page only
        counts (a dry run); <code>varve gc</code> collects.
      </p>
      <form class="inline-form" onSubmit={run} aria-label="garbage collection dry run">
        <label>
          Retention (days)
          <input name="retainDays" type="number" min={0} max={3650} step="any" defaultValue="7" required />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Counting…' : 'Dry run'}
        </button>
      </form>
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <dl class="facts gc-result">
          {Object.entries(LABELS)
            .filter(([k]) => typeof result[k] === 'number')
            .map(([k, label]) => (
              <>
                <dt key={`k-${k}`}>{label}</dt>
                <dd key={`v-${k}`}>{(result[k] as number).toLocaleString('en')}</dd>
              </>
            ))}
        </dl>
      )}
    </section>
  )
}
