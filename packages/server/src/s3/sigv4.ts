import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AccessKey } from '../config.js'
import { accessDenied, invalidArgument, S3Error } from '../errors.js'

// AWS Signature Version 4 as S3 checks it, in the Authorization header or in a presigned URL. The
// canonical request is assembled here (it is text); the signature itself is computed by
// @smithy/signature-v4 (the AWS SDK's signer) from the key's secret, never by hand-written crypto.

export const EMPTY_SHA256 = createHash('sha256').digest('hex')
const MAX_SKEW_MS = 15 * 60_000
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600

/** What a verified request established: who signed it, and how its body must be read. */
export interface VerifiedRequest {
  readonly key: AccessKey
  /** The x-amz-content-sha256 value (a hex hash, UNSIGNED-PAYLOAD, or a STREAMING-* mode). */
  readonly payload: string
  /** For chunk signatures: the seed signature and what signs the chunks after it. */
  readonly chunks: ChunkSigner
}

export interface ChunkSigner {
  readonly seed: string
  readonly amzDate: string
  readonly scope: string
  sign(stringToSign: string): Promise<string>
}

const signatureDoesNotMatch = () =>
  new S3Error('SignatureDoesNotMatch', 403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.')

/** Whether the request carries credentials at all (header or query). */
export function isSigned(req: IncomingMessage, query: URLSearchParams): boolean {
  return typeof req.headers.authorization === 'string' || query.has('X-Amz-Signature')
}

/** Verifies a request's signature against the configured keys; throws an S3Error when it fails. */
export async function verifyRequest(
  req: IncomingMessage,
  rawPath: string,
  query: URLSearchParams,
  keys: ReadonlyMap<string, AccessKey>,
  now = Date.now(),
  /** The region this server answers for: a scope naming another is refused, as S3 does (and says which). */
  expectedRegion?: string,
): Promise<VerifiedRequest> {
  const presigned = query.has('X-Amz-Signature')
  let credential: string
  let signedHeaders: string
  let signature: string
  let amzDate: string
  if (presigned) {
    if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw invalidArgument('X-Amz-Algorithm must be AWS4-HMAC-SHA256')
    credential = query.get('X-Amz-Credential') ?? ''
    signedHeaders = query.get('X-Amz-SignedHeaders') ?? ''
    signature = query.get('X-Amz-Signature') ?? ''
    amzDate = query.get('X-Amz-Date') ?? ''
  } else {
    const auth = String(req.headers.authorization)
    const m = /^AWS4-HMAC-SHA256 +Credential=([^,\s]+), *SignedHeaders=([^,\s]+), *Signature=([0-9a-f]{64})\s*$/.exec(auth)
    if (!m) throw invalidArgument('the Authorization header is not AWS Signature Version 4 (AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...)')
    ;[, credential, signedHeaders, signature] = m as unknown as [string, string, string, string]
    amzDate = headerValue(req, 'x-amz-date') ?? ''
  }
  const scopeParts = credential.split('/')
  if (scopeParts.length !== 5 || scopeParts[3] !== 's3' || scopeParts[4] !== 'aws4_request') throw invalidArgument('malformed credential scope')
  const [accessKey, day, region] = scopeParts as [string, string, string]
  if (expectedRegion !== undefined && region !== expectedRegion)
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      400,
      `The authorization header is malformed; the region '${region.slice(0, 64)}' is wrong; expecting '${expectedRegion}'`,
      { Region: expectedRegion },
    )
  const key = keys.get(accessKey)
  if (!key) throw new S3Error('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.')
  const signedAt = parseAmzDate(amzDate)
  if (signedAt === undefined || amzDate.slice(0, 8) !== day) throw accessDenied('X-Amz-Date is missing or does not match the credential scope')
  if (presigned) {
    const expires = Number(query.get('X-Amz-Expires'))
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS) throw accessDenied('X-Amz-Expires must be 1 to 604800 seconds')
    if (now > signedAt + expires * 1000) throw accessDenied('Request has expired')
    if (signedAt - now > MAX_SKEW_MS) throw accessDenied('Request is not valid yet')
  } else if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', 403, "The difference between the request time and the server's time is too large.")
  }
  const names = signedHeaders.split(';')
  if (!names.includes('host') || names.some((n) => n !== n.toLowerCase() || !n)) throw accessDenied('SignedHeaders must include host, in lower case')
  const payload = presigned
    ? (query.get('X-Amz-Content-Sha256') ?? headerValue(req, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD')
    : headerValue(req, 'x-amz-content-sha256')
  if (!payload) throw invalidArgument('x-amz-content-sha256 is required')
  const canonical = [
    req.method ?? 'GET',
    rawPath,
    canonicalQuery(query, presigned),
    names.map((n) => `${n}:${canonicalHeaderValue(req, n)}\n`).join(''),
    signedHeaders,
    payload,
  ].join('\n')
  const scope = `${day}/${region}/s3/aws4_request`
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`
  const signer = signerFor(key, region)
  const sign = (s: string) => signer.sign(s, { signingDate: new Date(signedAt), signingRegion: region, signingService: 's3' })
  const expected = await sign(stringToSign)
  if (!sameSignature(expected, signature)) throw signatureDoesNotMatch()
  return { key, payload, chunks: { seed: signature, amzDate, scope, sign } }
}

const signers = new WeakMap<AccessKey, Map<string, SignatureV4>>()
function signerFor(key: AccessKey, region: string): SignatureV4 {
  let byRegion = signers.get(key)
  if (!byRegion) signers.set(key, (byRegion = new Map()))
  let s = byRegion.get(region)
  if (!s) {
    s = new SignatureV4({
      credentials: { accessKeyId: key.accessKey, secretAccessKey: key.secretKey },
      region,
      service: 's3',
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: false,
    })
    byRegion.set(region, s)
  }
  return s
}

export const sha256Hex = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex')

export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v.join(',') : v
}

/** A header as SigV4 canonicalises it: values trimmed, inner runs of spaces collapsed, repeats joined by ','. */
function canonicalHeaderValue(req: IncomingMessage, name: string): string {
  const values: string[] = []
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === name) values.push(req.rawHeaders[i + 1]!)
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')
}

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

function canonicalQuery(query: URLSearchParams, presigned: boolean): string {
  const pairs: [string, string][] = []
  for (const [k, v] of query) if (!(presigned && k === 'X-Amz-Signature')) pairs.push([encode(k), encode(v)])
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
  return pairs.map(([k, v]) => `${k}=${v}`).join('&')
}

/** `20261124T093000Z` → ms since the epoch. */
function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(s)
  if (!m) return undefined
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
  return Number.isNaN(t) ? undefined : t
}
