import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Entry, Repository } from '@varve/core'
import { invalidArgument, S3Error } from '../errors.js'
import { objectBody, smallBody } from './body.js'
import { mustBeBranch, need, refPathOf, repositoryOf, type S3Request } from './context.js'
import { metadataFromHeaders } from './metadata.js'
import { etagOf, sendEmpty, sendXml } from './respond.js'
import { parseXml, s3Xml } from './xml.js'

// Multipart uploads wait as files in the upload folder (one folder per upload: its target and its
// parts), so a 5 GiB upload never sits in memory; Complete streams the parts, in order, into
// `repo.put` on the branch. Parts of an upload that is never completed stay until Abort.

interface UploadMeta {
  readonly bucket: string
  readonly key: string
  readonly ref: string
  readonly path: string
  readonly accessKey: string | null
  readonly metadata?: Record<string, string>
  readonly contentType?: string
  readonly initiated: number
}

const noSuchUpload = () => new S3Error('NoSuchUpload', 404, 'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.')
const partFile = (dir: string, n: number) => path.join(dir, `part-${String(n).padStart(5, '0')}`)

/**
 * An upload's object, assembled while its parts arrive: a `repo.put` fed the parts in order, each as
 * soon as it is stored, so hashing and writing the object overlap the upload instead of following
 * Complete (which otherwise waited ~4 s per GiB here). Complete ends the feed when it lists exactly
 * parts 1..N as they were uploaded, the common case; any other list, a part uploaded again after the
 * feed read it, Abort or shutdown cancels the feed (the put fails, nothing is staged), and Complete
 * then writes the object from the part files.
 */
export class Assembly {
  readonly #stored = new Map<number, string>()
  readonly #read = new Set<number>()
  #wake: (() => void) | undefined
  #last: number | undefined
  #cancelled = false
  readonly done: Promise<Entry>

  constructor(repo: Repository, meta: UploadMeta, dir: string) {
    this.done = repo.put(meta.ref, meta.path, this.#feed(dir), putOptions(meta))
    this.done.catch(() => {}) // awaited by Complete; a cancelled feed's failure is expected
  }

  async *#feed(dir: string): AsyncGenerator<Uint8Array> {
    for (let n = 1; ; n++) {
      for (;;) {
        if (this.#cancelled) throw new Error('the assembly of this upload was cancelled')
        if (this.#last !== undefined && n > this.#last) return
        if (this.#stored.has(n)) break
        await new Promise<void>((resolve) => (this.#wake = resolve))
      }
      this.#read.add(n)
      yield* fs.createReadStream(partFile(dir, n), { highWaterMark: 1024 * 1024 }) as AsyncIterable<Uint8Array>
    }
  }

  #poke(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /** A part is stored (renamed into place) with this ETag. */
  partStored(n: number, etag: string): void {
    if (this.#read.has(n)) return this.cancel() // what the feed read is no longer that part
    this.#stored.set(n, etag)
    this.#poke()
  }

  /** Complete listed these parts: true when the feed delivers exactly them (then await `done`). */
  finish(listed: readonly { n: number; etag: string }[]): boolean {
    if (this.#cancelled || !listed.every((p, i) => p.n === i + 1 && this.#stored.get(p.n) === p.etag)) return false
    this.#last = listed.length
    this.#poke()
    return true
  }

  cancel(): void {
    this.#cancelled = true
    this.#poke()
  }
}

const putOptions = (meta: UploadMeta) => ({ ...(meta.metadata ? { metadata: meta.metadata } : {}), ...(meta.contentType ? { contentType: meta.contentType } : {}) })

function uploadDir(r: S3Request, uploadId: string): string {
  if (!/^[0-9a-f]{32}$/.test(uploadId)) throw noSuchUpload()
  return path.join(r.config.uploadDir!, uploadId)
}

async function loadUpload(r: S3Request, uploadId: string): Promise<{ dir: string; meta: UploadMeta }> {
  const dir = uploadDir(r, uploadId)
  let meta: UploadMeta
  try {
    meta = JSON.parse(await fsp.readFile(path.join(dir, 'upload.json'), 'utf8')) as UploadMeta
  } catch {
    throw noSuchUpload()
  }
  if (meta.bucket !== r.bucket || meta.key !== r.key) throw noSuchUpload()
  return { dir, meta }
}

export async function createMultipartUpload(r: S3Request): Promise<void> {
  const repo = await repositoryOf(r)
  const { ref, path: p } = await refPathOf(r, repo)
  need(r, 'write', ref)
  await mustBeBranch(repo, ref)
  const uploadId = randomBytes(16).toString('hex')
  const dir = uploadDir(r, uploadId)
  await fsp.mkdir(dir, { recursive: true })
  const metadata = metadataFromHeaders(r.req)
  const contentType = r.req.headers['content-type']
  const meta: UploadMeta = {
    bucket: r.bucket!, key: r.key!, ref, path: p, accessKey: r.who.accessKey, initiated: Date.now(),
    ...(metadata ? { metadata } : {}), ...(contentType ? { contentType } : {}),
  }
  await fsp.writeFile(path.join(dir, 'upload.json'), JSON.stringify(meta))
  r.uploads.set(uploadId, new Assembly(repo, meta, dir))
  sendXml(r.res, 200, s3Xml('InitiateMultipartUploadResult', { Bucket: r.bucket, Key: r.key, UploadId: uploadId }), { 'x-amz-request-id': r.requestId })
}

export async function uploadPart(r: S3Request, uploadId: string, partNumber: string): Promise<void> {
  const n = Number(partNumber)
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive')
  if (r.req.headers['x-amz-copy-source'] !== undefined) throw new S3Error('NotImplemented', 501, 'UploadPartCopy is not supported: use CopyObject (it copies nothing) or upload the part')
  const { dir, meta } = await loadUpload(r, uploadId)
  need(r, 'write', meta.ref)
  const nonce = randomBytes(6).toString('hex')
  const tmp = `${partFile(dir, n)}.${nonce}.tmp`
  try {
    await pipeline(objectBody(r.req, r.verified), fs.createWriteStream(tmp, { highWaterMark: 1024 * 1024 }))
    // A part's ETag names this upload of it (not a hash of it: the object's address is computed once,
    // at Complete, and a second pass over every part would cost as much as that). Complete checks the
    // client lists the parts it uploaded last.
    const etag = createHash('sha256').update(`${uploadId}/${n}/${nonce}`).digest('hex')
    await fsp.writeFile(`${partFile(dir, n)}.etag`, etag)
    await fsp.rename(tmp, partFile(dir, n)) // a retried part replaces the earlier one whole
    r.uploads.get(uploadId)?.partStored(n, etag)
    sendEmpty(r.res, 200, { ETag: etagOf(etag), 'x-amz-request-id': r.requestId })
  } finally {
    await fsp.rm(tmp, { force: true })
  }
}

async function partsOf(dir: string): Promise<{ n: number; size: number; etag: string; modified: number }[]> {
  const out = []
  for (const name of (await fsp.readdir(dir)).sort()) {
    const m = /^part-(\d{5})$/.exec(name)
    if (!m) continue
    const st = await fsp.stat(path.join(dir, name))
    out.push({ n: Number(m[1]), size: st.size, etag: (await fsp.readFile(path.join(dir, `${name}.etag`), 'utf8')).trim(), modified: st.mtimeMs })
  }
  return out
}

export async function listParts(r: S3Request, uploadId: string): Promise<void> {
  const { dir, meta } = await loadUpload(r, uploadId)
  need(r, 'write', meta.ref)
  const parts = await partsOf(dir)
  sendXml(r.res, 200, s3Xml('ListPartsResult', {
    Bucket: r.bucket, Key: r.key, UploadId: uploadId, MaxParts: 10000, IsTruncated: false,
    Part: parts.map((p) => ({ PartNumber: p.n, ETag: etagOf(p.etag), Size: p.size, LastModified: new Date(p.modified).toISOString() })),
  }), { 'x-amz-request-id': r.requestId })
}

export async function completeMultipartUpload(r: S3Request, uploadId: string): Promise<void> {
  const { dir, meta } = await loadUpload(r, uploadId)
  need(r, 'write', meta.ref)
  let doc: Record<string, unknown>
  try {
    doc = parseXml(await smallBody(objectBody(r.req, r.verified)))
  } catch (err) {
    throw err instanceof S3Error ? err : new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed')
  }
  const asked = (((doc.CompleteMultipartUpload ?? {}) as { Part?: { PartNumber?: string; ETag?: string }[] }).Part ?? []).map((p) => ({
    n: Number(p.PartNumber),
    etag: String(p.ETag ?? '').replace(/"/g, ''),
  }))
  if (!asked.length) throw new S3Error('MalformedXML', 400, 'CompleteMultipartUpload lists no parts')
  const have = new Map((await partsOf(dir)).map((p) => [p.n, p]))
  for (let i = 0; i < asked.length; i++) {
    if (i > 0 && asked[i]!.n <= asked[i - 1]!.n) throw new S3Error('InvalidPartOrder', 400, 'The list of parts was not in ascending order.')
    const part = have.get(asked[i]!.n)
    if (!part || part.etag !== asked[i]!.etag) throw new S3Error('InvalidPart', 400, `part ${asked[i]!.n} was not uploaded, or its ETag does not match`)
  }
  const assembly = r.uploads.get(uploadId)
  r.uploads.delete(uploadId)
  let entry: Entry
  if (assembly?.finish(asked)) entry = await assembly.done
  else {
    assembly?.cancel()
    await assembly?.done.catch(() => {})
    const repo = await repositoryOf(r)
    await mustBeBranch(repo, meta.ref)
    const files = asked.map((p) => partFile(dir, p.n))
    async function* concatenated() {
      for (const f of files) yield* fs.createReadStream(f, { highWaterMark: 1024 * 1024 })
    }
    entry = await repo.put(meta.ref, meta.path, concatenated(), putOptions(meta))
  }
  await fsp.rm(dir, { recursive: true, force: true })
  sendXml(r.res, 200, s3Xml('CompleteMultipartUploadResult', { Location: `/${r.bucket}/${r.key}`, Bucket: r.bucket, Key: r.key, ETag: etagOf(entry.address) }), { 'x-amz-request-id': r.requestId })
}

export async function abortMultipartUpload(r: S3Request, uploadId: string): Promise<void> {
  const { dir, meta } = await loadUpload(r, uploadId)
  need(r, 'write', meta.ref)
  r.uploads.get(uploadId)?.cancel()
  await r.uploads.get(uploadId)?.done.catch(() => {})
  r.uploads.delete(uploadId)
  await fsp.rm(dir, { recursive: true, force: true })
  sendEmpty(r.res, 204, { 'x-amz-request-id': r.requestId })
}
