import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { AccessKey } from '../src/config.js'
import { AwsChunkedDecoder } from '../src/s3/aws-chunked.js'
import { verifyRequest } from '../src/s3/sigv4.js'

// The signature checks against the examples AWS publishes for S3 Signature Version 4 (the S3 API
// reference, "Signature Calculations for the Authorization Header"): a pass means the canonical
// request and the chunk chaining match the real service, not merely this code's own signer.

const example: AccessKey = { accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', grants: [] }
const keys = new Map([[example.accessKey, example]])
const at = Date.UTC(2013, 4, 24, 0, 0, 0)

/** A request as node:http hands it over: method, headers (lower-case) and raw headers. */
function request(method: string, headers: Record<string, string>): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  return { method, headers: lower, rawHeaders: Object.entries(headers).flat() } as unknown as IncomingMessage
}

const credential = 'Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request'

describe("SigV4 against AWS's published examples", () => {
  it('GET with a range (virtual-host style)', async () => {
    const req = request('GET', {
      Host: 'examplebucket.s3.amazonaws.com',
      Range: 'bytes=0-9',
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'x-amz-date': '20130524T000000Z',
      Authorization: `AWS4-HMAC-SHA256 ${credential},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
    })
    const v = await verifyRequest(req, '/test.txt', new URLSearchParams(), keys, at)
    expect(v.key.accessKey).toBe('AKIAIOSFODNN7EXAMPLE')
    await expect(verifyRequest(req, '/test.txt', new URLSearchParams(), keys, at + 16 * 60_000)).rejects.toMatchObject({ code: 'RequestTimeTooSkewed' })
    const tampered = request('GET', { ...Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), range: 'bytes=0-10' })
    await expect(verifyRequest(tampered, '/test.txt', new URLSearchParams(), keys, at)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' })
  })

  const chunked = (corrupt = false) => {
    const parts: string[] = []
    for (const [size, sig] of [
      [65536, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648'],
      [1024, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497'],
      [0, 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'],
    ] as const) {
      const data = 'a'.repeat(size).split('')
      if (corrupt && size === 1024) data[10] = 'b'
      parts.push(`${size.toString(16)};chunk-signature=${sig}\r\n${data.join('')}\r\n`)
    }
    return Buffer.from(parts.join(''))
  }
  const streamingPut = () =>
    request('PUT', {
      Host: 's3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      Authorization: `AWS4-HMAC-SHA256 ${credential},SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`,
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'Content-Encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560',
      'Content-Length': '66824',
    })

  it('a streaming PUT with signed chunks decodes to its 66,560 bytes, in pieces of any size', async () => {
    const v = await verifyRequest(streamingPut(), '/examplebucket/chunkObject.txt', new URLSearchParams(), keys, at)
    expect(v.payload).toBe('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
    const body = chunked()
    expect(body.length).toBe(66824)
    for (const piece of [1, 7, 4096, 70_000]) {
      const pieces = Array.from({ length: Math.ceil(body.length / piece) }, (_, i) => body.subarray(i * piece, (i + 1) * piece))
      const out: Buffer[] = []
      for await (const c of Readable.from(pieces).pipe(new AwsChunkedDecoder(v.chunks, 66560))) out.push(c as Buffer)
      const all = Buffer.concat(out)
      expect(all.length).toBe(66560)
      expect(all.every((b) => b === 0x61)).toBe(true)
    }
  })

  it('a changed byte, a cut body or a wrong length fails the stream', async () => {
    const v = await verifyRequest(streamingPut(), '/examplebucket/chunkObject.txt', new URLSearchParams(), keys, at)
    const drain = async (body: Buffer, length = 66560) => {
      for await (const _ of Readable.from([body]).pipe(new AwsChunkedDecoder(v.chunks, length))) void _
    }
    await expect(drain(chunked(true))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' })
    await expect(drain(chunked().subarray(0, 60_000))).rejects.toMatchObject({ code: 'IncompleteBody' })
    await expect(drain(chunked(), 66561)).rejects.toMatchObject({ code: 'IncompleteBody' })
    await expect(drain(Buffer.from(`${'f'.repeat(5000)}\r\n`))).rejects.toMatchObject({ code: 'IncompleteBody' })
  })
})
