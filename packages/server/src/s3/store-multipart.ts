import { VarveError, type Repository, type UploadRecord } from '@varve/core'
import { S3Error } from '../errors.js'
import { objectBody, smallBody } from './body.js'
import { mustBeBranch, need, refPathOf, type S3Request } from './context.js'
import { metadataFromHeaders } from './metadata.js'
import { declaredSize, noSuchUpload, parseCompleteBody } from './multipart-common.js'
import { etagOf, sendEmpty, sendXml } from './respond.js'
import { s3Xml } from './xml.js'

// Multipart uploads of repositories whose store has multipart uploads of its own (S3): every part goes
// straight into the store's upload and the upload's record sits beside it in the store
// (`repo.uploads`), so any gateway instance behind a load balancer takes any request of any upload.

async function uploadOf(r: S3Request, repo: Repository, uploadId: string): Promise<UploadRecord> {
  let record: UploadRecord
  try {
    record = await repo.uploads.get(uploadId)
  } catch (err) {
    if (VarveError.is(err, 'NOT_FOUND')) throw noSuchUpload()
    throw err
  }
  if (`${record.branch}/${record.path}` !== r.key) throw noSuchUpload()
  need(r, 'write', record.branch)
  return record
}

/** A VarveError of `repo.uploads` as the S3 error a client expects. */
function asS3(err: unknown): unknown {
  if (!(err instanceof VarveError)) return err
  if (err.code === 'NOT_FOUND' && (err.details as { upload?: string } | undefined)?.upload !== undefined) return noSuchUpload()
  const reason = (err.details as { reason?: string } | undefined)?.reason
  if (reason === 'order') return new S3Error('InvalidPartOrder', 400, 'The list of parts was not in ascending order.')
  if (reason === 'part') return new S3Error('InvalidPart', 400, err.message)
  if (reason === 'too-small') return new S3Error('EntityTooSmall', 400, err.message)
  return err
}

export async function createStoreUpload(r: S3Request, repo: Repository): Promise<void> {
  const { ref, path } = await refPathOf(r, repo)
  need(r, 'write', ref)
  await mustBeBranch(repo, ref)
  const owner = r.who.accessKey ?? 'anonymous'
  // One key cannot open unboundedly many uploads (lakeFS CVE-2025-27100); counted across instances.
  let open = 0
  for await (const u of repo.uploads.list()) if (u.owner === owner) open++
  if (open >= r.config.maxUploadsPerKey)
    throw new S3Error('InvalidRequest', 400, `${owner} has ${open} multipart uploads in progress, the most one key may: complete or abort some first`)
  const metadata = metadataFromHeaders(r.req)
  const contentType = r.req.headers['content-type']
  const record = await repo.uploads.create(ref, path, { owner, ...(metadata ? { metadata } : {}), ...(contentType ? { contentType } : {}) })
  sendXml(r.res, 200, s3Xml('InitiateMultipartUploadResult', { Bucket: r.bucket, Key: r.key, UploadId: record.id }), { 'x-amz-request-id': r.requestId })
}

export async function uploadStorePart(r: S3Request, repo: Repository, uploadId: string, n: number): Promise<void> {
  await uploadOf(r, repo, uploadId)
  try {
    const { etag } = await repo.uploads.uploadPart(uploadId, n, objectBody(r.req, r.verified), declaredSize(r))
    sendEmpty(r.res, 200, { ETag: etagOf(etag), 'x-amz-request-id': r.requestId })
  } catch (err) {
    throw asS3(err)
  }
}

export async function listStoreParts(r: S3Request, repo: Repository, uploadId: string): Promise<void> {
  await uploadOf(r, repo, uploadId)
  const parts = await repo.uploads.parts(uploadId).catch((err) => Promise.reject(asS3(err)))
  sendXml(
    r.res,
    200,
    s3Xml('ListPartsResult', {
      Bucket: r.bucket,
      Key: r.key,
      UploadId: uploadId,
      MaxParts: 10000,
      IsTruncated: false,
      Part: parts.map((p) => ({ PartNumber: p.n, ETag: etagOf(p.etag), Size: p.size, LastModified: new Date(p.lastModified).toISOString() })),
    }),
    { 'x-amz-request-id': r.requestId },
  )
}

export async function completeStoreUpload(r: S3Request, repo: Repository, uploadId: string): Promise<void> {
  const record = await uploadOf(r, repo, uploadId)
  const asked = parseCompleteBody(await smallBody(objectBody(r.req, r.verified, { checksumHeaders: false })))
  await mustBeBranch(repo, record.branch)
  const entry = await repo.uploads.complete(uploadId, asked).catch((err) => Promise.reject(asS3(err)))
  sendXml(
    r.res,
    200,
    s3Xml('CompleteMultipartUploadResult', { Location: `/${r.bucket}/${r.key}`, Bucket: r.bucket, Key: r.key, ETag: etagOf(entry.address) }),
    { 'x-amz-request-id': r.requestId },
  )
}

export async function abortStoreUpload(r: S3Request, repo: Repository, uploadId: string): Promise<void> {
  await uploadOf(r, repo, uploadId)
  await repo.uploads.abort(uploadId).catch((err) => Promise.reject(asS3(err)))
  sendEmpty(r.res, 204, { 'x-amz-request-id': r.requestId })
}
