import type { Entry, ListItem } from '@varve/core'
import { inertContentHeaders, parseRange, writeOut } from '../object-bytes.js'
import { ApiError, limitOf, readRef, repoOf, route, SENT, str, type ApiRequest } from './api-kit.js'

// Objects over the JSON API: a listing a page at a time, an object's entry, and its bytes (for a
// browser, which cannot sign S3 requests without holding the secret).

/** An entry as the API shows it (a locator of an imported object included, never a credential). */
const shown = (e: Entry) => ({
  path: e.path,
  address: e.address,
  size: e.size,
  lastModified: e.lastModified,
  ...(e.contentType ? { contentType: e.contentType } : {}),
  ...(e.metadata ? { metadata: e.metadata } : {}),
  ...(e.pack ? { pack: e.pack, offset: e.offset } : {}),
  ...(e.external ? { external: e.external } : {}),
})

/** Reads `ref` and `path` from the query, after checking the key may read the ref. */
function target(a: ApiRequest, repo: string): { ref: string; path: string } {
  const ref = readRef(a, repo)
  return { ref, path: str(a.query.get('path') ?? undefined, 'path')! }
}

/** Registers the object routes. */
export function registerObjectRoutes(): void {
  route('GET', '/repositories/{repo}/objects', async (a, p) => {
    const ref = readRef(a, p.repo!)
    const prefix = a.query.get('prefix') ?? ''
    const delimiter = a.query.get('delimiter') ?? undefined
    if (delimiter !== undefined && delimiter !== '/') throw new ApiError(400, 'INVALID_ARGUMENT', 'delimiter must be /')
    // A page that ended on a folder goes on after everything under it (as the S3 listing's continuation).
    const given = a.query.get('after') ?? undefined
    const after = given !== undefined && delimiter && given.endsWith(delimiter) ? `${given}\u{10FFFF}` : given
    const limit = limitOf(a.query, 1000, 10_000)
    const repo = await repoOf(a, p.repo!)
    const objects: ReturnType<typeof shown>[] = []
    const prefixes: string[] = []
    let last: string | undefined
    let truncated = false
    // One more than asked for says whether there is a next page; `next` is the last path given.
    for await (const item of repo.list(ref, {
      prefix,
      ...(after ? { after } : {}),
      ...(delimiter ? { delimiter } : {}),
      limit: limit + 1,
    }) as AsyncIterable<ListItem>) {
      if (objects.length + prefixes.length === limit) {
        truncated = true
        break
      }
      if (item.type === 'prefix') prefixes.push(item.path)
      else objects.push(shown(item))
      last = item.path
    }
    return { objects, prefixes, truncated, ...(truncated && last !== undefined ? { next: last } : {}) }
  })

  // A link that reads the object through the gateway's S3 API for a while, signed with the caller's
  // own key (so it carries exactly that key's grants). The path must exist at the ref now.
  route('GET', '/repositories/{repo}/objects/presign', async (a, p) => {
    const { ref, path } = target(a, p.repo!)
    const expires = a.query.get('expires') === null ? 3600 : Number(a.query.get('expires'))
    if (!Number.isInteger(expires) || expires < 1 || expires > 7 * 24 * 3600) throw new ApiError(400, 'INVALID_ARGUMENT', 'expires is 1 to 604800 seconds')
    if (!a.presign) throw new ApiError(403, 'PERMISSION_DENIED', 'a presigned link is signed with an access key: anonymous callers have none')
    await (await repoOf(a, p.repo!)).stat(ref, path)
    return { url: await a.presign(p.repo!, `${ref}/${path}`, expires), expiresAt: new Date(Date.now() + expires * 1000).toISOString() }
  })

  route('GET', '/repositories/{repo}/objects/stat', async (a, p) => {
    const { ref, path } = target(a, p.repo!)
    return shown(await (await repoOf(a, p.repo!)).stat(ref, path))
  })

  // The bytes, with Range (previews read a Parquet footer, DuckDB-WASM reads by range). Never shown
  // as a page of this origin: an attachment, sniffing off, and a sandbox policy whatever the type.
  const content = async (a: ApiRequest, p: Record<string, string>) => {
    const { ref, path } = target(a, p.repo!)
    const repo = await repoOf(a, p.repo!)
    const entry = await repo.stat(ref, path)
    const name = path.slice(path.lastIndexOf('/') + 1) || 'object'
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      'Accept-Ranges': 'bytes',
      ETag: `"${entry.address}"`,
      'Cache-Control': 'private, no-cache',
      ...inertContentHeaders('application/octet-stream', 'attachment'),
    }
    const range = parseRange(a.req.headers.range, entry.size)
    if (range === 'unsatisfiable') throw new ApiError(416, 'INVALID_ARGUMENT', `the range is outside the object (${entry.size} bytes)`, { size: entry.size })
    const [start, end] = range ?? [0, entry.size]
    headers['Content-Length'] = String(end - start)
    if (range) headers['Content-Range'] = `bytes ${start}-${end - 1}/${entry.size}`
    a.res.writeHead(range ? 206 : 200, headers)
    if (end === start || a.req.method === 'HEAD') a.res.end()
    else await writeOut(repo.readEntry(entry, { start, end, reuseBuffers: true }), a.res)
    return SENT
  }
  route('GET', '/repositories/{repo}/objects/content', content)
  // (DuckDB-WASM asks for the size with a HEAD before it reads by range)
  route('HEAD', '/repositories/{repo}/objects/content', content)
}
