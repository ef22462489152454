import type { IncomingMessage } from 'node:http'
import { Transform, type TransformCallback } from 'node:stream'
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc'
import { Sha1, Sha256 } from '@aws-sdk/checksums/sha'
import { S3Error } from '../errors.js'

// S3's additional checksums (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1, -sha256): sent as a
// header, or as a trailer of an aws-chunked body announced by x-amz-trailer (what the AWS SDKs do by
// default since 2025). Computed by the AWS SDK's own implementations while the body streams; a value
// that does not match fails the body at its end, so nothing is staged.

interface Checksum {
  update(chunk: Uint8Array): void
  digest(): Promise<Uint8Array>
}

const ALGORITHMS: Record<string, () => Checksum> = {
  crc32: () => new Crc32(),
  crc32c: () => new Crc32c(),
  crc64nvme: () => new Crc64Nvme(),
  sha1: () => new Sha1(),
  sha256: () => new Sha256(),
}
const HEADER = 'x-amz-checksum-'

/** What a request says its body's checksum is: a header's value now, or a trailer's once the body has ended. */
export interface ChecksumClaim {
  readonly algorithm: string
  /** Base64, from the header; absent: from the trailer named `x-amz-checksum-<algorithm>`. */
  readonly value?: string
}

/** The checksum a request claims (none: nothing to check). An unknown algorithm is refused. */
export function checksumClaim(req: IncomingMessage): ChecksumClaim | undefined {
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith(HEADER) || name === 'x-amz-checksum-type' || name === 'x-amz-checksum-algorithm') continue
    const algorithm = name.slice(HEADER.length)
    if (!ALGORITHMS[algorithm])
      throw new S3Error('InvalidRequest', 400, `Unsupported checksum ${name.slice(0, 80)} (crc32, crc32c, crc64nvme, sha1 and sha256 are)`)
    return { algorithm, value: String(value) }
  }
  const trailer = req.headers['x-amz-trailer']
  if (typeof trailer === 'string' && trailer.trim()) {
    const name = trailer.split(',')[0]!.trim().toLowerCase()
    if (!name.startsWith(HEADER)) throw new S3Error('InvalidRequest', 400, `Unsupported trailer ${name.slice(0, 80)}`)
    const algorithm = name.slice(HEADER.length)
    if (!ALGORITHMS[algorithm])
      throw new S3Error('InvalidRequest', 400, `Unsupported checksum ${name.slice(0, 80)} (crc32, crc32c, crc64nvme, sha1 and sha256 are)`)
    return { algorithm }
  }
  return undefined
}

/**
 * Passes the body through while computing the claimed checksum, and fails at the end (BadDigest) when
 * it differs. `trailers` gives the trailers once the decoding before this stream has ended.
 */
export class ChecksumCheck extends Transform {
  readonly #sum: Checksum
  constructor(
    private readonly claim: ChecksumClaim,
    private readonly trailers: () => Record<string, string>,
  ) {
    super()
    this.#sum = ALGORITHMS[claim.algorithm]!()
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#sum.update(chunk)
    done(null, chunk)
  }

  override _flush(done: TransformCallback): void {
    const expected = this.claim.value ?? this.trailers()[`${HEADER}${this.claim.algorithm}`]
    if (expected === undefined)
      return done(new S3Error('InvalidRequest', 400, `x-amz-trailer announced ${HEADER}${this.claim.algorithm}, but the body carried no such trailer`))
    this.#sum.digest().then((d) => {
      const got = Buffer.from(d).toString('base64')
      if (got !== expected.trim())
        return done(new S3Error('BadDigest', 400, `The ${this.claim.algorithm.toUpperCase()} you specified did not match the calculated checksum.`))
      done()
    }, done)
  }
}
