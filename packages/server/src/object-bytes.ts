import type { ServerResponse } from 'node:http'

// How the server sends an object's bytes, over S3 and over the JSON API alike: inert headers (no
// script in an object ever runs on this origin), byte ranges, and a write loop that keeps up with
// the reader.

/** Types a browser renders actively (scripts run in them): downloaded, never shown inline, unless asked for. */
const ACTIVE_TYPES =
  /^\s*(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|[^;]*javascript|[^;]*ecmascript|application\/pdf|text\/xsl)\b/i

/**
 * Objects are data anyone with write access chose, served on the API's origin (and, one day, a web
 * UI's): whatever their type, no script in them may run there (lakeFS GHSA-9phh). The sandbox CSP
 * disables scripts even where a client asked for `response-content-type: text/html` or inline display.
 */
export function inertContentHeaders(contentType: string, disposition: string | undefined): Record<string, string> {
  return {
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    ...(disposition === undefined && ACTIVE_TYPES.test(contentType) ? { 'Content-Disposition': 'attachment' } : {}),
  }
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → [start, end); undefined for none (or a form S3 ignores). */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (!header) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    const n = Number(m[2])
    if (n === 0) return 'unsatisfiable'
    return [Math.max(0, size - n), size]
  }
  const start = Number(m[1])
  if (start >= size) return 'unsatisfiable'
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (last < start) return undefined
  return [start, last + 1]
}

/**
 * Writes chunks the reader reuses (each valid until the one after next is asked for): the next chunk
 * is read while the current one is being written, and asked for only once the one before is flushed
 * to the socket. A client gone mid-body fails the write, which stops the read (closing the file).
 */
export async function writeOut(chunks: AsyncIterable<Uint8Array>, res: ServerResponse): Promise<void> {
  let gone: (err: Error) => void = () => {}
  const closed = new Promise<never>((_, reject) => (gone = reject))
  closed.catch(() => {})
  const onClose = () => gone(new Error('the client closed the connection'))
  res.once('close', onClose)
  const it = chunks[Symbol.asyncIterator]()
  let writing: Promise<void> | undefined
  try {
    for (;;) {
      const next = await it.next() // overlaps the write of the chunk before
      if (writing) await Promise.race([closed, writing])
      if (next.done) break
      if (res.destroyed) throw new Error('the client closed the connection')
      if (!(next.value.buffer instanceof SharedArrayBuffer)) {
        // A chunk of its own (a store that streams fresh buffers, as S3's socket reads): written
        // without waiting for it to be flushed, waiting only when the socket's buffer is full. Waiting
        // for every 16-64 KiB socket chunk to flush halved an S3 repository's GET.
        writing = res.write(next.value) ? undefined : new Promise<void>((resolve) => res.once('drain', resolve))
        continue
      }
      writing = new Promise<void>((resolve, reject) => res.write(next.value, (err) => (err ? reject(err) : resolve())))
      writing.catch(() => {}) // raced above, or dropped when the read fails
    }
    res.end()
  } catch (err) {
    await it.return?.()
    throw err
  } finally {
    res.off('close', onClose)
  }
}
