import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import '@varve/s3-adapter' // first: keeps the AWS SDK's Node 20 notice out of the output
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { startTestAzure } from '@varve/azure-adapter/testing'
import { Repository } from '@varve/core'
import { startTestGcs } from '@varve/gcs-adapter/testing'
import { startTestVersityGw } from '@varve/s3-adapter/testing'
import '@varve/azure-adapter'
import '@varve/gcs-adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, runNode, tempDir, workers } from './helpers/processes.js'
import { spawnServe } from './helpers/serve.js'
import { s3CliEnv, varve } from './helpers/varve-cli.js'

// A second S3 implementation (versitygw), Azure Blob (Azurite) and GCS (fake-gcs-server) as users reach them: many processes committing to
// one repository, the built CLI, and `varve serve` in front of them with a real S3 client.
interface StoreUnderTest {
  /** A fresh repository location in the store. */
  location(): string
  /** Repository options for the library and the workers. */
  readonly options: Record<string, unknown>
  /** The environment the CLI needs to reach the store (what a user exports). */
  readonly env: NodeJS.ProcessEnv
  stop(): Promise<void>
}

const OPS = Number(process.env.VARVE_TORTURE_OPS ?? 25)
const stores: [string, () => Promise<StoreUnderTest>][] = [
  [
    'S3 on versitygw (a second S3 implementation)',
    async () => {
      const s3 = await startTestVersityGw()
      const bucket = `varve-st-${randomBytes(4).toString('hex')}`
      await s3.createBucket(bucket)
      return {
        location: () => `s3://${bucket}/${randomBytes(5).toString('hex')}`,
        options: { s3: s3.options },
        env: s3CliEnv(s3.options),
        stop: () => s3.stop(),
      }
    },
  ],
  [
    'Azure Blob on Azurite',
    async () => {
      const azure = await startTestAzure()
      const container = `varve-st-${randomBytes(4).toString('hex')}`
      await azure.createContainer(container)
      return {
        location: () => `az://${azure.account}/${container}/${randomBytes(5).toString('hex')}`,
        options: { azure: { connectionString: azure.connectionString } },
        env: { AZURE_STORAGE_CONNECTION_STRING: azure.connectionString },
        stop: () => azure.stop(),
      }
    },
  ],
  [
    'GCS on fake-gcs-server',
    async () => {
      const gcs = await startTestGcs()
      const bucket = `varve-st-${randomBytes(4).toString('hex')}`
      await gcs.createBucket(bucket)
      return {
        location: () => `gs://${bucket}/${randomBytes(5).toString('hex')}`,
        options: { gcs: { endpoint: gcs.endpoint } },
        env: { STORAGE_EMULATOR_HOST: gcs.endpoint },
        stop: () => gcs.stop(),
      }
    },
  ],
]

describe.each(stores)('%s', (_name, start) => {
  let store: StoreUnderTest
  beforeAll(async () => {
    store = await start()
  }, 180_000)
  afterAll(async () => store?.stop())

  it(`8 processes mixing puts, commits (${OPS} each), merges and branch creation: nothing acknowledged is lost`, async () => {
    const location = store.location()
    const init = await Repository.init(location, store.options)
    await init.createBranch('shared')
    await init.close()
    const startAt = String(Date.now() + 3000)
    const outs = await Promise.all(
      Array.from({ length: 8 }, (_, id) =>
        runNode(path.join(workers, 'mixed-worker.mjs'), [location, String(id), String(OPS), startAt, JSON.stringify(store.options)], { timeoutMs: 900_000 }),
      ),
    )
    const made = outs.flatMap((o) => JSON.parse(o) as [string, string][])
    expect(made.length).toBeGreaterThan(8 * OPS * 0.5)
    const repo = await Repository.open(location, store.options)
    const reachable = new Set<string>()
    for await (const b of repo.branches())
      for await (const c of repo.log(b.name)) {
        reachable.add(c.id)
        for (const p of c.parents) await repo.getCommit(p)
      }
    for (const [branch, id] of made) expect(reachable.has(id), `${branch} commit ${id} was lost`).toBe(true)
    const mainLog = (await collect(repo.log('main'))).map((c) => c.id)
    expect(new Set(mainLog).size).toBe(mainLog.length)
    expect(await repo.verify({ full: true })).toMatchObject({ ok: true })
    await repo.close()
  }, 900_000)

  it('6 processes stage 50 files each onto one branch at once; one commit holds all 300', async () => {
    const location = store.location()
    const init = await Repository.init(location, store.options)
    await init.createBranch('ingest')
    await init.close()
    const startAt = String(Date.now() + 2000)
    await Promise.all(
      Array.from({ length: 6 }, (_, id) =>
        runNode(path.join(workers, 'stage-worker.mjs'), [location, JSON.stringify(store.options), String(id), '50', 'ingest', startAt], {
          timeoutMs: 600_000,
        }),
      ),
    )
    const repo = await Repository.open(location, store.options)
    const c = await repo.commit('ingest', { message: 'all of it' })
    expect(await collect(repo.list(c.id))).toHaveLength(300)
    expect(await collect(repo.uncommitted('ingest'))).toEqual([])
    await repo.close()
  }, 600_000)

  it('the CLI: init, put, commit, get, log; then varve serve in front of it answers a real S3 client', async () => {
    const t = await tempDir('stores-cli')
    try {
      const location = store.location()
      const env = { ...store.env, VARVE_REPO: location, VARVE_AUTHOR: 'cli' }
      const run = async (...args: string[]) => {
        const r = await varve(args, { cwd: t.dir, env, timeoutMs: 120_000 })
        expect(r.code, `varve ${args.join(' ')}: ${r.stderr}`).toBe(0)
        return r.stdout
      }
      const init = await varve(['init', location], { cwd: t.dir, env, timeoutMs: 120_000 })
      expect(init.code, init.stderr).toBe(0)
      const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7) // streamed: above the single-request size
      fs.writeFileSync(path.join(t.dir, 'big.bin'), big)
      fs.writeFileSync(path.join(t.dir, 'a.csv'), 'id,v\n1,2\n')
      await run('put', 'a.csv', 'main:data/a.csv')
      await run('put', 'big.bin', 'main:data/big.bin')
      await run('commit', 'main', '-m', 'first')
      await run('get', 'main:data/', 'out/')
      expect(fs.readFileSync(path.join(t.dir, 'out', 'a.csv'), 'utf8')).toBe('id,v\n1,2\n')
      expect(fs.readFileSync(path.join(t.dir, 'out', 'big.bin')).equals(big)).toBe(true)
      expect(await run('log', 'main', '--oneline')).toContain('first')
      expect((await varve(['init', location], { cwd: t.dir, env })).code).not.toBe(0) // REPOSITORY_EXISTS

      const serve = await spawnServe([location, '--name', 'lake', '--listen', '127.0.0.1:0'], {
        cwd: t.dir,
        env: { ...store.env, VARVE_SERVE_ACCESS_KEY: 'admin', VARVE_SERVE_SECRET_KEY: 'admin-secret' },
      })
      const s3 = new S3Client({
        endpoint: serve.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'admin', secretAccessKey: 'admin-secret' },
      })
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: 'main/data/a.csv' }))
        expect(await got.Body!.transformToString()).toBe('id,v\n1,2\n')
        await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'main/data/b.txt', Body: 'through the gateway' }))
      } finally {
        s3.destroy()
        expect(await serve.stop()).toBe(0)
      }
      const repo = await Repository.open(location, store.options)
      expect(Buffer.from(await repo.get('main', 'data/b.txt')).toString()).toBe('through the gateway')
      await repo.close()
    } finally {
      await t.cleanup()
    }
  }, 300_000)
})

describe('the conditional-write probe on a real store that drops preconditions', () => {
  let gcs: Awaited<ReturnType<typeof startTestGcs>>
  let proxy: http.Server
  let proxyUrl = ''
  const bucket = `varve-probe-${randomBytes(4).toString('hex')}`
  beforeAll(async () => {
    gcs = await startTestGcs()
    await gcs.createBucket(bucket)
    // A gateway that forwards every request to fake-gcs-server without its generation preconditions,
    // as some S3-compatible stores accept If-None-Match/If-Match and ignore them.
    const target = new URL(gcs.endpoint)
    proxy = http.createServer((req, res) => {
      const url = new URL(req.url!, gcs.endpoint)
      for (const p of ['ifGenerationMatch', 'ifGenerationNotMatch', 'ifMetagenerationMatch']) url.searchParams.delete(p)
      const headers = { ...req.headers, host: target.host }
      delete headers['x-goog-if-generation-match']
      const out = http.request({ host: target.hostname, port: target.port, path: url.pathname + url.search, method: req.method, headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      })
      out.on('error', () => res.destroy())
      req.pipe(out)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`
  }, 180_000)
  afterAll(async () => {
    proxy?.close()
    await gcs?.stop()
  })

  it('varve init refuses it with CONDITIONAL_WRITES_IGNORED; --unsafe-single-writer opens it', async () => {
    const t = await tempDir('probe')
    try {
      const location = `gs://${bucket}/probed`
      const env = { STORAGE_EMULATOR_HOST: proxyUrl }
      const refused = await varve(['init', location, '--json'], { cwd: t.dir, env })
      expect(refused.code).not.toBe(0)
      expect(refused.stderr).toContain('CONDITIONAL_WRITES_IGNORED')
      expect(refused.stderr).toContain('--unsafe-single-writer')
      const forced = await varve(['--unsafe-single-writer', 'init', location], { cwd: t.dir, env })
      expect(forced.code, forced.stderr).toBe(0)
      // Straight to the emulator (preconditions kept), the same store passes the probe.
      const direct = await varve(['init', `gs://${bucket}/direct`], { cwd: t.dir, env: { STORAGE_EMULATOR_HOST: gcs.endpoint } })
      expect(direct.code, direct.stderr).toBe(0)
    } finally {
      await t.cleanup()
    }
  }, 180_000)
})

/** A proxy that records the method, URL and headers of every request it forwards. */
async function recordingProxy(
  target: string,
): Promise<{ url: string; requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[]; close(): void }> {
  const to = new URL(target)
  const requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = []
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers })
    const out = http.request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests, close: () => server.close() }
}

// Azurite and fake-gcs-server accept an encryption scope and a KMS key name and ignore them, so what
// is checked here is that every write asks for it: the requests, as the store receives them.
describe('encryption settings travel on every write (from the CLI environment)', () => {
  it('Azure: every blob write carries the encryption scope (VARVE_AZURE_ENCRYPTION_SCOPE)', async () => {
    const azure = await startTestAzure()
    const proxy = await recordingProxy(/BlobEndpoint=(http:\/\/[^/;]+)/.exec(azure.connectionString)![1]!)
    const t = await tempDir('scope')
    try {
      const container = `varve-scope-${randomBytes(4).toString('hex')}`
      await azure.createContainer(container)
      const env = {
        AZURE_STORAGE_CONNECTION_STRING: azure.connectionString.replace(/BlobEndpoint=http:\/\/[^/;]+/, `BlobEndpoint=${proxy.url}`),
        VARVE_AZURE_ENCRYPTION_SCOPE: 'varve-cmk',
        VARVE_REPO: `az://${azure.account}/${container}/lake`,
      }
      fs.writeFileSync(path.join(t.dir, 'big.bin'), randomBytes(9 * 1024 * 1024)) // streamed as staged blocks
      fs.writeFileSync(path.join(t.dir, 'a.csv'), 'id\n1\n')
      for (const args of [
        ['init', env.VARVE_REPO],
        ['put', 'a.csv', 'main:a.csv'],
        ['put', 'big.bin', 'main:big.bin'],
        ['commit', 'main', '-m', 'scoped'],
      ]) {
        const r = await varve(args, { cwd: t.dir, env })
        expect(r.code, r.stderr).toBe(0)
      }
      const writes = proxy.requests.filter((r) => r.method === 'PUT' && !/restype=container/.test(r.url))
      expect(writes.length).toBeGreaterThan(5)
      expect(writes.some((r) => /comp=block(&|$)/.test(r.url))).toBe(true)
      for (const w of writes) expect(w.headers['x-ms-encryption-scope'], `${w.method} ${w.url}`).toBe('varve-cmk')
    } finally {
      proxy.close()
      await t.cleanup()
      await azure.stop()
    }
  }, 180_000)

  it('GCS: every object upload names the KMS key (VARVE_GCS_KMS_KEY)', async () => {
    const gcs = await startTestGcs()
    const proxy = await recordingProxy(gcs.endpoint)
    const t = await tempDir('kms')
    try {
      const bucket = `varve-kms-${randomBytes(4).toString('hex')}`
      await gcs.createBucket(bucket)
      const key = 'projects/p/locations/global/keyRings/r/cryptoKeys/varve'
      const env = { STORAGE_EMULATOR_HOST: proxy.url, VARVE_GCS_KMS_KEY: key, VARVE_REPO: `gs://${bucket}/lake` }
      fs.writeFileSync(path.join(t.dir, 'big.bin'), randomBytes(9 * 1024 * 1024)) // a resumable upload
      fs.writeFileSync(path.join(t.dir, 'a.csv'), 'id\n1\n')
      for (const args of [
        ['init', env.VARVE_REPO],
        ['put', 'a.csv', 'main:a.csv'],
        ['put', 'big.bin', 'main:big.bin'],
        ['commit', 'main', '-m', 'kms'],
      ]) {
        const r = await varve(args, { cwd: t.dir, env })
        expect(r.code, r.stderr).toBe(0)
      }
      const starts = proxy.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/upload/'))
      expect(starts.length).toBeGreaterThan(5)
      for (const u of starts) expect(new URL(u.url, 'http://x').searchParams.get('kmsKeyName'), u.url).toBe(key)
    } finally {
      proxy.close()
      await t.cleanup()
      await gcs.stop()
    }
  }, 180_000)
})
