import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ForwardingBlockStore, Repository, VarveError, type BlockStreamOptions as StreamOptions } from '@varve/core'
import { S3BlockStore, S3RefStore } from '@varve/s3-adapter'
import { useTestS3 } from './s3-fixtures.js'

// repo.uploads on a real MinIO (issue 23): multipart uploads kept in the store, so that any process
// that opens the repository can take any request of any upload (a gateway's instances).
const s3 = useTestS3()
const MiB = 1024 * 1024
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const open = async (location: string) => Repository.open(location, { s3: s3.server().options })

async function fresh(): Promise<{ location: string; a: Repository; b: Repository; c: Repository }> {
  const location = `s3://${s3.bucket}/${s3.freshPrefix()}`
  await (await Repository.init(location, { s3: s3.server().options })).close()
  return { location, a: await open(location), b: await open(location), c: await open(location) }
}

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e) => (e instanceof VarveError ? e.code : String(e)),
  )

describe('repo.uploads on S3: one upload, many processes (issue 23)', () => {
  it("parts sent to three repositories in any order complete on a fourth; the address is the content's", async () => {
    const { location, a, b, c } = await fresh()
    expect(a.uploads.supported).toBe(true)
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(123_456)]
    const whole = Buffer.concat(parts)
    const u = await a.uploads.create('main', 'big/one.bin', { owner: 'k1', contentType: 'application/x-test', metadata: { origin: 'test' } })
    expect(u).toMatchObject({ branch: 'main', path: 'big/one.bin', owner: 'k1' })
    const etags: string[] = []
    const by = [c, a, b, c]
    await Promise.all([3, 1, 0, 2].map(async (i) => (etags[i] = (await by[i]!.uploads.uploadPart(u.id, i + 1, parts[i]!, parts[i]!.byteLength)).etag)))
    expect((await b.uploads.parts(u.id)).map((p) => p.n)).toEqual([1, 2, 3, 4])
    const d = await open(location)
    const entry = await d.uploads.complete(
      u.id,
      etags.map((etag, i) => ({ n: i + 1, etag: `"${etag}"` })),
    )
    expect(entry).toMatchObject({
      path: 'big/one.bin',
      size: whole.byteLength,
      address: sha(whole),
      contentType: 'application/x-test',
      metadata: { origin: 'test' },
    })
    expect(sha(await a.get('main', 'big/one.bin'))).toBe(sha(whole))
    await expect(code(d.uploads.get(u.id))).resolves.toBe('NOT_FOUND')
    for (const r of [a, b, c, d]) await r.close()
  })

  it('one process that sees every part (out of order, as parallel clients send them) hashes them on the way: same address, no second read', async () => {
    const { location, b, c } = await fresh()
    const prefix = location.slice(`s3://${s3.bucket}/`.length)
    const streamed: string[] = []
    class Counting extends ForwardingBlockStore {
      override getStream(key: string, options?: StreamOptions) {
        streamed.push(key)
        return super.getStream(key, options)
      }
    }
    const opts = { ...s3.server().options, bucket: s3.bucket, prefix }
    const a = await Repository.open({ blocks: new Counting(new S3BlockStore(opts)), refs: new S3RefStore(opts) })
    const parts = Array.from({ length: 6 }, () => randomBytes(5 * MiB))
    const u = await a.uploads.create('main', 'in-order.bin')
    const etags: string[] = []
    async function* stream(b: Buffer) {
      for (let i = 0; i < b.byteLength; i += 256 * 1024) yield b.subarray(i, i + 256 * 1024)
    }
    await Promise.all([2, 0, 5, 1, 4, 3].map(async (i) => (etags[i] = (await a.uploads.uploadPart(u.id, i + 1, stream(parts[i]!), parts[i]!.byteLength)).etag)))
    const entry = await a.uploads.complete(
      u.id,
      etags.map((etag, i) => ({ n: i + 1, etag })),
    )
    expect(entry.address).toBe(sha(Buffer.concat(parts)))
    expect(streamed.filter((k) => k.startsWith('blobs/'))).toEqual([]) // the assembled object was not read back
    expect(sha(await b.get('main', 'in-order.bin'))).toBe(entry.address)
    for (const r of [a, b, c]) await r.close()
  })

  it('a part uploaded again on another process replaces it: Complete with the new ETag stores the new bytes, the old ETag is refused', async () => {
    const { a, b, c } = await fresh()
    const first = randomBytes(5 * MiB)
    const again = randomBytes(5 * MiB)
    const last = randomBytes(1000)
    const u = await a.uploads.create('main', 'again.bin')
    const e1 = (await a.uploads.uploadPart(u.id, 1, first, first.byteLength)).etag
    const e2 = (await a.uploads.uploadPart(u.id, 2, last, last.byteLength)).etag
    const e1b = (await b.uploads.uploadPart(u.id, 1, again, again.byteLength)).etag
    await expect(
      code(
        a.uploads.complete(u.id, [
          { n: 1, etag: e1 },
          { n: 2, etag: e2 },
        ]),
      ),
    ).resolves.toBe('INVALID_ARGUMENT')
    const entry = await a.uploads.complete(u.id, [
      { n: 1, etag: e1b },
      { n: 2, etag: e2 },
    ])
    expect(entry.address).toBe(sha(Buffer.concat([again, last])))
    for (const r of [a, b, c]) await r.close()
  })

  it('refuses what S3 would: parts out of order, a small part before the last, a body longer or shorter than its length, an unknown upload', async () => {
    const { a, b, c } = await fresh()
    const u = await a.uploads.create('main', 'bad.bin')
    const small = randomBytes(1000)
    const e1 = (await a.uploads.uploadPart(u.id, 1, small, small.byteLength)).etag
    const e2 = (await a.uploads.uploadPart(u.id, 2, small, small.byteLength)).etag
    await expect(
      a.uploads.complete(u.id, [
        { n: 2, etag: e2 },
        { n: 1, etag: e1 },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { reason: 'order' } })
    await expect(
      a.uploads.complete(u.id, [
        { n: 1, etag: e1 },
        { n: 2, etag: e2 },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { reason: 'too-small' } })
    async function* body(n: number) {
      yield Buffer.alloc(n, 7)
    }
    await expect(code(a.uploads.uploadPart(u.id, 3, body(2000), 1000))).resolves.toBe('INVALID_ARGUMENT')
    await expect(code(a.uploads.uploadPart(u.id, 3, body(500), 1000))).resolves.toBe('INVALID_ARGUMENT')
    await expect(code(a.uploads.uploadPart(u.id, 0, small, small.byteLength))).resolves.toBe('INVALID_ARGUMENT')
    await expect(code(a.uploads.uploadPart('0'.repeat(32), 1, small, small.byteLength))).resolves.toBe('NOT_FOUND')
    await expect(code(a.uploads.uploadPart('../../etc', 1, small, small.byteLength))).resolves.toBe('NOT_FOUND')
    await expect(code(a.uploads.create('nope', 'x.bin'))).resolves.toBe('NOT_FOUND')
    await expect(code(a.uploads.create('main', '../x.bin'))).resolves.toBe('INVALID_PATH')
    // a single small part is a whole object (the last part may be short)
    const entry = await b.uploads.complete(u.id, [{ n: 1, etag: e1 }])
    expect(entry.address).toBe(sha(small))
    for (const r of [a, b, c]) await r.close()
  })

  it('abort on one process ends the upload everywhere; abandoned uploads expire by their last part, not their start', async () => {
    const { a, b, c } = await fresh()
    const u = await a.uploads.create('main', 'aborted.bin', { owner: 'k2' })
    await b.uploads.uploadPart(u.id, 1, Buffer.from('x'), 1)
    await c.uploads.abort(u.id)
    await expect(code(a.uploads.parts(u.id))).resolves.toBe('NOT_FOUND')
    await expect(code(b.uploads.uploadPart(u.id, 2, Buffer.from('y'), 1))).resolves.toBe('NOT_FOUND')

    const idle = await a.uploads.create('main', 'idle.bin', { owner: 'k2' })
    const busy = await a.uploads.create('main', 'busy.bin', { owner: 'k3' })
    expect((await collect(b.uploads.list())).map((r) => r.id).sort()).toEqual([idle.id, busy.id].sort())
    await new Promise((r) => setTimeout(r, 2500))
    await b.uploads.uploadPart(busy.id, 1, Buffer.from('still here'), 10)
    expect(await c.uploads.expire(2000)).toEqual([idle.id])
    await expect(code(a.uploads.get(idle.id))).resolves.toBe('NOT_FOUND')
    expect((await a.uploads.parts(busy.id)).length).toBe(1)
    for (const r of [a, b, c]) await r.close()
  })

  it('Complete again after the store assembled the object but staging failed (the branch was gone) stages it', async () => {
    const { a, b, c } = await fresh()
    await a.createBranch('gone')
    const u = await a.uploads.create('gone', 'late.bin')
    const bytes = randomBytes(2000)
    const e = (await a.uploads.uploadPart(u.id, 1, bytes, bytes.byteLength)).etag
    await b.deleteBranch('gone')
    await expect(code(a.uploads.complete(u.id, [{ n: 1, etag: e }]))).resolves.toBe('NOT_FOUND')
    await b.createBranch('gone')
    const entry = await c.uploads.complete(u.id, [{ n: 1, etag: e }])
    expect(entry.address).toBe(sha(bytes))
    expect(sha(await a.get('gone', 'late.bin'))).toBe(sha(bytes))
    for (const r of [a, b, c]) await r.close()
  })
})

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
