// Quality gates: the cost of the parquet-schema check per file (footer only: bytes read against the
// file size) and a pre-merge over 1,000 changed Parquet files, against the same merge with no gates.
//   pnpm bench:gates
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { LocalBlockStore, Repository, SqliteRefStore } from '@varve/core'
import { trainPartition } from '@varve/core/testing'
import { CountingBlockStore } from './counting-block-store.mjs'

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-gates-'))
const ms = (t0) => performance.now() - t0
const FILES = Number(process.env.BENCH_GATES_FILES ?? 1000)
const CONTRACT = `id: train-contract
on: [pre-merge]
branches: [main]
checks:
  - type: parquet-schema
    files: "train/**/*.parquet"
    columns: { id: { type: int64, nullable: false }, score: { type: double } }
    allowExtraColumns: false
  - { type: row-count, files: "train/**/*.parquet", min: 1 }
  - { type: null-fraction, files: "train/**/*.parquet", columns: { score: 0.05 } }
  - { type: max-changed-files, max: 5000 }
`

/** Bytes read by a repository, counting whole-object and range reads of data objects. */
class ByteCounter extends CountingBlockStore {
  bytes = 0
  async get(k) {
    const b = await super.get(k)
    if (k.startsWith('data/')) this.bytes += b?.byteLength ?? 0
    return b
  }
  async getRange(k, s, e) {
    const b = await super.getRange(k, s, e)
    this.bytes += b?.byteLength ?? 0
    return b
  }
}

async function footerCost() {
  const lake = path.join(root, 'footer')
  await (await Repository.init(lake)).close()
  const blocks = new ByteCounter(new LocalBlockStore(path.join(lake, 'blocks')))
  const repo = await Repository.open({ blocks, refs: new SqliteRefStore(path.join(lake, 'refs.sqlite3')) })
  const rows = []
  for (const n of [10_000, 1_000_000, 5_000_000]) {
    const file = trainPartition(n)
    await repo.put('main', `train/${n}.parquet`, file)
    rows.push({ n, size: file.byteLength })
  }
  const c = await repo.commit('main', { message: 'files' })
  for (const r of rows) {
    let schema
    repo.hooks.register({
      id: `s${r.n}`,
      events: ['pre-create-tag'],
      run: async (ctx) => {
        await ctx.candidate.stat(`train/${r.n}.parquet`) // warm the tree path: count only the footer read
        blocks.bytes = 0
        blocks.reset()
        const t0 = performance.now()
        schema = await ctx.readParquetSchema(`train/${r.n}.parquet`)
        r.ms = ms(t0)
        r.bytesRead = blocks.bytes
        r.requests = blocks.counts.get + blocks.counts.getRange
      },
    })
    await repo.createTag(`t${r.n}`, c.id)
    repo.hooks.unregister(`s${r.n}`)
    if (schema.columns.length !== 2) throw new Error('schema not read')
  }
  await repo.close()
  return rows
}

async function preMerge(withGates) {
  const lake = path.join(root, `merge-${withGates}`)
  const repo = await Repository.init(lake, { author: 'bench' })
  if (withGates) await repo.put('main', '_varve/hooks/train.yaml', CONTRACT)
  await repo.put('main', 'train/day=0/part-0.parquet', trainPartition(100))
  await repo.commit('main', { message: 'base' })
  await repo.createBranch('backfill')
  for (let i = 0; i < FILES; i += 16)
    await Promise.all(
      Array.from({ length: Math.min(16, FILES - i) }, (_, k) =>
        repo.put('backfill', `train/day=1/part-${String(i + k).padStart(4, '0')}.parquet`, trainPartition(200 + i + k)),
      ),
    )
  await repo.commit('backfill', { message: 'backfill' })
  await repo.close()
  const again = await Repository.open(lake) // cold cache
  const t0 = performance.now()
  await again.merge('backfill', 'main')
  const total = ms(t0)
  let hooksMs = 0
  for await (const r of again.hookRuns({ branch: 'main' })) hooksMs = Math.max(hooksMs, r.durationMs)
  await again.close()
  return { total, hooksMs }
}

const footer = await footerCost()
const plain = await preMerge(false)
const gated = await preMerge(true)
await fs.rm(root, { recursive: true, force: true })

console.log(`\nVarve gates benchmark (${os.cpus().length} cores, Node ${process.version}, local store)`)
console.log('parquet-schema check, footer only:')
console.log('  rows        file size   bytes read   share read   requests   time (ms)')
for (const r of footer)
  console.log(
    `  ${r.n.toLocaleString('en').padStart(9)}  ${(r.size / 2 ** 20).toFixed(2).padStart(8)} MiB  ${r.bytesRead.toLocaleString('en').padStart(10)}  ${((100 * r.bytesRead) / r.size).toFixed(3).padStart(9)} %  ${String(r.requests).padStart(8)}  ${r.ms.toFixed(2).padStart(10)}`,
  )
console.log(`pre-merge over ${FILES.toLocaleString('en')} changed Parquet files (parquet-schema + row-count + null-fraction + max-changed-files):`)
console.log(
  `  merge without gates ${plain.total.toFixed(0)} ms; with gates ${gated.total.toFixed(0)} ms (the contract hook itself: ${gated.hooksMs} ms, ${(gated.hooksMs / FILES).toFixed(2)} ms per file)`,
)
