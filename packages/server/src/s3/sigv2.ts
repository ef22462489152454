import { createHmac } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { AccessKey } from '../config.js'
import { accessDenied, S3Error } from '../errors.js'
import { sameSignature } from './sigv4.js'

// Presigned URLs in the older query form (AWSAccessKeyId, Expires, Signature: HMAC-SHA1), which boto3's
// generate_presigned_url still makes unless told `signature_version='s3v4'`. Only presigned URLs:
// requests signed in headers must use Signature Version 4.

const SUBRESOURCES = new Set([
  'acl',
  'delete',
  'lifecycle',
  'location',
  'logging',
  'notification',
  'partNumber',
  'policy',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
])

const MAX_V2_LIFETIME_MS = 7 * 24 * 3600 * 1000

export const isPresignedV2 = (query: URLSearchParams) => query.has('AWSAccessKeyId') && query.has('Signature') && query.has('Expires')

/** Verifies a V2 presigned URL; `resource` is `/bucket/key` as the client addressed it (URL-encoded). */
export function verifyPresignedV2(
  req: IncomingMessage,
  resource: string,
  query: URLSearchParams,
  keys: ReadonlyMap<string, AccessKey>,
  now = Date.now(),
): AccessKey {
  const key = keys.get(query.get('AWSAccessKeyId')!)
  if (!key) throw new S3Error('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.')
  const expires = Number(query.get('Expires'))
  if (!Number.isInteger(expires)) throw accessDenied('Expires must be a number of seconds since the epoch')
  if (now > expires * 1000) throw accessDenied('Request has expired')
  // V2 URLs carry no signing time: without a cap, one made to expire in 2099 is a key that never
  // dies. They get what V4 allows (7 days), counted from now.
  if (expires * 1000 - now > MAX_V2_LIFETIME_MS) throw accessDenied('Expires is more than 7 days away: a presigned URL lives at most 604800 seconds')
  const sub = [...query].filter(([k]) => SUBRESOURCES.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const canonicalResource = resource + (sub.length ? `?${sub.map(([k, v]) => (v === '' && !k.startsWith('response-') ? k : `${k}=${v}`)).join('&')}` : '')
  const amz = Object.entries(req.headers)
    .filter(([k]) => k.startsWith('x-amz-'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}:${Array.isArray(v) ? v.join(',') : String(v).trim()}\n`)
    .join('')
  const header = (n: string) => String(req.headers[n] ?? '')
  const stringToSign = `${req.method}\n${header('content-md5')}\n${header('content-type')}\n${expires}\n${amz}${canonicalResource}`
  const expected = createHmac('sha1', key.secretKey).update(stringToSign, 'utf8').digest('base64')
  if (!sameSignature(expected, query.get('Signature')!))
    throw new S3Error(
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    )
  return key
}
