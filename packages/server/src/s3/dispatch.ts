import { VarveError } from '@varve/core'
import { allowed, seesRepository } from '../access.js'
import { accessDenied, invalidArgument, noSuchBucket, S3Error } from '../errors.js'
import { need, repositoryOf, type S3Request } from './context.js'
import { listKeys } from './list.js'
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, listParts, uploadPart } from './multipart.js'
import { deleteObject, deleteObjects, getObject, putObject } from './objects.js'
import { etagOf, sendEmpty, sendXml } from './respond.js'
import { s3Xml } from './xml.js'

// Repositories are created with Varve (`varve init`), never through S3: a served repository is a bucket.
const BUCKET_CREATED = new Date(0).toISOString()

/** Routes one S3 request by method, bucket, key and sub-resource. */
export async function dispatchS3(r: S3Request): Promise<void> {
  const m = r.req.method ?? 'GET'
  const q = r.query
  if (!r.bucket) {
    if (m === 'GET') return listBuckets(r)
    throw new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.')
  }
  if (!r.repos.has(r.bucket) || !seesRepository(r.who, r.bucket)) {
    if (r.who.accessKey === null && !r.repos.has(r.bucket)) throw accessDenied()
    throw noSuchBucket(r.bucket)
  }
  if (!r.key) {
    if (m === 'HEAD') return sendEmpty(r.res, 200, { 'x-amz-request-id': r.requestId, 'x-amz-bucket-region': r.config.region })
    if (m === 'GET' && q.has('location')) {
      need(r, 'read')
      return sendXml(r.res, 200, s3Xml('LocationConstraint', { '#text': r.config.region === 'us-east-1' ? '' : r.config.region }))
    }
    if (m === 'GET' && q.has('uploads')) return sendXml(r.res, 200, s3Xml('ListMultipartUploadsResult', { Bucket: r.bucket, IsTruncated: false }))
    if (m === 'GET' && q.has('versioning')) return sendXml(r.res, 200, s3Xml('VersioningConfiguration', {}))
    if (m === 'GET') return listObjects(r, q.get('list-type') === '2')
    if (m === 'POST' && q.has('delete')) return deleteObjects(r)
    if (m === 'PUT')
      throw new S3Error('BucketAlreadyOwnedByYou', 409, 'A repository is a bucket: create repositories with varve init and name them in the serve config')
    throw new S3Error('NotImplemented', 501, `${m} on a bucket with ${[...q.keys()].join(', ') || 'no sub-resource'} is not implemented`)
  }
  const uploadId = q.get('uploadId')
  if (m === 'GET' || m === 'HEAD') return uploadId ? listParts(r, uploadId) : getObject(r, m === 'HEAD')
  if (m === 'PUT') return uploadId ? uploadPart(r, uploadId, q.get('partNumber') ?? '') : putObject(r)
  if (m === 'POST' && q.has('uploads')) return createMultipartUpload(r)
  if (m === 'POST' && uploadId) return completeMultipartUpload(r, uploadId)
  if (m === 'DELETE') return uploadId ? abortMultipartUpload(r, uploadId) : deleteObject(r)
  throw new S3Error('NotImplemented', 501, `${m} on an object with ${[...q.keys()].join(', ') || 'no sub-resource'} is not implemented`)
}

function listBuckets(r: S3Request): void {
  const visible = r.repos.names.filter((n) => seesRepository(r.who, n))
  if (r.who.accessKey === null && !visible.length) throw accessDenied()
  sendXml(
    r.res,
    200,
    s3Xml('ListAllMyBucketsResult', {
      Owner: { ID: r.who.accessKey ?? 'anonymous', DisplayName: r.who.accessKey ?? 'anonymous' },
      Buckets: { Bucket: visible.map((n) => ({ Name: n, CreationDate: BUCKET_CREATED })) },
    }),
    { 'x-amz-request-id': r.requestId },
  )
}

/** ListObjectsV2 (list-type=2) and ListObjects (v1). */
async function listObjects(r: S3Request, v2: boolean): Promise<void> {
  const repo = await repositoryOf(r)
  const q = r.query
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') ?? ''
  const maxKeysText = q.get('max-keys')
  const maxKeys = maxKeysText === null ? 1000 : Number(maxKeysText)
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw invalidArgument('max-keys must be a non-negative integer')
  const urlEncoded = q.get('encoding-type') === 'url'
  if (q.has('encoding-type') && !urlEncoded) throw invalidArgument('encoding-type must be url')
  let after = ''
  const token = q.get('continuation-token')
  if (v2) {
    if (token !== null) {
      after = Buffer.from(token, 'base64url').toString('utf8')
      if (!after) throw invalidArgument('The continuation token provided is incorrect')
    } else after = q.get('start-after') ?? ''
  } else after = q.get('marker') ?? ''
  // Reading a ref's tree needs read on that ref; a listing of refs needs read on the repository.
  if (!allowed(r.who, 'read', r.bucket!)) throw accessDenied()
  let page
  try {
    page = await listKeys(repo, r.names, {
      prefix,
      delimiter,
      after,
      maxKeys: Math.min(maxKeys, 1000),
      canRead: (ref) => allowed(r.who, 'read', r.bucket!, ref),
    })
  } catch (err) {
    if (VarveError.is(err, 'PERMISSION_DENIED')) throw accessDenied()
    throw err
  }
  const enc = (s: string) => (urlEncoded ? encodeURIComponent(s).replace(/%2F/g, '/') : s)
  const contents = page.objects.map((o) => ({
    Key: enc(o.key),
    LastModified: new Date(o.entry.lastModified).toISOString(),
    ETag: etagOf(o.entry.address),
    Size: o.entry.size,
    StorageClass: 'STANDARD',
  }))
  const prefixes = page.prefixes.map((p) => ({ Prefix: enc(p) }))
  const common = {
    Name: r.bucket,
    Prefix: enc(prefix),
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    MaxKeys: maxKeys,
    ...(urlEncoded ? { EncodingType: 'url' } : {}),
    IsTruncated: page.truncated,
    Contents: contents,
    CommonPrefixes: prefixes,
  }
  if (v2) {
    const startAfter = q.get('start-after')
    return sendXml(
      r.res,
      200,
      s3Xml('ListBucketResult', {
        ...common,
        KeyCount: contents.length + prefixes.length,
        ...(token !== null ? { ContinuationToken: token } : {}),
        ...(startAfter !== null ? { StartAfter: enc(startAfter) } : {}),
        ...(page.truncated && page.last ? { NextContinuationToken: Buffer.from(page.last).toString('base64url') } : {}),
      }),
      { 'x-amz-request-id': r.requestId },
    )
  }
  sendXml(
    r.res,
    200,
    s3Xml('ListBucketResult', {
      ...common,
      Marker: enc(after),
      ...(page.truncated && page.last ? { NextMarker: enc(page.last) } : {}),
    }),
    { 'x-amz-request-id': r.requestId },
  )
}
