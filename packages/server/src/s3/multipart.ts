import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { localFiles, type Entry, type FileRange, type Repository } from '@varve/core'
import { invalidArgument, S3Error } from '../errors.js'
import { objectBody, smallBody } from './body.js'
import { mustBeBranch, need, refPathOf, repositoryOf, type S3Request } from './context.js'
import { metadataFromHeaders } from './metadata.js'
import { etagOf, sendEmpty, sendXml } from './respond.js'
import { parseXml, s3Xml } from './xml.js'
import type { ServeConfig } from '../config.js'

// Multipart uploads wait in the upload folder (one folder per upload: its target and its parts), so a
// 5 GiB upload never sits in memory. A part whose size fits the upload's part size (the first part's
// size: clients cut every part but the last alike) is written straight into the upload's `data` file
// at its place, (n - 1) x part size; any other part (larger, of unknown length, or an upload of a
// part already in place) waits in a file of its own. Each part's record (`part-NNNNN.json`: where its
// bytes are, their size, its ETag) is renamed into place once its bytes are written: the record is
// the part. Parts of an upload that is never completed stay until Abort.

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

/** Where a part's bytes are: at `offset` in the upload's data file, or in a file of its own. */
interface PartRecord {
  readonly n: number
  readonly etag: string
  readonly size: number
  readonly modified: number
  readonly offset?: number
  readonly file?: string
}

const MIN_PART = 5 * 1024 * 1024
const noSuchUpload = () => new S3Error('NoSuchUpload', 404, 'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.')
const partName = (n: number) => `part-${String(n).padStart(5, '0')}`
const dataFile = (dir: string) => path.join(dir, 'data')
const rangeOfPart = (dir: string, p: PartRecord): FileRange =>
  p.file !== undefined ? { file: path.join(dir, p.file), start: 0, end: p.size } : { file: dataFile(dir), start: p.offset!, end: p.offset! + p.size }

/**
 * An upload's object, assembled while its parts arrive: a `repo.put` fed the parts in order, each as
 * soon as it is stored, so hashing the object overlaps the upload instead of following Complete. When
 * Complete lists exactly parts 1..N as they were uploaded and they all sit in place in the data file
 * (the common case), the store takes that file as the object: its bytes are written once. Any other
 * list, a part uploaded again after the feed read it, Abort or shutdown cancels the feed (the put
 * fails, nothing is staged), and Complete then writes the object from the records.
 */
export class Assembly {
  readonly #stored = new Map<number, PartRecord>()
  readonly #read = new Set<number>()
  /** Parts whose place in the data file a request is writing now. */
  readonly #writing = new Set<number>()
  #partSize: number | undefined
  #flushing: Promise<void> | undefined
  #wake: (() => void) | undefined
  #last: number | undefined
  #cancelled = false
  readonly done: Promise<Entry>

  constructor(repo: Repository, readonly meta: UploadMeta, readonly dir: string) {
    this.done = repo.put(meta.ref, meta.path, localFiles(this.#feed(), { adopt: true }), putOptions(meta))
    this.done.catch(() => {}) // awaited by Complete; a cancelled feed's failure is expected
  }

  async *#feed(): AsyncGenerator<FileRange> {
    for (let n = 1; ; n++) {
      for (;;) {
        if (this.#cancelled) throw new Error('the assembly of this upload was cancelled')
        if (this.#last !== undefined && n > this.#last) return
        if (this.#stored.has(n)) break
        await new Promise<void>((resolve) => (this.#wake = resolve))
      }
      this.#read.add(n)
      yield rangeOfPart(this.dir, this.#stored.get(n)!)
    }
  }

  #poke(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /**
   * The offset in the data file where part n of `size` bytes goes, or undefined when it must go to a
   * file of its own: its size is unknown or larger than the part size, or that place holds (or is
   * being written with) an earlier upload of it, which must stay intact until this one is complete.
   */
  place(n: number, size: number | undefined): number | undefined {
    if (this.#cancelled || size === undefined || size === 0) return undefined
    // Only a part of S3's smallest part size or more sets the size: a smaller one is the last part,
    // which may come first. (Until the size is set parts wait in files; a last part in a file is
    // still appended to the data file at Complete.)
    if (this.#partSize === undefined && size >= MIN_PART) this.#partSize = size
    if (this.#partSize === undefined) return undefined
    if (size > this.#partSize || this.#writing.has(n) || this.#stored.get(n)?.offset !== undefined) return undefined
    this.#writing.add(n)
    return (n - 1) * this.#partSize
  }

  /** The write to part n's place ended (stored or not). */
  placed(n: number): void {
    this.#writing.delete(n)
  }

  /** A part's record is in place. */
  partStored(p: PartRecord): void {
    if (this.#read.has(p.n)) return this.cancel() // what the feed read is no longer that part
    this.#stored.set(p.n, p)
    this.#poke()
    if (p.offset !== undefined) this.#flush()
  }

  /**
   * Starts writing the data file's bytes to disk (one sync at a time) as parts land in it: the store
   * syncs the object before it is acknowledged, and a gigabyte left to that last sync took seconds.
   */
  #flush(): void {
    if (this.#flushing || this.#cancelled) return
    this.#flushing = (async () => {
      const fh = await fsp.open(dataFile(this.dir), 'r+')
      try {
        await fh.datasync()
      } finally {
        await fh.close()
      }
    })()
      .catch(() => {}) // only an early start of the store's own sync, which reports failures
      .finally(() => (this.#flushing = undefined))
  }

  /** Complete listed these parts: true when the feed delivers exactly them (then await `done`). */
  finish(listed: readonly { n: number; etag: string }[]): boolean {
    if (this.#cancelled || !listed.every((p, i) => p.n === i + 1 && this.#stored.get(p.n)?.etag === p.etag)) return false
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
  return path.join(uploadRoot(r), uploadId)
}

/** The config's upload folder, or by default one on the repository's own disk (see ServeConfig.uploadDir). */
export function uploadRootFor(config: Pick<ServeConfig, 'uploadDir' | 'repositories'>, bucket: string): string {
  if (config.uploadDir !== undefined) return config.uploadDir
  const location = config.repositories.find((x) => x.name === bucket)?.location
  if (location !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return path.join(location, 'serve-uploads')
  return path.join(os.tmpdir(), `varve-serve-uploads-${process.getuid?.() ?? 'user'}`)
}

const uploadRoot = (r: S3Request) => uploadRootFor(r.config, r.bucket!)

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
  // Each upload holds a folder and its parts until Complete or Abort: one key cannot open unboundedly many (lakeFS CVE-2025-27100).
  let open = 0
  for (const a of r.uploads.values()) if (a.meta.accessKey === r.who.accessKey) open++
  if (open >= r.config.maxUploadsPerKey)
    throw new S3Error('InvalidRequest', 400, `${r.who.accessKey ?? 'anonymous'} has ${open} multipart uploads in progress, the most one key may: complete or abort some first`)
  const uploadId = randomBytes(16).toString('hex')
  const dir = uploadDir(r, uploadId)
  await fsp.mkdir(dir, { recursive: true })
  const metadata = metadataFromHeaders(r.req)
  const contentType = r.req.headers['content-type']
  const meta: UploadMeta = {
    bucket: r.bucket!, key: r.key!, ref, path: p, accessKey: r.who.accessKey, initiated: Date.now(),
    ...(metadata ? { metadata } : {}), ...(contentType ? { contentType } : {}),
  }
  await fsp.writeFile(dataFile(dir), new Uint8Array(0))
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
  const assembly = r.uploads.get(uploadId)
  const declared = declaredSize(r)
  const offset = assembly?.place(n, declared)
  const own = `${partName(n)}.${nonce}`
  let stored = false
  try {
    const body = objectBody(r.req, r.verified)
    const out = offset !== undefined ? fs.createWriteStream(dataFile(dir), { flags: 'r+', start: offset, highWaterMark: 1024 * 1024 }) : fs.createWriteStream(path.join(dir, own), { flags: 'wx', highWaterMark: 1024 * 1024 })
    // A part in place may not write past its size: the next part's place follows (a body longer
    // than its headers say is refused before the byte that would cross it is written).
    if (offset !== undefined) await pipeline(body, atMost(declared!), out)
    else await pipeline(body, out)
    const size = out.bytesWritten
    if (declared !== undefined && size !== declared) throw new S3Error('IncompleteBody', 400, `the part holds ${size} bytes, its headers say ${declared}`)
    // A part's ETag names this upload of it (not a hash of it: the object's address is computed once,
    // and a second pass over every part would cost as much as that). Complete checks the client lists
    // the parts it uploaded last.
    const etag = createHash('sha256').update(`${uploadId}/${n}/${nonce}`).digest('hex')
    const record: PartRecord = { n, etag, size, modified: Date.now(), ...(offset !== undefined ? { offset } : { file: own }) }
    const previous = await readRecord(dir, n)
    await writeRecord(dir, record) // an upload of a part again replaces the earlier one whole
    stored = true
    if (previous?.file !== undefined) await fsp.rm(path.join(dir, previous.file), { force: true })
    assembly?.partStored(record)
    sendEmpty(r.res, 200, { ETag: etagOf(etag), 'x-amz-request-id': r.requestId })
  } finally {
    if (offset !== undefined) assembly!.placed(n)
    if (!stored && offset === undefined) await fsp.rm(path.join(dir, own), { force: true })
  }
}

/** Passes at most `limit` bytes; one more fails the stream. */
function atMost(limit: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length
      if (seen > limit) return done(new S3Error('IncompleteBody', 400, `the part holds more bytes than its headers say (${limit})`))
      done(null, chunk)
    },
  })
}

/** The part's size as its headers give it before the body, if they do. */
function declaredSize(r: S3Request): number | undefined {
  const h = r.req.headers
  const mode = r.verified?.payload ?? 'UNSIGNED-PAYLOAD'
  const v = mode.startsWith('STREAMING-') ? h['x-amz-decoded-content-length'] : h['transfer-encoding'] === undefined ? h['content-length'] : undefined
  const size = v === undefined ? NaN : Number(v)
  return Number.isSafeInteger(size) && size >= 0 ? size : undefined
}

async function readRecord(dir: string, n: number): Promise<PartRecord | undefined> {
  try {
    return JSON.parse(await fsp.readFile(path.join(dir, `${partName(n)}.json`), 'utf8')) as PartRecord
  } catch {
    return undefined
  }
}

async function writeRecord(dir: string, record: PartRecord): Promise<void> {
  const file = path.join(dir, `${partName(record.n)}.json`)
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  await fsp.writeFile(tmp, JSON.stringify(record))
  await fsp.rename(tmp, file)
}

async function partsOf(dir: string): Promise<PartRecord[]> {
  const out: PartRecord[] = []
  for (const name of (await fsp.readdir(dir)).sort()) {
    const m = /^part-(\d{5})\.json$/.exec(name)
    if (!m) continue
    const record = await readRecord(dir, Number(m[1]))
    if (record) out.push(record)
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
    doc = parseXml(await smallBody(objectBody(r.req, r.verified, { checksumHeaders: false })))
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
    entry = await repo.put(meta.ref, meta.path, localFiles(asked.map((p) => rangeOfPart(dir, have.get(p.n)!)), { adopt: true }), putOptions(meta))
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
