import { spawn } from 'node:child_process'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository, seededRandom } from '@varve/core'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { startTestAzure, type TestAzure } from '@varve/azure-adapter/testing'
import { startTestGcs, type TestGcs } from '@varve/gcs-adapter/testing'
import '@varve/azure-adapter'
import '@varve/gcs-adapter'
import { collect, tempDir, workers } from './helpers/processes.js'

// A child commits, merges and GCs in a loop; the parent kills it with SIGKILL at random moments.
// After every kill: verify is clean, every commit the child saw acknowledged is there, and the
// repository takes new commits. VARVE_TORTURE_KILLS raises the count (default 50 per store).
const KILLS = Number(process.env.VARVE_TORTURE_KILLS ?? 50)
const SEED = Number(process.env.VARVE_TORTURE_SEED ?? 4242)

// On the emulators (Azurite, fake-gcs-server) fewer kills by default: each costs more there.
const EMULATOR_KILLS = Number(process.env.VARVE_TORTURE_EMULATOR_KILLS ?? Math.min(KILLS, 20))

let s3: TestS3
let azure: TestAzure
let gcs: TestGcs
const bucket = `varve-torture-${randomBytes(4).toString('hex')}`
beforeAll(async () => {
  ;[s3, azure, gcs] = await Promise.all([startTestS3(), startTestAzure(), startTestGcs()])
  await Promise.all([s3.createBucket(bucket), azure.createContainer(bucket), gcs.createBucket(bucket)])
}, 180_000)
afterAll(async () => {
  await Promise.all([s3?.stop(), azure?.stop(), gcs?.stop()])
})

/**
 * Runs the worker until it has acknowledged `commits` commits, then lets it run `delayMs` more (to land
 * the kill at a random point of the next operation) and SIGKILLs it; returns what it acknowledged.
 * Killing after observed progress, never on a timer alone, makes the test independent of the
 * machine's speed: on a machine ten times slower it takes ten times as long and checks the same.
 */
function runAndKill(location: string, s3json: string, seed: number, commits: number, delayMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(workers, 'torture-worker.mjs'), location, s3json, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    })
    let out = ''
    let err = ''
    let timer: NodeJS.Timeout | undefined
    // Only a hung worker meets the watchdog: it fails the test below (it did not get its work done).
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 600_000)
    child.stdout.on('data', (d) => {
      out += d
      if (!timer && out.split('\n').filter((l) => l.startsWith('COMMIT ')).length >= commits) timer = setTimeout(() => child.kill('SIGKILL'), delayMs)
    })
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code, signal) => {
      clearTimeout(watchdog)
      clearTimeout(timer)
      if (signal !== 'SIGKILL') return reject(new Error(`worker ended by itself (${code}): ${err.slice(-2000)}`))
      resolve(out.split('\n').filter((l) => l.startsWith('COMMIT ')))
    })
  })
}

const stores = [
  { name: 'local store', kills: KILLS, location: (dir: string) => path.join(dir, 'lake'), options: () => ({}), s3json: () => '' },
  {
    name: 'S3 on MinIO',
    kills: KILLS,
    location: () => `s3://${bucket}/${randomBytes(5).toString('hex')}`,
    options: () => ({ s3: s3.options }),
    s3json: () => JSON.stringify(s3.options),
  },
  {
    name: 'Azure Blob on Azurite',
    kills: EMULATOR_KILLS,
    location: () => `az://${azure.account}/${bucket}/${randomBytes(5).toString('hex')}`,
    options: () => ({ azure: { connectionString: azure.connectionString } }),
    s3json: () => JSON.stringify({ azure: { connectionString: azure.connectionString } }),
  },
  {
    name: 'GCS on fake-gcs-server',
    kills: EMULATOR_KILLS,
    location: () => `gs://${bucket}/${randomBytes(5).toString('hex')}`,
    options: () => ({ gcs: { endpoint: gcs.endpoint } }),
    s3json: () => JSON.stringify({ gcs: { endpoint: gcs.endpoint } }),
  },
]

describe.each(stores)('crash torture: $name', (store) => {
  it(`survives ${store.kills} SIGKILLs at random moments`, async () => {
    if (store.name.startsWith('S3')) await import('@varve/s3-adapter')
    const t = await tempDir('torture')
    const rnd = seededRandom(SEED)
    const location = store.location(t.dir)
    try {
      await (await Repository.init(location, { ...store.options(), author: 'parent' })).close()
      const acknowledged: [branch: string, id: string][] = []
      for (let k = 0; k < store.kills; k++) {
        const target = 2 + Math.floor(rnd.next() * 2)
        const lines = await runAndKill(location, store.s3json(), SEED + k, target, Math.floor(rnd.next() * 150))
        expect(lines.length, `worker ${k + 1} was killed before it acknowledged ${target} commits (hung?)`).toBeGreaterThanOrEqual(target)
        for (const l of lines) {
          const [, branch, id] = l.split(' ')
          acknowledged.push([branch!, id!])
        }
        const repo = await Repository.open(location, store.options())
        const v = await repo.verify({ retainDays: 0, full: true })
        expect(v.problems, `after kill ${k + 1}`).toEqual([])
        const mainLog = new Set((await collect(repo.log('main'))).map((c) => c.id))
        for (const [branch, id] of acknowledged) {
          if (mainLog.has(id)) continue
          // a branch commit whose merge did not return before the kill is on its branch, if it still exists
          expect(branch, `acknowledged commit ${id} is missing from main (kill ${k + 1})`).not.toBe('main')
          const b = await repo.getBranch(branch).catch(() => undefined)
          if (b) expect(new Set((await collect(repo.log(branch))).map((c) => c.id)).has(id)).toBe(true)
        }
        // the repository is usable: a commit lands on main
        await repo.put('main', `parent/${k}.txt`, `after kill ${k + 1}`)
        await repo.commit('main', { message: `parent after kill ${k + 1}` })
        await repo.close()
      }
      expect(acknowledged.length).toBeGreaterThan(store.kills) // the child got real work done between kills
    } finally {
      await t.cleanup()
    }
  }, 7_200_000)
})
