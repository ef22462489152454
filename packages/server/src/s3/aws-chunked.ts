import { createHash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { OffThreadSha256 } from '@varve/core'
import { S3Error } from '../errors.js'
import { EMPTY_SHA256, sameSignature, sha256Hex, type ChunkSigner } from './sigv4.js'

// The `aws-chunked` body the AWS SDKs send for STREAMING-* payloads: `<hex size>[;chunk-signature=<sig>]\r\n
// <data>\r\n` repeated, a 0-size chunk, then optional trailers (`x-amz-checksum-crc32:...`) and an
// empty line. Decoded as it streams, so a 5 GiB upload never sits in memory; with signed chunks every
// chunk's signature chains from the previous one and is checked when the chunk ends.

const MAX_LINE = 4096

const incomplete = (why: string) => new S3Error('IncompleteBody', 400, `The aws-chunked body is malformed: ${why}`)
const badChunkSignature = () => new S3Error('SignatureDoesNotMatch', 403, 'A chunk signature does not match.')

export class AwsChunkedDecoder extends Transform {
  #buf: Buffer = Buffer.alloc(0)
  #state: 'header' | 'data' | 'data-end' | 'trailer' | 'done' = 'header'
  #left = 0
  #chunkSignature: string | undefined
  #hash = createHash('sha256')
  #previous: string
  #decoded = 0
  readonly #trailers: string[] = []

  /** `signer` when chunks are signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]); `expectedLength` from x-amz-decoded-content-length. */
  constructor(
    private readonly signer: ChunkSigner | undefined,
    private readonly expectedLength: number | undefined,
  ) {
    super()
    this.#previous = signer?.seed ?? ''
  }

  /** The trailers that came after the last chunk (name → value). */
  get trailers(): Record<string, string> {
    return Object.fromEntries(this.#trailers.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk
    this.#drain().then(() => done(), done)
  }

  override _flush(done: TransformCallback): void {
    if (this.#state !== 'done') return done(incomplete('it ended before its last chunk'))
    if (this.expectedLength !== undefined && this.#decoded !== this.expectedLength)
      return done(incomplete(`it holds ${this.#decoded} bytes, x-amz-decoded-content-length says ${this.expectedLength}`))
    done()
  }

  async #drain(): Promise<void> {
    for (;;) {
      if (this.#state === 'header') {
        const line = this.#line()
        if (line === undefined) return
        const m = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(line)
        if (!m) throw incomplete('a chunk header is not <hex size>[;chunk-signature=<signature>]')
        if (this.signer && !m[2]) throw badChunkSignature()
        this.#left = parseInt(m[1]!, 16)
        this.#chunkSignature = m[2]
        this.#hash = createHash('sha256')
        if (this.#left === 0) {
          await this.#checkChunk(EMPTY_SHA256)
          this.#state = 'trailer'
          continue
        }
        this.#state = 'data'
      } else if (this.#state === 'data') {
        if (!this.#buf.length) return
        const take = Math.min(this.#left, this.#buf.length)
        const data = this.#buf.subarray(0, take)
        this.#buf = this.#buf.subarray(take)
        this.#left -= take
        this.#decoded += take
        if (this.signer) this.#hash.update(data)
        this.push(data)
        if (this.#left === 0) this.#state = 'data-end'
      } else if (this.#state === 'data-end') {
        const line = this.#line()
        if (line === undefined) return
        if (line !== '') throw incomplete('a chunk is longer than its header says')
        await this.#checkChunk(this.#hash.digest('hex'))
        this.#state = 'header'
      } else if (this.#state === 'trailer') {
        const line = this.#line()
        if (line === undefined) return
        if (line === '') {
          await this.#checkTrailers()
          this.#state = 'done'
          continue
        }
        if (this.#trailers.length > 16) throw incomplete('too many trailers')
        this.#trailers.push(line)
      } else {
        if (this.#buf.length) throw incomplete('bytes after the last chunk')
        return
      }
    }
  }

  /** The next CRLF-terminated line, or undefined until it has arrived whole. */
  #line(): string | undefined {
    const end = this.#buf.indexOf('\r\n')
    if (end < 0) {
      if (this.#buf.length > MAX_LINE) throw incomplete('a line is too long')
      return undefined
    }
    const line = this.#buf.subarray(0, end).toString('latin1')
    this.#buf = this.#buf.subarray(end + 2)
    return line
  }

  async #checkChunk(dataHash: string): Promise<void> {
    if (!this.signer) return
    const s = this.signer
    const expected = await s.sign(`AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${this.#previous}\n${EMPTY_SHA256}\n${dataHash}`)
    if (!sameSignature(expected, this.#chunkSignature ?? '')) throw badChunkSignature()
    this.#previous = expected
  }

  async #checkTrailers(): Promise<void> {
    if (!this.signer) return
    const sig = this.#trailers.find((l) => l.toLowerCase().startsWith('x-amz-trailer-signature:'))
    const others = this.#trailers.filter((l) => l !== sig)
    if (!others.length && !sig) return
    if (!sig) throw badChunkSignature()
    const canonical = others.map((l) => `${l.slice(0, l.indexOf(':')).trim().toLowerCase()}:${l.slice(l.indexOf(':') + 1).trim()}\n`).join('')
    const s = this.signer
    const expected = await s.sign(`AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${this.#previous}\n${sha256Hex(canonical)}`)
    if (!sameSignature(expected, sig.slice(sig.indexOf(':') + 1).trim())) throw badChunkSignature()
  }
}

/** Checks a body against the hex SHA-256 the request was signed with; fails at its end when it differs. */
export class PayloadHashCheck extends Transform {
  // Hashed on a worker thread: the same bytes are hashed again for their address on this one.
  #hash = new OffThreadSha256()
  constructor(private readonly expected: string) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk).then(() => done(null, chunk), done)
  }
  override _flush(done: TransformCallback): void {
    this.#hash.digest().then((hex) => {
      if (hex !== this.expected)
        return done(new S3Error('XAmzContentSHA256Mismatch', 400, 'The provided x-amz-content-sha256 header does not match what was computed.'))
      done()
    }, done)
  }
  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.#hash.abandon()
    done(err)
  }
}
