import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ForwardingBlockStore, Repository, VarveError, type BlockStore } from '@varve/core'
import { S3BlockStore, S3RefStore } from '@varve/s3-adapter'
import { startTestS3, freePort, type TestS3 } from '@varve/s3-adapter/testing'
import { collect } from './helpers/processes.js'

// A real MinIO, killed with SIGKILL at chosen moments and restarted on the same data.
let server: TestS3
const bucket = `varve-faults-${randomBytes(4).toString('hex')}`
beforeAll(async () => {
  server = await startTestS3()
  await server.createBucket(bucket)
}, 120_000)
afterAll(async () => server?.stop())

const fast = () => ({ ...server.options, maxAttempts: 2 }) // fail fast while the server is down
const freshPrefix = () => `${randomBytes(5).toString('hex')}/`

async function codeOf(p: Promise<unknown>): Promise<VarveError> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  )
  if (!(e instanceof VarveError)) throw new Error(`expected a VarveError, got ${e}`)
  return e
}

/** Every key under a prefix, as a client outside Varve sees them. */
async function visibleKeys(prefix: string): Promise<string[]> {
  const s = new S3BlockStore({ ...server.options, bucket, prefix })
  const keys = (await collect(s.list(''))).map((o) => o.key)
  await s.close()
  return keys
}

describe.skipIf(process.env.VARVE_TEST_S3_ENDPOINT)('S3 faults (MinIO killed and restarted)', () => {
  it('a multipart upload cut by a server crash fails clearly, leaves no object, and succeeds after restart', async () => {
    const prefix = freshPrefix()
    const location = `s3://${bucket}/${prefix}`
    const repo = await Repository.init(location, { s3: fast() })
    const head = await repo.resolve('main')
    const before = await visibleKeys(prefix)
    const part = Buffer.alloc(1 << 20, 1)
    async function* bigSource(killAfterMiB: number | undefined) {
      for (let i = 0; i < 64; i++) {
        if (i === killAfterMiB) await server.kill()
        yield part
      }
    }
    const err = await codeOf(repo.put('main', 'big/huge.bin', bigSource(40)))
    expect(err.code).toBe('UNAVAILABLE')
    expect(err.message).toMatch(/S3 put s3:\/\//)
    await server.restart()
    expect(await visibleKeys(prefix)).toEqual(before) // nothing partial became visible
    expect(await repo.resolve('main')).toBe(head)
    expect(await collect(repo.uncommitted('main'))).toEqual([])
    const entry = await repo.put('main', 'big/huge.bin', bigSource(undefined))
    expect(entry.size).toBe(64 << 20)
    await repo.commit('main', { message: 'big' })
    expect((await repo.get('main', 'big/huge.bin')).byteLength).toBe(64 << 20)
    await repo.close()
  }, 180_000)

  it('a commit cut by a server crash fails clearly, the head does not move, and the retry commits everything', async () => {
    const prefix = freshPrefix()
    const opts = { ...fast(), bucket, prefix }
    let armed = false
    // A real S3 block store; when armed, the commit's node-pack write kills the server first (after the seal).
    const killing = new (class extends ForwardingBlockStore {
      override async put(...args: Parameters<BlockStore['put']>) {
        if (armed && args[0].startsWith('packs/')) {
          armed = false
          await server.kill()
        }
        return super.put(...args)
      }
    })(new S3BlockStore(opts))
    const repo = await Repository.init({ blocks: killing, refs: new S3RefStore(opts) })
    for (let i = 0; i < 30; i++) await repo.put('main', `part/${i}.csv`, `row ${i}`)
    const head = await repo.resolve('main')
    armed = true
    const err = await codeOf(repo.commit('main', { message: 'interrupted' }))
    expect(err.code).toBe('UNAVAILABLE')
    await server.restart()
    expect(await repo.resolve('main')).toBe(head)
    expect(await collect(repo.uncommitted('main'))).toHaveLength(30) // sealed, not lost
    const c = await repo.commit('main', { message: 'after restart' })
    expect(await collect(repo.list(c.id))).toHaveLength(30)
    expect((await collect(repo.refLog('main'))).map((r) => r.operation)).toEqual(['commit', 'create'])
    await repo.close()
  }, 180_000)

  it('a putMany cut by a server crash at its second pack: a clear error, whole batches staged, every staged entry readable, the rerun completes', async () => {
    const prefix = freshPrefix()
    const opts = { ...fast(), bucket, prefix }
    let packs = 0
    // When the second pack is uploaded, the server dies first: the first batch is staged, the rest is not.
    const killing = new (class extends ForwardingBlockStore {
      override async put(...args: Parameters<BlockStore['put']>) {
        if (args[0].startsWith('packs/') && ++packs === 2) await server.kill()
        return super.put(...args)
      }
    })(new S3BlockStore(opts))
    const repo = await Repository.init({ blocks: killing, refs: new S3RefStore(opts) })
    const items = Array.from({ length: 8192 * 2 + 50 }, (_, i) => ({ path: `batch/f${String(i).padStart(6, '0')}`, data: `row ${i}` }))
    const err = await codeOf(repo.putMany('main', items, { concurrency: 8 }))
    expect(err.code).toBe('UNAVAILABLE')
    await server.restart()
    const staged = await collect(repo.uncommitted('main'))
    expect(staged.length % 8192, 'whole batches only').toBe(0)
    expect(staged.length).toBeLessThan(items.length)
    for (const c of [staged[0], staged[staged.length - 1]])
      if (c) expect(Buffer.from(await repo.get('main', c.path)).toString()).toBe(items[Number(c.path.slice(-6))]!.data)
    const again = await repo.putMany('main', items, { concurrency: 8 })
    expect(again.files).toBe(items.length)
    const c = await repo.commit('main', { message: 'after restart' })
    expect(await collect(repo.list(c.id))).toHaveLength(items.length)
    expect((await repo.verify({ full: true })).problems).toEqual([])
    await repo.close()
  }, 240_000)
})

describe('S3 bad input', () => {
  it('a missing bucket reads as one clear line', async () => {
    const err = await codeOf(Repository.open('s3://no-such-bucket-varve/x', { s3: server.options }))
    expect(err.code).toBe('NOT_FOUND')
    expect(err.message).toBe('S3 bucket no-such-bucket-varve does not exist (NoSuchBucket, get s3://no-such-bucket-varve/x/varve.json)')
    expect((await codeOf(Repository.init('s3://no-such-bucket-varve/x', { s3: server.options }))).code).toBe('NOT_FOUND')
  })

  it('wrong credentials read as one clear line', async () => {
    const err = await codeOf(
      Repository.open(`s3://${bucket}/x`, { s3: { ...server.options, credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong-secret' } } }),
    )
    expect(err.code).toBe('PERMISSION_DENIED')
    expect(err.message).toMatch(/^S3 refused get s3:\/\/.*varve\.json: InvalidAccessKeyId \(check the credentials/)
    expect(err.details.s3Code).toBe('InvalidAccessKeyId')
  })

  it('an endpoint where nothing listens fails with UNAVAILABLE, not a hang', async () => {
    const port = await freePort()
    const err = await codeOf(Repository.open(`s3://${bucket}/x`, { s3: { ...server.options, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 } }))
    expect(err.code).toBe('UNAVAILABLE')
    expect(err.message).toMatch(/ECONNREFUSED/) // (a hang would meet the test's timeout instead)
  })

  it('a lost ref store (refs and settings gone, objects present) is refused at open: gc can never wipe it (issue 9.3)', async () => {
    const prefix = freshPrefix()
    const repo = await Repository.init(`s3://${bucket}/${prefix}`, { s3: server.options })
    await repo.put('main', 'precious', 'bytes')
    await repo.commit('main', { message: 'precious' })
    await repo.close()
    const raw = new S3BlockStore({ ...server.options, bucket, prefix })
    const refKeys = (await collect(raw.list(''))).map((o) => o.key).filter((k) => /^(refs|settings|staging|reflog)\//.test(k))
    expect(refKeys.length).toBeGreaterThan(0)
    await raw.deleteMany(refKeys)
    const dataBefore = (await collect(raw.list('data/'))).length
    expect((await codeOf(Repository.open(`s3://${bucket}/${prefix}`, { s3: server.options }))).code).toBe('NOT_A_REPOSITORY')
    expect((await collect(raw.list('data/'))).length).toBe(dataBefore)
    await raw.close()
  })

  it('a location that holds no repository is NOT_A_REPOSITORY; a bad URL is INVALID_ARGUMENT', async () => {
    expect((await codeOf(Repository.open(`s3://${bucket}/empty-prefix`, { s3: server.options }))).code).toBe('NOT_A_REPOSITORY')
    expect((await codeOf(Repository.open('s3://Bad_Bucket/x', { s3: server.options }))).code).toBe('INVALID_ARGUMENT')
  })

  it("objects deleted behind Varve's back read as NOT_FOUND naming the object", async () => {
    const prefix = freshPrefix()
    const repo = await Repository.init(`s3://${bucket}/${prefix}`, { s3: server.options })
    for (let i = 0; i < 5; i++) await repo.put('main', `f${i}`, `v${i}`)
    const c = await repo.commit('main', { message: 'x' })
    const raw = new S3BlockStore({ ...server.options, bucket, prefix })
    // The commit's tree nodes are in a node pack (decision 0008): delete it.
    for await (const o of raw.list('packs/')) await raw.delete(o.key)
    const fresh = await Repository.open(`s3://${bucket}/${prefix}`, { s3: server.options }) // no cached nodes
    const err = await codeOf(collect(fresh.list('main')))
    expect(err.code).toBe('NOT_FOUND')
    expect(err.details).toMatchObject({ object: c.rootAt!.pack, node: c.root })
    await raw.delete(`commit/${c.id.slice(0, 2)}/${c.id}`)
    await fresh.close()
    const fresher = await Repository.open(`s3://${bucket}/${prefix}`, { s3: server.options }) // immutable objects are cached: start cold
    const err2 = await codeOf(collect(fresher.log('main')))
    expect(err2.code).toBe('NOT_FOUND')
    expect(err2.details.object).toBe(c.id)
    await fresher.close()
    await raw.close()
    await repo.close()
  })
})
