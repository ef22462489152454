import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Repository } from '@varve/core'
import '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, runNode, tempDir, workers } from './helpers/processes.js'

// Issue 23: conditional writes per branch, as delta-rs commits its log: processes race to create each
// version with ifNoneMatch '*'; every version has exactly one winner, and what it wrote is what is there.
async function race(location: string, s3: string, processes: number, rounds: number): Promise<void> {
  const init = await Repository.open(location, s3 ? { s3: JSON.parse(s3) } : {})
  await init.createBranch('table')
  await init.close()
  const startAt = String(Date.now() + 1500)
  const outs = await Promise.all(
    Array.from({ length: processes }, (_, id) =>
      runNode(path.join(workers, 'conditional-worker.mjs'), [location, s3, String(id), String(rounds), 'table', startAt], { timeoutMs: 300_000 }),
    ),
  )
  const results = outs.map((o) => JSON.parse(o) as { id: number; won: number[] })
  const winners = new Map<number, number[]>()
  for (const r of results) for (const round of r.won) winners.set(round, [...(winners.get(round) ?? []), r.id])
  for (let round = 0; round < rounds; round++) expect(winners.get(round), `round ${round}`).toHaveLength(1)
  const repo = await Repository.open(location, s3 ? { s3: JSON.parse(s3) } : {})
  try {
    const files = await collect(repo.list('table', { prefix: '_delta_log/' }))
    expect(files).toHaveLength(rounds)
    for (let round = 0; round < rounds; round++) {
      const body = JSON.parse(Buffer.from(await repo.get('table', `_delta_log/${String(round).padStart(20, '0')}.json`)).toString())
      expect(body).toEqual({ writer: winners.get(round)![0], round })
    }
  } finally {
    await repo.close()
  }
}

describe('conditional writes per branch (issue 23)', () => {
  it('4 processes race for 25 log versions on the embedded store: one winner each, its bytes in place', async () => {
    const t = await tempDir('conditional')
    try {
      const location = path.join(t.dir, 'lake')
      await (await Repository.init(location)).close()
      await race(location, '', 4, 25)
    } finally {
      await t.cleanup()
    }
  }, 300_000)

  describe('on MinIO', () => {
    let server: TestS3
    const bucket = `varve-cw-${randomBytes(4).toString('hex')}`
    beforeAll(async () => {
      server = await startTestS3()
      await server.createBucket(bucket)
    }, 120_000)
    afterAll(async () => server?.stop())

    it('4 processes race for 15 log versions on one s3:// repository: one winner each', async () => {
      const location = `s3://${bucket}/${randomBytes(5).toString('hex')}`
      await (await Repository.init(location, { s3: server.options })).close()
      await race(location, JSON.stringify(server.options), 4, 15)
    }, 300_000)
  })
})
