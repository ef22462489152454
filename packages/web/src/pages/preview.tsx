import { useEffect, useState } from 'preact/hooks'
import { readRange, type ObjectEntry } from '../api.js'
import { bytes } from '../format.js'
import { useLoad } from '../load.js'
import { TablePreview } from './table-preview.js'

/** A text preview reads at most this much (a range): a large file is never downloaded whole to be shown. */
const TEXT_BYTES = 64 * 1024
/** Images up to this size are shown. */
const IMAGE_BYTES = 10 * 1024 * 1024

const TEXT = /\.(txt|csv|tsv|json|jsonl|ndjson|ya?ml|md|markdown|log|py|ts|js|sql|toml|ini|cfg|xml|html?|svg|sh|r|rs|go|java|c|h|cpp)$/i
const IMAGES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif' }

/**
 * What the object looks like: text (HTML and SVG too, as text: never rendered on this origin) from
 * its first bytes, or an image (raster types only) through a blob of the declared image type.
 */
export function Preview({ repo, refName, entry }: { repo: string; refName: string; entry: ObjectEntry }) {
  if (entry.size === 0) return <p class="notice">An empty file.</p>
  const ext = entry.path.slice(entry.path.lastIndexOf('.') + 1).toLowerCase()
  if (ext === 'parquet' || ext === 'csv' || ext === 'tsv') return <TablePreview repo={repo} refName={refName} entry={entry} />
  if (ext === 'md' || ext === 'markdown') return <MarkdownPreview repo={repo} refName={refName} entry={entry} />
  if (IMAGES[ext]) return <ImagePreview repo={repo} refName={refName} entry={entry} type={IMAGES[ext]} />
  if (TEXT.test(entry.path)) return <TextPreview repo={repo} refName={refName} entry={entry} />
  return <p class="notice">No preview for this kind of file.</p>
}

function TextPreview({ repo, refName, entry }: { repo: string; refName: string; entry: ObjectEntry }) {
  const [text] = useLoad(async () => {
    if (entry.size === 0) return ''
    const head = await readRange(repo, refName, entry.path, 0, Math.min(entry.size, TEXT_BYTES))
    return new TextDecoder('utf-8', { fatal: false }).decode(head)
  }, [repo, refName, entry.path, entry.address])
  return (
    <figure class="preview">
      <figcaption>Preview{entry.size > TEXT_BYTES ? ` (the first ${bytes(TEXT_BYTES)} of ${bytes(entry.size)})` : ''}</figcaption>
      {text.state === 'done' ? <pre class="text">{text.value}</pre> : <p class="notice">{text.state === 'failed' ? text.error.message : 'Loading…'}</p>}
    </figure>
  )
}

function ImagePreview({ repo, refName, entry, type }: { repo: string; refName: string; entry: ObjectEntry; type: string }) {
  const [url, setUrl] = useState<string>()
  const [error, setError] = useState<string>()
  useEffect(() => {
    if (entry.size > IMAGE_BYTES) return
    let made: string | undefined
    readRange(repo, refName, entry.path, 0, entry.size).then(
      (b) => setUrl((made = URL.createObjectURL(new Blob([b as BlobPart], { type })))),
      (err: Error) => setError(err.message),
    )
    return () => {
      if (made) URL.revokeObjectURL(made)
    }
  }, [repo, refName, entry.path, entry.address, entry.size, type])
  if (entry.size > IMAGE_BYTES) return <p class="notice">The image is larger than {bytes(IMAGE_BYTES)}: download it to see it.</p>
  if (error) return <p class="notice error">{error}</p>
  return <figure class="preview">{url ? <img src={url} alt={entry.path} /> : <p class="notice">Loading…</p>}</figure>
}

/** Markdown rendered (raw HTML in it shown as text), from the file's first bytes. */
function MarkdownPreview({ repo, refName, entry }: { repo: string; refName: string; entry: ObjectEntry }) {
  const [html] = useLoad(async () => {
    const [{ renderMarkdown }, head] = await Promise.all([
      import('../markdown.js'),
      readRange(repo, refName, entry.path, 0, Math.min(entry.size, TEXT_BYTES * 4)),
    ])
    return renderMarkdown(new TextDecoder().decode(head))
  }, [repo, refName, entry.path, entry.address])
  if (html.state !== 'done') return <p class="notice">{html.state === 'failed' ? html.error.message : 'Loading…'}</p>
  return (
    <article class="readme" aria-label={`${entry.path}, rendered`}>
      {/* (renderMarkdown escapes raw HTML and unsafe links; the page's policy runs no inline script) */}
      <div dangerouslySetInnerHTML={{ __html: html.value }} />
    </article>
  )
}
