import { inertContentHeaders, parseRange, writeOut } from '../object-bytes.js'
import { randomBytes } from 'node:crypto'
import { mkdir, open, rm } from 'node:fs/promises'
import type { IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { localFiles, VarveError, type Entry, type PutOptions, type Repository } from '@varve/core'
import { invalidArgument, noSuchKey, S3Error, s3ErrorOf } from '../errors.js'
import { objectBody, smallBody } from './body.js'
import { mustBeBranch, need, refPathOf, repositoryOf, type S3Request } from './context.js'
import { metadataFromHeaders, metadataHeaders } from './metadata.js'
import { LandingFile } from './landing-file.js'
import { uploadRootFor } from './local-multipart.js'
import { isStoreUrl } from '../config.js'
import { declaredSize } from './multipart-common.js'
import { etagOf, sendEmpty, sendXml } from './respond.js'
import { parseXml, s3Xml } from './xml.js'

const httpDate = (ms: number) => new Date(ms).toUTCString()
const SMALL_BODY = 1024 * 1024
const isoDate = (ms: number) => new Date(ms).toISOString()

/** GetObject and HeadObject: Range, conditional headers, ETag = content address, user metadata. */
export async function getObject(r: S3Request, head: boolean): Promise<void> {
  const repo = await repositoryOf(r)
  const { ref, path } = await refPathOf(r, repo)
  need(r, 'read', ref)
  let entry: Entry
  try {
    entry = await repo.stat(ref, path)
  } catch (err) {
    throw VarveError.is(err, 'NOT_FOUND') || VarveError.is(err, 'INVALID_PATH') ? noSuchKey(r.key!) : s3ErrorOf(err, r.key)
  }
  const etag = etagOf(entry.address)
  const headers: Record<string, string> = {
    ETag: etag,
    'Last-Modified': httpDate(entry.lastModified),
    'Accept-Ranges': 'bytes',
    'Content-Type': r.query.get('response-content-type') ?? entry.contentType ?? 'application/octet-stream',
    'x-amz-request-id': r.requestId,
    ...metadataHeaders(entry.metadata),
  }
  for (const [q, h] of [
    ['response-content-disposition', 'Content-Disposition'],
    ['response-cache-control', 'Cache-Control'],
    ['response-content-encoding', 'Content-Encoding'],
    ['response-content-language', 'Content-Language'],
    ['response-expires', 'Expires'],
  ] as const) {
    const v = r.query.get(q)
    if (v !== null) headers[h] = v
  }
  Object.assign(headers, inertContentHeaders(headers['Content-Type']!, headers['Content-Disposition']))
  const status = preconditions(r, entry, etag)
  if (status === 304) return sendEmpty(r.res, 304, { ETag: etag, 'Last-Modified': headers['Last-Modified']! })
  if (status === 412) throw new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold')
  const range = parseRange(r.req.headers.range, entry.size)
  if (range === 'unsatisfiable') {
    throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', { ActualObjectSize: String(entry.size) })
  }
  const [start, end] = range ?? [0, entry.size]
  if (!head && end > start && (await redirected(r, repo, entry, etag))) return
  headers['Content-Length'] = String(end - start)
  if (range) headers['Content-Range'] = `bytes ${start}-${end - 1}/${entry.size}`
  if (head || end === start) {
    r.res.writeHead(range ? 206 : 200, headers)
    return void r.res.end()
  }
  if (end - start <= SMALL_BODY) {
    const body = repo.streamEntry(entry, { start, end })
    // A small body is read whole before the status is sent: a corrupt object is then an error
    // response, not a cut connection, and one write replaces a stream pipeline per request.
    const parts: Buffer[] = []
    for await (const chunk of body) parts.push(chunk as Buffer)
    r.res.writeHead(range ? 206 : 200, headers)
    return void r.res.end(parts.length === 1 ? parts[0] : Buffer.concat(parts))
  }
  r.res.writeHead(range ? 206 : 200, headers)
  await writeOut(repo.readEntry(entry, { start, end, reuseBuffers: true }), r.res)
}

/**
 * `reads: redirect`: answers 307 to a presigned URL of the stored object, so the client reads it from
 * the bucket and the gateway serves only metadata. Not for small objects (a round trip costs more
 * than proxying them), packed ones (their URL would need a Range the client does not send),
 * `response-*` overrides (the bucket would not apply them), or clients known not to follow a redirect.
 */
async function redirected(r: S3Request, repo: Repository, entry: Entry, etag: string): Promise<boolean> {
  const served = r.config.repositories.find((x) => x.name === r.bucket)
  if (served?.reads !== 'redirect' || entry.size < r.config.redirectMinBytes || entry.pack !== undefined) return false
  if ([...r.query.keys()].some((k) => k.startsWith('response-')) || !followsRedirects(r.req.headers)) return false
  const signed = await repo.presignEntry(entry, { expiresSeconds: r.config.redirectSeconds })
  if (!signed || signed.range) return false
  r.res.writeHead(307, { Location: signed.url, ETag: etag, 'Cache-Control': 'no-store', 'Content-Length': '0', 'x-amz-request-id': r.requestId })
  r.res.end()
  return true
}

/**
 * Clients seen to follow a GetObject's 307 to the bucket correctly (test/serve-redirect.test.ts):
 * pyarrow (the AWS C++ SDK) and polars (object_store). Everything else is proxied: boto3, s3fs, the
 * AWS CLI and the JS SDK report a 307 as an error, and DuckDB's httpfs follows it but sends the
 * gateway's Authorization header on to the bucket, which refuses the request (SignatureDoesNotMatch).
 * A client may ask with `x-varve-redirect: allow`.
 */
const FOLLOWS_REDIRECTS: readonly RegExp[] = [/^aws-sdk-cpp\//, /^polars\//]

export function followsRedirects(headers: IncomingHttpHeaders): boolean {
  if (headers['x-varve-redirect'] === 'allow') return true
  const ua = headers['user-agent'] ?? ''
  return FOLLOWS_REDIRECTS.some((re) => re.test(ua))
}

/** 304, 412, or undefined (serve it), as S3 orders If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since. */
function preconditions(r: S3Request, entry: Entry, etag: string): 304 | 412 | undefined {
  const h = r.req.headers
  const matches = (list: string) => list.split(',').some((t) => t.trim() === '*' || t.trim() === etag || t.trim() === entry.address)
  const since = (v: string | undefined) => (v ? Date.parse(v) : NaN)
  const modified = Math.floor(entry.lastModified / 1000) * 1000
  if (h['if-match'] !== undefined) {
    if (!matches(h['if-match'])) return 412
  } else if (!Number.isNaN(since(h['if-unmodified-since'])) && modified > since(h['if-unmodified-since'])) return 412
  if (h['if-none-match'] !== undefined) {
    if (matches(h['if-none-match'])) return 304
  } else if (!Number.isNaN(since(h['if-modified-since'])) && modified <= since(h['if-modified-since'])) return 304
  return undefined
}

/** PutObject: streams the body into `repo.put` on a branch (staged); CopyObject when x-amz-copy-source says so. */
export async function putObject(r: S3Request): Promise<void> {
  if (r.req.headers['x-amz-copy-source'] !== undefined) return copyObject(r)
  const repo = await repositoryOf(r)
  const { ref, path } = await refPathOf(r, repo)
  need(r, 'write', ref)
  await mustBeBranch(repo, ref)
  // Conditional writes are checked atomically against the branch (staged and committed) and every
  // other conditional write to it, from any gateway instance: delta-rs commits its log this way.
  const ifNoneMatch = r.req.headers['if-none-match']
  const ifMatch = r.req.headers['if-match']
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') throw new S3Error('NotImplemented', 501, 'If-None-Match on PutObject takes * only')
  const metadata = metadataFromHeaders(r.req)
  const contentType = r.req.headers['content-type']
  const options = {
    ...(metadata ? { metadata } : {}),
    ...(contentType ? { contentType } : {}),
    ...(ifNoneMatch === '*' ? { ifNoneMatch: '*' as const } : {}),
    ...(ifMatch !== undefined ? { ifMatch: String(ifMatch) } : {}),
  }
  const size = declaredSize(r)
  const landing = size !== undefined && size >= LANDED_PUT && localUploadRoot(r)
  const entry = landing ? await putLanded(r, repo, ref, path, landing, options) : await repo.put(ref, path, objectBody(r.req, r.verified), options)
  sendEmpty(r.res, 200, { ETag: etagOf(entry.address), 'x-amz-request-id': r.requestId })
}

/** A PutObject at least this large to a local repository lands in a file first (see LandingFile). */
const LANDED_PUT = 8 * 1024 * 1024

/** The upload folder on a local repository's disk, or false (S3 repositories stream to their store). */
function localUploadRoot(r: S3Request): string | false {
  const served = r.config.repositories.find((x) => x.name === r.bucket)
  if (!served || isStoreUrl(served.location)) return false
  return uploadRootFor(r.config, r.bucket!)
}

async function putLanded(r: S3Request, repo: Repository, ref: string, path: string, root: string, options: PutOptions): Promise<Entry> {
  // A folder named like an upload's, so an interrupted PUT's file expires with abandoned uploads.
  const dir = join(root, randomBytes(16).toString('hex'))
  await mkdir(dir, { recursive: true })
  const landing = new LandingFile(join(dir, 'data'))
  const putting = repo.put(ref, path, localFiles(landing.ranges(), { adopt: true }), options)
  // A put refused before the body is in (a protected branch, a failed condition) stops the body.
  const refused = new AbortController()
  putting.catch(() => refused.abort())
  try {
    const fh = await open(landing.file, 'wx')
    try {
      // Each batch of chunks in one writev, and handed on once written.
      const sink = new Writable({
        highWaterMark: 4 * 1024 * 1024,
        writev(chunks, done) {
          const buffers = chunks.map((c) => c.chunk as Buffer)
          const total = buffers.reduce((n, b) => n + b.byteLength, 0)
          fh.writev(buffers).then(({ bytesWritten }) => {
            if (bytesWritten !== total) return done(new Error(`short write to ${landing.file}: ${bytesWritten} of ${total} bytes`))
            landing.grew(bytesWritten)
            done()
          }, done)
        },
      })
      await pipeline(objectBody(r.req, r.verified), sink, { signal: refused.signal }).catch(async (err) => {
        if (refused.signal.aborted) await putting // the put's own error is the answer
        throw err
      })
    } finally {
      await fh.close()
    }
    landing.end()
  } catch (err) {
    landing.fail(err)
    await putting.catch(() => {})
    throw err
  } finally {
    void putting
      .finally(async () => {
        await landing.settled()
        await rm(dir, { recursive: true, force: true })
      })
      .catch(() => {})
  }
  return putting
}

/** CopyObject within a repository: the new entry names the same stored data (nothing is copied). */
async function copyObject(r: S3Request): Promise<void> {
  const repo = await repositoryOf(r)
  const { ref, path } = await refPathOf(r, repo)
  const source = decodeCopySource(String(r.req.headers['x-amz-copy-source']))
  if (source.bucket !== r.bucket) throw new S3Error('NotImplemented', 501, 'CopyObject copies within one repository (bucket) only')
  const from = await refPathOf(r, repo, source.key)
  need(r, 'read', from.ref)
  need(r, 'write', ref)
  await mustBeBranch(repo, ref)
  const replace = String(r.req.headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase() === 'REPLACE'
  const metadata = replace ? metadataFromHeaders(r.req) : undefined
  const contentType = replace ? r.req.headers['content-type'] : undefined
  let entry: Entry
  try {
    entry = await repo.copy(from.ref, from.path, ref, path, { ...(replace ? { metadata: metadata ?? {} } : {}), ...(contentType ? { contentType } : {}) })
  } catch (err) {
    throw VarveError.is(err, 'NOT_FOUND') ? noSuchKey(source.key) : err
  }
  sendXml(r.res, 200, s3Xml('CopyObjectResult', { ETag: etagOf(entry.address), LastModified: isoDate(entry.lastModified) }), {
    'x-amz-request-id': r.requestId,
  })
}

function decodeCopySource(header: string): { bucket: string; key: string } {
  const raw = header.split('?')[0]!.replace(/^\//, '')
  let text: string
  try {
    text = decodeURIComponent(raw)
  } catch {
    throw invalidArgument('x-amz-copy-source is not URL-encoded correctly')
  }
  const slash = text.indexOf('/')
  if (slash <= 0) throw invalidArgument('x-amz-copy-source must be bucket/key')
  return { bucket: text.slice(0, slash), key: text.slice(slash + 1) }
}

/** DeleteObject: stages the removal on a branch; deleting what is not there succeeds, as in S3. */
export async function deleteObject(r: S3Request): Promise<void> {
  const repo = await repositoryOf(r)
  const { ref, path } = await refPathOf(r, repo)
  need(r, 'write', ref)
  await mustBeBranch(repo, ref)
  try {
    await repo.delete(ref, path)
  } catch (err) {
    if (!VarveError.is(err, 'NOT_FOUND')) throw err
  }
  sendEmpty(r.res, 204, { 'x-amz-request-id': r.requestId })
}

/** DeleteObjects: up to 1,000 keys, each its own result. */
export async function deleteObjects(r: S3Request): Promise<void> {
  const repo = await repositoryOf(r)
  let doc: Record<string, unknown>
  try {
    doc = parseXml(await smallBody(objectBody(r.req, r.verified)))
  } catch (err) {
    throw err instanceof S3Error ? err : new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed')
  }
  const del = (doc.Delete ?? {}) as { Object?: { Key?: string }[]; Quiet?: string }
  const objects = del.Object ?? []
  if (objects.length > 1000) throw new S3Error('MalformedXML', 400, 'at most 1000 keys per request')
  const deleted: { Key: string }[] = []
  const errors: { Key: string; Code: string; Message: string }[] = []
  for (const o of objects) {
    const key = String(o.Key ?? '')
    try {
      const { ref, path } = await refPathOf(r, repo, key)
      need(r, 'write', ref)
      await mustBeBranch(repo, ref)
      await repo.delete(ref, path).catch((err: unknown) => {
        if (!VarveError.is(err, 'NOT_FOUND')) throw err
      })
      deleted.push({ Key: key })
    } catch (err) {
      const e = s3ErrorOf(err, key)
      errors.push({ Key: key, Code: e.code, Message: e.message })
    }
  }
  const quiet = String(del.Quiet ?? '').toLowerCase() === 'true'
  sendXml(r.res, 200, s3Xml('DeleteResult', { ...(quiet ? {} : { Deleted: deleted }), Error: errors }), { 'x-amz-request-id': r.requestId })
}
