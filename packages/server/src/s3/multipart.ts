import { invalidArgument, S3Error } from '../errors.js'
import { repositoryOf, type S3Request } from './context.js'
import { abortLocalUpload, completeLocalUpload, createLocalUpload, listLocalParts, uploadLocalPart } from './local-multipart.js'
import { abortStoreUpload, completeStoreUpload, createStoreUpload, listStoreParts, uploadStorePart } from './store-multipart.js'

// The S3 multipart routes. A repository whose store has multipart uploads of its own (S3) keeps an
// upload in the store, so every gateway instance shares it (store-multipart.ts); others keep it in an
// upload folder beside the repository (local-multipart.ts).

export async function createMultipartUpload(r: S3Request): Promise<void> {
  const repo = await repositoryOf(r)
  return repo.uploads.supported ? createStoreUpload(r, repo) : createLocalUpload(r, repo)
}

export async function uploadPart(r: S3Request, uploadId: string, partNumber: string): Promise<void> {
  const n = Number(partNumber)
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive')
  if (r.req.headers['x-amz-copy-source'] !== undefined)
    throw new S3Error('NotImplemented', 501, 'UploadPartCopy is not supported: use CopyObject (it copies nothing) or upload the part')
  const repo = await repositoryOf(r)
  return repo.uploads.supported ? uploadStorePart(r, repo, uploadId, n) : uploadLocalPart(r, uploadId, n)
}

export async function listParts(r: S3Request, uploadId: string): Promise<void> {
  const repo = await repositoryOf(r)
  return repo.uploads.supported ? listStoreParts(r, repo, uploadId) : listLocalParts(r, uploadId)
}

export async function completeMultipartUpload(r: S3Request, uploadId: string): Promise<void> {
  const repo = await repositoryOf(r)
  return repo.uploads.supported ? completeStoreUpload(r, repo, uploadId) : completeLocalUpload(r, repo, uploadId)
}

export async function abortMultipartUpload(r: S3Request, uploadId: string): Promise<void> {
  const repo = await repositoryOf(r)
  return repo.uploads.supported ? abortStoreUpload(r, repo, uploadId) : abortLocalUpload(r, uploadId)
}
