import { diffLines } from 'diff'
import { useEffect, useState } from 'preact/hooks'
import { ApiError, enc, get, readRange, type ObjectEntry } from '../api.js'
import { bytes } from '../format.js'
import { useLoad } from '../load.js'
import { href } from '../router.js'

/** A text diff reads at most this much of each side (a range). */
const TEXT_BYTES = 256 * 1024
/** Row records a table diff page shows. */
const ROWS = 200
const IMAGES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' }

/** One path between two refs: rows for Parquet, side by side for images, lines for text. */
export function FileDiff({ repo, left, right, path }: { repo: string; left: string; right: string; path: string }) {
  const [sides] = useLoad(async () => {
    const stat = (ref: string) =>
      get<ObjectEntry>(`/repositories/${enc(repo)}/objects/stat`, { ref, path }).catch((err: unknown) =>
        err instanceof ApiError && err.code === 'NOT_FOUND' ? undefined : Promise.reject(err),
      )
    const [before, after] = await Promise.all([stat(left), stat(right)])
    return { before, after }
  }, [repo, left, right, path])
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase()
  return (
    <section class="file-diff" aria-label={`changes to ${path}`}>
      <h2 class="mono">
        {path} <a href={href(['r', repo, 'compare'], { left, right })}>(all changes)</a>
      </h2>
      {sides.state === 'done' ? (
        ext === 'parquet' || path.endsWith('/') ? (
          <RowDiff repo={repo} left={left} right={right} path={path} />
        ) : IMAGES[ext] ? (
          <ImageSides repo={repo} left={left} right={right} before={sides.value.before} after={sides.value.after} type={IMAGES[ext]} />
        ) : (
          <TextDiff repo={repo} left={left} right={right} before={sides.value.before} after={sides.value.after} />
        )
      ) : (
        <p class="notice">{sides.state === 'failed' ? sides.error.message : 'Loading…'}</p>
      )}
    </section>
  )
}

const readSide = async (repo: string, ref: string, e: ObjectEntry | undefined, limit: number) =>
  e && e.size > 0 ? readRange(repo, ref, e.path, 0, Math.min(e.size, limit)) : new Uint8Array(0)

function TextDiff({
  repo,
  left,
  right,
  before,
  after,
}: {
  repo: string
  left: string
  right: string
  before?: ObjectEntry | undefined
  after?: ObjectEntry | undefined
}) {
  const [parts] = useLoad(async () => {
    const [a, b] = await Promise.all([readSide(repo, left, before, TEXT_BYTES), readSide(repo, right, after, TEXT_BYTES)])
    const text = (u: Uint8Array) => new TextDecoder('utf-8', { fatal: false }).decode(u)
    return diffLines(text(a), text(b))
  }, [repo, left, right, before?.address, after?.address])
  const cut = (before?.size ?? 0) > TEXT_BYTES || (after?.size ?? 0) > TEXT_BYTES
  if (parts.state !== 'done') return <p class="notice">{parts.state === 'failed' ? parts.error.message : 'Loading…'}</p>
  return (
    <figure class="preview">
      <figcaption>
        Lines{cut ? ` (the first ${bytes(TEXT_BYTES)} of each side)` : ''}: <span class="added">+ added</span> <span class="removed">− removed</span>
      </figcaption>
      <pre class="text diff">
        {parts.value.map((p, i) => (
          <span key={i} class={p.added ? 'line-added' : p.removed ? 'line-removed' : 'line-same'}>
            {p.value
              .replace(/\n$/, '')
              .split('\n')
              .map((line) => `${p.added ? '+' : p.removed ? '−' : ' '} ${line}\n`)
              .join('')}
          </span>
        ))}
      </pre>
    </figure>
  )
}

function ImageSides({
  repo,
  left,
  right,
  before,
  after,
  type,
}: {
  repo: string
  left: string
  right: string
  before?: ObjectEntry | undefined
  after?: ObjectEntry | undefined
  type: string
}) {
  const [urls, setUrls] = useState<(string | undefined)[]>([])
  useEffect(() => {
    const made: string[] = []
    void Promise.all(
      [
        [left, before],
        [right, after],
      ].map(async ([ref, e]) => {
        const entry = e as ObjectEntry | undefined
        if (!entry || entry.size > 10 * 1024 * 1024) return undefined
        const url = URL.createObjectURL(new Blob([(await readSide(repo, ref as string, entry, entry.size)) as BlobPart], { type }))
        made.push(url)
        return url
      }),
    ).then(setUrls)
    return () => {
      for (const u of made) URL.revokeObjectURL(u)
    }
  }, [repo, left, right, before?.address, after?.address, type])
  return (
    <div class="sides">
      {(['before', 'after'] as const).map((side, i) => (
        <figure key={side} class="preview">
          <figcaption>{side === 'before' ? `Before (${left})` : `After (${right})`}</figcaption>
          {urls[i] ? (
            <img src={urls[i]} alt={`${side === 'before' ? 'Before' : 'After'}: ${i ? right : left}`} />
          ) : (
            <p class="notice">{(i ? after : before) ? '…' : 'Not there.'}</p>
          )}
        </figure>
      ))}
    </div>
  )
}

interface RowDiffAnswer {
  readonly schema?: {
    added: { name: string; type: string }[]
    removed: { name: string; type: string }[]
    changed: { name: string; before: string; after: string }[]
  }
  readonly rows: (
    | { type: 'added'; key: Record<string, unknown>; after: Record<string, unknown> }
    | { type: 'removed'; key: Record<string, unknown>; before: Record<string, unknown> }
    | { type: 'changed'; key: Record<string, unknown>; columns: string[]; before: Record<string, unknown>; after: Record<string, unknown> }
  )[]
  readonly summary?: { rows: { before: number; after: number }; added: number; removed: number; changed: number; unchanged: number }
  readonly truncated: boolean
}

/** Rows added, removed and changed between the two versions of a Parquet file (or folder of files), by key. */
function RowDiff({ repo, left, right, path }: { repo: string; left: string; right: string; path: string }) {
  // A key (the columns that identify a row), or '#' for row by row.
  const [key, setKey] = useState('')
  const [limit, setLimit] = useState(ROWS)
  const [answer] = useLoad(
    () =>
      key
        ? get<RowDiffAnswer>(`/repositories/${enc(repo)}/diff/rows`, {
            left,
            right,
            path,
            ...(key === '#' ? { positional: 'true' } : { key }),
            limit: String(limit),
          })
        : Promise.resolve(undefined),
    [repo, left, right, path, key, limit],
  )
  const cell = (v: unknown) => (v === null || v === undefined ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v))
  return (
    <>
      <form
        class="inline-form"
        aria-label="row diff key"
        onSubmit={(e) => {
          e.preventDefault()
          const d = new FormData(e.target as HTMLFormElement)
          setKey(d.get('positional') === 'on' ? '#' : String(d.get('key') ?? '').trim())
          setLimit(ROWS)
        }}
      >
        <label>
          Key columns (comma-separated: what identifies a row)
          <input name="key" placeholder="id" spellcheck={false} autocomplete="off" />
        </label>
        <label class="check">
          <input type="checkbox" name="positional" />
          no key: row by row
        </label>
        <button type="submit">Compare rows</button>
      </form>
      {answer.state === 'loading' && key && <p class="notice">Comparing rows…</p>}
      {answer.state === 'failed' && (
        <p class="notice error" role="alert">
          {answer.error.message}
        </p>
      )}
      {answer.state === 'done' && answer.value && (
        <>
          {answer.value.summary && (
            <p class="summary">
              {answer.value.summary.rows.before.toLocaleString('en')} → {answer.value.summary.rows.after.toLocaleString('en')} rows:{' '}
              <span class="added">{answer.value.summary.added} added</span>, <span class="removed">{answer.value.summary.removed} removed</span>,{' '}
              <span class="changed">{answer.value.summary.changed} changed</span>, {answer.value.summary.unchanged} unchanged
            </p>
          )}
          {answer.value.schema && answer.value.schema.added.length + answer.value.schema.removed.length + answer.value.schema.changed.length > 0 && (
            <ul class="schema-changes" aria-label="schema changes">
              {answer.value.schema.added.map((c) => (
                <li key={`a-${c.name}`} class="added">
                  column {c.name} added ({c.type})
                </li>
              ))}
              {answer.value.schema.removed.map((c) => (
                <li key={`r-${c.name}`} class="removed">
                  column {c.name} removed ({c.type})
                </li>
              ))}
              {answer.value.schema.changed.map((c) => (
                <li key={`c-${c.name}`} class="changed">
                  column {c.name}: {c.before} → {c.after}
                </li>
              ))}
            </ul>
          )}
          <table class="listing rows">
            <thead>
              <tr>
                <th scope="col">Change</th>
                <th scope="col">{key === '#' ? 'Row' : 'Key'}</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
              </tr>
            </thead>
            <tbody>
              {answer.value.rows.map((r, i) => (
                <tr key={i} class={`row-${r.type}`}>
                  <td>
                    <span class={`badge ${r.type}`}>{r.type}</span>
                  </td>
                  <td class="mono">{key === '#' ? `row ${cell(r.key.row)}` : Object.values(r.key).map(cell).join(', ')}</td>
                  <td class="mono">
                    {'before' in r
                      ? Object.entries(r.before)
                          .filter(([k]) => r.type !== 'changed' || r.columns.includes(k))
                          .map(([k, v]) => `${k}=${cell(v)}`)
                          .join(' ')
                      : ''}
                  </td>
                  <td class="mono">
                    {'after' in r
                      ? Object.entries(r.after)
                          .filter(([k]) => r.type !== 'changed' || r.columns.includes(k))
                          .map(([k, v]) => `${k}=${cell(v)}`)
                          .join(' ')
                      : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {answer.value.truncated && (
            <button type="button" onClick={() => setLimit((n) => n + ROWS)}>
              More rows
            </button>
          )}
        </>
      )}
    </>
  )
}
