import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository } from '@varve/core'
import { pythonVenv, runPython } from './helpers/serve.js'

// Issue 11: checks that read data stream one column, row group by row group. A 10M-row file from
// pyarrow (an int64 and a text column, 106 MiB) is judged by `unique` in a separate process, whose
// peak RSS (the kernel's count, not a timing) is bounded; the duplicate planted in the last row is
// found exactly. Before, the same check decoded the whole file in wasm and failed at 4.2 GB. The
// issue's target is 256 MiB (for a 55.6 MB file); this 106 MiB file measures 211-237 MiB (a process
// and its decoding thread start at ~103 MiB; read buffers wait for V8's next collection), so the
// test holds the line at 280 MiB and bench:tables reports the median.

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const RULES = `id: u
on: [pre-merge]
timeoutMs: 1800000
checks:
  - { type: unique, files: "big/*.parquet", columns: [id, name] }
  - { type: null-fraction, files: "big/*.parquet", max: 0 }
`
const CHECK = `
import { Repository, VarveError } from '@varve/core'
const repo = await Repository.open(process.env.LAKE)
let failures = []
try { await repo.merge('data', 'main', { dryRun: true }) } catch (e) { if (!VarveError.is(e, 'HOOK_FAILED')) throw e; failures = e.details.failures }
await repo.close()
console.log(JSON.stringify({ failures, maxRssKiB: process.resourceUsage().maxRSS }))
`

describe('checks over a 10M-row file, in bounded memory', () => {
  let dir: string
  let big: { rows: number; duplicate: number }
  let versionsExpected: { removed: number; added: number; changed: number; unchanged: number }
  const child = async (program: string) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', program], {
      cwd: ROOT,
      env: { ...process.env, LAKE: path.join(dir, 'lake') },
      timeout: 30 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    })
    return JSON.parse(stdout)
  }

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-parquet-scale-'))
    const file = path.join(dir, 'big.parquet')
    big = (await runPython(await pythonVenv(), 'big_table.py', { OUT: file })) as unknown as typeof big
    const repo = await Repository.init(path.join(dir, 'lake'), { author: 'test', durable: false })
    await repo.put('main', '_varve/hooks/u.yaml', RULES)
    await repo.commit('main', { message: 'rules' })
    await repo.createBranch('data')
    await repo.put('data', 'big/big.parquet', await fs.readFile(file))
    await repo.commit('data', { message: '10M rows' })
    // two versions of another 10M-row table for the row diff (1% changed, 0.7% removed, 0.5% added)
    const versions = path.join(dir, 'versions')
    await fs.mkdir(versions)
    versionsExpected = (await runPython(await pythonVenv(), 'table_versions.py', {
      OUT: versions,
      ROWS: '10000000',
      SCHEMA_CHANGE: '0',
      COUNTS_ONLY: '1',
      ROW_GROUP: String(1024 * 1024),
    })) as unknown as typeof versionsExpected
    await repo.put('main', 't/data.parquet', await fs.readFile(path.join(versions, 'v1.parquet')))
    await repo.commit('main', { message: 'v1' })
    await repo.put('main', 't/data.parquet', await fs.readFile(path.join(versions, 'v2.parquet')))
    await repo.commit('main', { message: 'v2' })
    await repo.close()
    await fs.rm(file)
    await fs.rm(versions, { recursive: true })
  }, 20 * 60_000)
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true })
  })

  it(
    'unique finds the one duplicate among 10M values and no other, in bounded memory',
    async () => {
      const { failures, maxRssKiB } = (await child(CHECK)) as { failures: { file: string; reason: string }[]; maxRssKiB: number }
      expect(big.rows).toBe(10_000_000)
      expect(failures.map((f) => `${f.file}: ${f.reason}`)).toEqual([`big/big.parquet: column id has duplicate value ${big.duplicate}`])
      expect(maxRssKiB / 1024).toBeLessThanOrEqual(280)
    },
    30 * 60_000,
  )

  it(
    'readDataset streams the 10M rows in batches, in bounded memory',
    async () => {
      const out = await child(`
      import { Repository } from '@varve/core'
      const repo = await Repository.open(process.env.LAKE)
      let rows = 0, batches = 0, max = 0, sum = 0n
      for await (const b of repo.readDataset('data', 'big/', { columns: ['id'] })) {
        rows += b.numRows; batches++; max = Math.max(max, b.numRows)
        for (const v of b.getChild('id')) sum += v
      }
      await repo.close()
      console.log(JSON.stringify({ rows, batches, max, sum: String(sum), maxRssKiB: process.resourceUsage().maxRSS }))`)
      expect(out.rows).toBe(10_000_000)
      expect(out.max).toBeLessThanOrEqual(65_536)
      // ids are 7i+3 shuffled, one of them replaced by the duplicate: the sum is off by a multiple of 7
      const n = 10_000_000n
      const all = (7n * (n * (n - 1n))) / 2n + 3n * n
      expect((all - BigInt(out.sum)) % 7n).toBe(0n)
      expect(out.maxRssKiB / 1024).toBeLessThanOrEqual(320)
    },
    30 * 60_000,
  )

  it(
    'diffTable of two 10M-row versions: exact counts, in bounded memory (within 512 MiB)',
    async () => {
      const out = await child(`
      import { Repository } from '@varve/core'
      const repo = await Repository.open(process.env.LAKE)
      let summary
      for await (const r of repo.diffTable('main~1', 'main', 't/data.parquet', { key: ['id'] })) if (r.type === 'summary') summary = r
      await repo.close()
      console.log(JSON.stringify({ summary, maxRssKiB: process.resourceUsage().maxRSS }))`)
      const { removed, added, changed, unchanged } = out.summary
      expect({ removed, added, changed, unchanged }).toEqual(versionsExpected)
      expect(out.maxRssKiB / 1024).toBeLessThanOrEqual(512)
    },
    30 * 60_000,
  )
})
