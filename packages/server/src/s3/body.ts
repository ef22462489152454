import type { IncomingMessage } from 'node:http'
import { PassThrough, type Readable, type Transform } from 'node:stream'
import { invalidArgument, S3Error } from '../errors.js'
import { AwsChunkedDecoder, PayloadHashCheck } from './aws-chunked.js'
import { ChecksumCheck, checksumClaim } from './checksum.js'
import type { VerifiedRequest } from './sigv4.js'

/**
 * The object bytes of a request body, decoded as the payload mode says (aws-chunked, a signed hash,
 * unsigned) and checked as they stream: a body that fails its check fails the stream at its end, so
 * whatever consumes it (a put) stages nothing.
 */
export function objectBody(req: IncomingMessage, verified: VerifiedRequest | undefined, options: { checksumHeaders?: boolean } = {}): Readable {
  const mode = verified?.payload ?? 'UNSIGNED-PAYLOAD'
  // (CompleteMultipartUpload's x-amz-checksum-* headers are the whole object's, not its XML body's)
  const claim = options.checksumHeaders === false ? undefined : checksumClaim(req)
  if (mode.startsWith('STREAMING-')) {
    const signedChunks = mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
    if (!signedChunks && mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') throw invalidArgument(`unsupported x-amz-content-sha256 ${mode}`)
    const decoded = req.headers['x-amz-decoded-content-length']
    const length = decoded === undefined ? undefined : Number(decoded)
    if (length !== undefined && !Number.isSafeInteger(length)) throw invalidArgument('x-amz-decoded-content-length must be a number')
    const decoder = pipeChecked(req, new AwsChunkedDecoder(signedChunks ? verified!.chunks : undefined, length))
    return claim ? then(decoder, new ChecksumCheck(claim, () => decoder.trailers)) : decoder
  }
  if (claim && !claim.value) throw invalidArgument('x-amz-trailer needs an aws-chunked body (x-amz-content-sha256: STREAMING-*)')
  let body: Readable
  if (mode === 'UNSIGNED-PAYLOAD') body = pipeChecked(req, new PassThrough())
  else if (!/^[0-9a-f]{64}$/.test(mode)) throw invalidArgument('x-amz-content-sha256 must be a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING-* mode')
  else body = pipeChecked(req, new PayloadHashCheck(mode))
  return claim ? then(body, new ChecksumCheck(claim, () => ({}))) : body
}

/** `first` piped into `next`, an error of either failing `next`. */
function then<T extends Transform>(first: Readable, next: T): T {
  first.on('error', (err) => next.destroy(err))
  first.pipe(next)
  return next
}

/** req → transform, with the request's own errors (a client gone mid-upload) failing the transform. */
function pipeChecked<T extends NodeJS.ReadWriteStream & Readable>(req: IncomingMessage, t: T): T {
  req.on('error', (err) => t.destroy(err))
  req.on('aborted', () => t.destroy(new S3Error('IncompleteBody', 400, 'the client closed the connection before the body ended')))
  req.pipe(t)
  return t
}

/** A small body (an XML request document), read whole up to `limit` bytes. */
export async function smallBody(body: Readable, limit = 1024 * 1024): Promise<string> {
  const parts: Buffer[] = []
  let n = 0
  for await (const chunk of body) {
    n += (chunk as Buffer).length
    if (n > limit) throw new S3Error('MaxMessageLengthExceeded', 400, `the request document is larger than ${limit} bytes`)
    parts.push(chunk as Buffer)
  }
  return Buffer.concat(parts).toString('utf8')
}
