import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository } from '@varve/core'
import '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { collect, runNode, workers } from './helpers/processes.js'

// Many machines, no server: each process opens the same s3:// repository on one real MinIO.
let server: TestS3
const bucket = `varve-mm-${randomBytes(4).toString('hex')}`
beforeAll(async () => {
  server = await startTestS3()
  await server.createBucket(bucket)
}, 120_000)
afterAll(async () => server?.stop())

const fresh = () => `s3://${bucket}/${randomBytes(5).toString('hex')}`
const s3json = () => JSON.stringify(server.options)

describe('several machines on one s3:// repository (MinIO)', () => {
  it('6 processes x 20 branch-commit-merge cycles: main holds all 120 merges, each exactly once', async () => {
    const location = fresh()
    await (await Repository.init(location, { s3: server.options })).close()
    const startAt = String(Date.now() + 2000)
    const outs = await Promise.all(
      Array.from({ length: 6 }, (_, id) =>
        runNode(path.join(workers, 'merge-worker.mjs'), [location, s3json(), String(id), '20', startAt], { timeoutMs: 600_000 }),
      ),
    )
    const reported = outs.flatMap((o) => (JSON.parse(o) as { merges: string[] }).merges)
    expect(new Set(reported).size).toBe(120)
    const repo = await Repository.open(location, { s3: server.options })
    const log = await collect(repo.log('main'))
    const merges = log.filter((c) => c.parents.length === 2)
    expect(merges).toHaveLength(120)
    expect(new Set(merges.map((c) => c.message)).size).toBe(120)
    expect(new Set(log.map((c) => c.id)).size).toBe(log.length)
    const ids = new Set(log.map((c) => c.id))
    for (const id of reported) expect(ids.has(id)).toBe(true)
    const files = await collect(repo.list('main', { prefix: 'workers/' }))
    expect(files).toHaveLength(120)
    for (const f of files) expect(Buffer.from(await repo.get('main', f.path)).toString()).toMatch(/^worker \d iteration \d+\n$/)
    expect((await collect(repo.refLog('main'))).filter((r) => r.operation === 'merge')).toHaveLength(120)
    await repo.close()
  }, 600_000)

  it('6 processes stage 50 files each onto one branch at once; one commit holds all 300', async () => {
    const location = fresh()
    const init = await Repository.init(location, { s3: server.options })
    await init.createBranch('ingest')
    await init.close()
    const startAt = String(Date.now() + 2000)
    await Promise.all(
      Array.from({ length: 6 }, (_, id) => runNode(path.join(workers, 'stage-worker.mjs'), [location, s3json(), String(id), '50', 'ingest', startAt])),
    )
    const repo = await Repository.open(location, { s3: server.options })
    const c = await repo.commit('ingest', { message: 'all of it' })
    expect(await collect(repo.list(c.id))).toHaveLength(300)
    expect(await collect(repo.uncommitted('ingest'))).toEqual([])
    await repo.close()
  }, 300_000)

  it('two processes create the same branch at once: exactly one wins, the other gets BRANCH_EXISTS', async () => {
    const location = fresh()
    await (await Repository.init(location, { s3: server.options })).close()
    for (let round = 0; round < 3; round++) {
      const startAt = String(Date.now() + 1500)
      const outs = await Promise.all(
        [0, 1].map(() => runNode(path.join(workers, 's3-create-branch-worker.mjs'), [location, s3json(), `race-${round}`, startAt])),
      )
      const results = outs.map((o) => (JSON.parse(o) as { result: string }).result).sort()
      expect(results).toEqual(['BRANCH_EXISTS', 'won'])
    }
  }, 120_000)
})
