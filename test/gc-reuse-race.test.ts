import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Repository, type Clock, type Entry } from '@varve/core'
import '@varve/s3-adapter'
import { useTestS3 } from '../packages/s3-adapter/test/s3-fixtures.js'
import { tempDir } from './helpers/processes.js'

// The race of issue 9: old garbage whose contents come back under new paths while collections sweep
// it (retention 0, the default grace period). Reproduced before the quarantine protocol: hundreds of
// 3,000 files lost locally, dozens of 1,000 on MinIO. Now every acknowledged put must read back.

const HOUR = 3_600_000
const contentOf = (i: number) => `reused content number ${i} ${'x'.repeat(i % 97)}`

async function race(location: string, files: number, options: { s3?: unknown; ageGarbage: (lake: Repository) => Promise<void>; gcClock: Clock }) {
  const repo = await Repository.init(location, { durable: false, ...(options.s3 ? { s3: options.s3 } : {}) })
  // Garbage: every content committed once under old/, then removed and committed again.
  for (let i = 0; i < files; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, files - i) }, (_, j) => repo.put('main', `old/${i + j}`, contentOf(i + j))))
  }
  await repo.commit('main', { message: 'old' })
  for (let i = 0; i < files; i++) await repo.delete('main', `old/${i}`)
  await repo.commit('main', { message: 'old is garbage' })
  await options.ageGarbage(repo)

  const collector = await Repository.open(location, { clock: options.gcClock, ...(options.s3 ? { s3: options.s3 } : {}) })
  let writing = true
  let sweeps = 0
  let sweptWhileWriting = 0
  // The writers start when the first collection begins to take objects away, so they overlap it.
  let sweeping!: () => void
  const sweepStarted = new Promise<void>((resolve) => (sweeping = resolve))
  const collecting = (async () => {
    while (writing && sweeps < 10_000) {
      const r = await collector.gc({ retainDays: 0, graceSeconds: 3600, onProgress: (p) => p.phase !== 'mark' && sweeping() })
      sweeping() // (never wait for a sweep that found nothing to take)
      sweeps++
      sweptWhileWriting += r.quarantinedObjects
    }
  })().finally(() => sweeping())
  const acknowledged: Entry[] = []
  try {
    await sweepStarted
    // The same contents again, under new paths, 16 at a time, committed every 512.
    for (let i = 0; i < files; i += 16) {
      const batch = await Promise.all(Array.from({ length: Math.min(16, files - i) }, (_, j) => repo.put('main', `new/${i + j}`, contentOf(i + j))))
      acknowledged.push(...batch)
      if ((i / 16) % 32 === 31) await repo.commit('main', { message: `new up to ${i}` })
    }
    await repo.commit('main', { message: 'new' })
  } finally {
    writing = false
    await collecting
  }
  // Two more collections after the writers stopped: anything quarantined by mistake would go now.
  await collector.gc({ retainDays: 0, graceSeconds: 3600 })
  await collector.gc({ retainDays: 0, graceSeconds: 3600 })
  const lost: string[] = []
  for (const e of acknowledged) {
    const bytes = await repo.get('main', e.path).catch(() => undefined)
    if (!bytes || Buffer.from(bytes).toString() !== contentOf(Number(e.path.slice(4)))) lost.push(e.path)
  }
  const verify = await repo.verify()
  await collector.close()
  await repo.close()
  return { lost, sweeps, sweptWhileWriting, verify }
}

describe('garbage collection racing writers that reuse its garbage', () => {
  it('local store: 3,000 reused contents during sweeps, none lost', async () => {
    const t = await tempDir('gc-race')
    try {
      const lake = path.join(t.dir, 'lake')
      // The collector's clock runs 3 hours ahead: the garbage, and the ref moves that made it garbage,
      // are older than the grace period to it (and so is everything the writers store: harsher).
      const r = await race(lake, 3000, {
        gcClock: { now: () => Date.now() + 3 * HOUR },
        ageGarbage: async () => {
          const old = new Date(Date.now() - 3 * HOUR)
          const walk = async (dir: string): Promise<void> => {
            for (const d of await fs.readdir(dir, { withFileTypes: true })) {
              const p = path.join(dir, d.name)
              if (d.isDirectory()) await walk(p)
              else await fs.utimes(p, old, old)
            }
          }
          await walk(path.join(lake, 'blocks', 'data'))
        },
      })
      console.log(`local race: ${r.sweeps} collections, ${r.sweptWhileWriting} objects quarantined while writing, ${r.lost.length} lost`)
      expect(r.sweptWhileWriting).toBeGreaterThan(0) // the collections really raced the writers
      expect(r.lost).toEqual([])
      expect(r.verify.problems).toEqual([])
    } finally {
      await t.cleanup()
    }
  }, 1_200_000)

  describe('MinIO', () => {
    const s3 = useTestS3()

    it('S3 store: 1,000 reused contents during sweeps, none lost', async () => {
      // LastModified is the server's: the collector's clock runs 3 hours ahead to make garbage old.
      const r = await race(`s3://${s3.bucket}/${s3.freshPrefix()}`, 1000, {
        s3: s3.server().options,
        gcClock: { now: () => Date.now() + 3 * HOUR },
        ageGarbage: async () => {},
      })
      console.log(`MinIO race: ${r.sweeps} collections, ${r.sweptWhileWriting} objects quarantined while writing, ${r.lost.length} lost`)
      expect(r.sweptWhileWriting).toBeGreaterThan(0)
      expect(r.lost).toEqual([])
      expect(r.verify.problems).toEqual([])
    }, 1_200_000)
  })
})
