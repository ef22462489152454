import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { localFiles, type Entry, type Repository } from '@varve/core'
import { S3Error } from '../errors.js'
import { Assembly, dataFile, partName, putOptions, rangeOfPart, type PartRecord, type UploadMeta } from './assembly.js'
import { objectBody, smallBody } from './body.js'
import { mustBeBranch, need, refPathOf, type S3Request } from './context.js'
import { metadataFromHeaders } from './metadata.js'
import { declaredSize, noSuchUpload, parseCompleteBody } from './multipart-common.js'
import { etagOf, sendEmpty, sendXml } from './respond.js'
import { s3Xml } from './xml.js'
import { isStoreUrl, type ServeConfig } from '../config.js'

// Multipart uploads of repositories whose store has no multipart uploads of its own (a local folder):
// parts wait in the upload folder, by default on the repository's own disk (see assembly.ts).

function uploadDir(r: S3Request, uploadId: string): string {
  if (!/^[0-9a-f]{32}$/.test(uploadId)) throw noSuchUpload()
  return path.join(uploadRoot(r), uploadId)
}

/** The config's upload folder, or by default one on the repository's own disk (see ServeConfig.uploadDir). */
export function uploadRootFor(config: Pick<ServeConfig, 'uploadDir' | 'repositories'>, bucket: string): string {
  if (config.uploadDir !== undefined) return config.uploadDir
  const location = config.repositories.find((x) => x.name === bucket)?.location
  if (location !== undefined && !isStoreUrl(location)) return path.join(location, 'serve-uploads')
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

export async function createLocalUpload(r: S3Request, repo: Repository): Promise<void> {
  const { ref, path: p } = await refPathOf(r, repo)
  need(r, 'write', ref)
  await mustBeBranch(repo, ref)
  // Each upload holds a folder and its parts until Complete or Abort: one key cannot open unboundedly many (lakeFS CVE-2025-27100).
  let open = 0
  for (const a of r.uploads.values()) if (a.meta.accessKey === r.who.accessKey) open++
  if (open >= r.config.maxUploadsPerKey)
    throw new S3Error(
      'InvalidRequest',
      400,
      `${r.who.accessKey ?? 'anonymous'} has ${open} multipart uploads in progress, the most one key may: complete or abort some first`,
    )
  const uploadId = randomBytes(16).toString('hex')
  const dir = uploadDir(r, uploadId)
  await fsp.mkdir(dir, { recursive: true })
  const metadata = metadataFromHeaders(r.req)
  const contentType = r.req.headers['content-type']
  const meta: UploadMeta = {
    bucket: r.bucket!,
    key: r.key!,
    ref,
    path: p,
    accessKey: r.who.accessKey,
    initiated: Date.now(),
    ...(metadata ? { metadata } : {}),
    ...(contentType ? { contentType } : {}),
  }
  await fsp.writeFile(dataFile(dir), new Uint8Array(0))
  await fsp.writeFile(path.join(dir, 'upload.json'), JSON.stringify(meta))
  r.uploads.set(uploadId, new Assembly(repo, meta, dir))
  sendXml(r.res, 200, s3Xml('InitiateMultipartUploadResult', { Bucket: r.bucket, Key: r.key, UploadId: uploadId }), { 'x-amz-request-id': r.requestId })
}

export async function uploadLocalPart(r: S3Request, uploadId: string, n: number): Promise<void> {
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
    const out =
      offset !== undefined
        ? fs.createWriteStream(dataFile(dir), { flags: 'r+', start: offset, highWaterMark: 1024 * 1024 })
        : fs.createWriteStream(path.join(dir, own), { flags: 'wx', highWaterMark: 1024 * 1024 })
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

export async function listLocalParts(r: S3Request, uploadId: string): Promise<void> {
  const { dir, meta } = await loadUpload(r, uploadId)
  need(r, 'write', meta.ref)
  const parts = await partsOf(dir)
  sendXml(
    r.res,
    200,
    s3Xml('ListPartsResult', {
      Bucket: r.bucket,
      Key: r.key,
      UploadId: uploadId,
      MaxParts: 10000,
      IsTruncated: false,
      Part: parts.map((p) => ({ PartNumber: p.n, ETag: etagOf(p.etag), Size: p.size, LastModified: new Date(p.modified).toISOString() })),
    }),
    { 'x-amz-request-id': r.requestId },
  )
}

export async function completeLocalUpload(r: S3Request, repo: Repository, uploadId: string): Promise<void> {
  const { dir, meta } = await loadUpload(r, uploadId)
  need(r, 'write', meta.ref)
  const asked = parseCompleteBody(await smallBody(objectBody(r.req, r.verified, { checksumHeaders: false })))
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
    await mustBeBranch(repo, meta.ref)
    entry = await repo.put(
      meta.ref,
      meta.path,
      localFiles(
        asked.map((p) => rangeOfPart(dir, have.get(p.n)!)),
        { adopt: true },
      ),
      putOptions(meta),
    )
  }
  await fsp.rm(dir, { recursive: true, force: true })
  sendXml(
    r.res,
    200,
    s3Xml('CompleteMultipartUploadResult', { Location: `/${r.bucket}/${r.key}`, Bucket: r.bucket, Key: r.key, ETag: etagOf(entry.address) }),
    { 'x-amz-request-id': r.requestId },
  )
}

export async function abortLocalUpload(r: S3Request, uploadId: string): Promise<void> {
  const { dir, meta } = await loadUpload(r, uploadId)
  need(r, 'write', meta.ref)
  r.uploads.get(uploadId)?.cancel()
  await r.uploads.get(uploadId)?.done.catch(() => {})
  r.uploads.delete(uploadId)
  await fsp.rm(dir, { recursive: true, force: true })
  sendEmpty(r.res, 204, { 'x-amz-request-id': r.requestId })
}
