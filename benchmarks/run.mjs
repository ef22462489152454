// Scale benchmark for the embedded default (local folder + SQLite). Prints a table for 10k, 100k and
// 1M entries and the ratio of the 1M figure to the 10k figure: branch, commit and diff must stay near
// 1x, which shows their cost grows with the change, not with the dataset.
//   pnpm bench                      all sizes
//   BENCH_SIZES=10000,100000 pnpm bench
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { LocalBlockStore, Repository, SqliteRefStore } from '@varve/core'
import { CountingBlockStore } from './counting-block-store.mjs'
import { buildLake, pad } from './lake-fixture.mjs'

const sizes = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number)
const CHANGES = 1000
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-bench-'))
const ms = (t0) => performance.now() - t0
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** A repository whose main holds n entries (partitioned like a data lake), built straight through the tree layer. */
async function repoOfSize(n) {
  const lake = path.join(root, `lake-${n}`)
  await buildLake(lake, n)
  return openCounting(lake)
}

/** A fresh Repository instance (cold node cache) whose block requests are counted. */
async function openCounting(lake) {
  const blocks = new CountingBlockStore(new LocalBlockStore(path.join(lake, 'blocks')))
  const repo = await Repository.open({ blocks, refs: new SqliteRefStore(path.join(lake, 'refs.sqlite3')) }, { author: 'bench' })
  return { repo, blocks, lake }
}

async function measure(n) {
  let { repo, blocks, lake } = await repoOfSize(n)
  const row = { n }

  // Branch creation: O(1), nothing copied.
  const branchTimes = []
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now()
    await repo.createBranch(`b${i}`, { from: 'main' })
    branchTimes.push(ms(t0))
  }
  row.branchMs = median(branchTimes)

  // Put of 1,000 small objects onto a branch (each hashed, fsynced, staged): a partition rewrite.
  await repo.createBranch('change', { from: 'main' })
  const mid = Math.floor(n / 2 / 1000) * 1000
  let t0 = performance.now()
  // 16 at a time, as the lakeFS comparison in issue 14 uploaded.
  for (let i = 0; i < CHANGES; i += 16)
    await Promise.all(
      Array.from({ length: Math.min(16, CHANGES - i) }, (_, k) =>
        repo.put('change', `events/date=${pad(Math.floor((mid + i + k) / 1000))}/part-${pad(mid + i + k)}.parquet`, `rewritten ${i + k}`),
      ),
    )
  row.putPerSec = CHANGES / (ms(t0) / 1000)

  // Commit of those 1,000 changes.
  blocks.reset()
  t0 = performance.now()
  const changed = await repo.commit('change', { message: 'rewrite one partition' })
  row.commitMs = ms(t0)
  row.commitObjects = blocks.counts.get + blocks.counts.getRange + blocks.counts.put

  // Diff of two commits differing in 1,000 entries, from a cold cache.
  await repo.close()
  ;({ repo, blocks } = await openCounting(lake))
  t0 = performance.now()
  let diffCount = 0
  for await (const _ of repo.diff('main', changed.id)) diffCount++
  row.diffMs = ms(t0)
  row.diffObjects = blocks.counts.get + blocks.counts.getRange
  if (diffCount !== CHANGES) throw new Error(`diff found ${diffCount} changes, expected ${CHANGES}`)

  // Merge back (three-way from the merge base; touches changed nodes only), from a cold cache.
  await repo.close()
  ;({ repo, blocks } = await openCounting(lake))
  t0 = performance.now()
  await repo.merge('change', 'main')
  row.mergeMs = ms(t0)
  row.mergeObjects = blocks.counts.get + blocks.counts.getRange + blocks.counts.put

  // Commit of 1,000 changes scattered over the whole dataset (informational: see README).
  await repo.createBranch('scatter', { from: 'main' })
  const step = Math.max(1, Math.floor(n / CHANGES))
  for (let i = 0; i < CHANGES; i++) {
    const k = (i * step + 7) % n
    await repo.put('scatter', `events/date=${pad(Math.floor(k / 1000))}/part-${pad(k)}.parquet`, `scattered ${i}`)
  }
  blocks.reset()
  t0 = performance.now()
  await repo.commit('scatter', { message: 'scattered' })
  row.scatterCommitMs = ms(t0)
  row.scatterObjects = blocks.counts.get + blocks.counts.getRange + blocks.counts.put

  // A merge where only the source changed (one file on a branch made from the current destination).
  const ffTimes = []
  await repo.createBranch('trunk', { from: 'main' }) // main itself stays at n entries for the listing below
  for (let i = 0; i < 20; i++) {
    await repo.createBranch(`only-src-${i}`, { from: 'trunk' })
    await repo.put(`only-src-${i}`, `incoming/file-${i}.bin`, `incoming ${i}`)
    await repo.commit(`only-src-${i}`, { message: `incoming ${i}` })
    t0 = performance.now()
    await repo.merge(`only-src-${i}`, 'trunk')
    ffTimes.push(ms(t0))
  }
  row.onlySourceMergeMs = median(ffTimes)

  // Bulk ingest: n small objects staged with putMany onto a branch from the empty first commit, then
  // one commit of all n staged entries (a folder of n files imported at once).
  const root0 = (await collectLog(repo, 'main')).at(-1)
  await repo.createBranch('bulk', { from: root0 })
  t0 = performance.now()
  await repo.putMany(
    'bulk',
    (function* () {
      for (let i = 0; i < n; i++) yield { path: `import/date=${pad(Math.floor(i / 1000))}/part-${pad(i)}.bin`, data: `bulk ${i}` }
    })(),
    { concurrency: 8 },
  )
  row.putManyPerSec = n / (ms(t0) / 1000)
  await repo.close()
  ;({ repo, blocks } = await openCounting(lake))
  t0 = performance.now()
  await repo.commit('bulk', { message: `import ${n}` })
  row.bulkCommitMs = ms(t0)

  // Full listing through the public API: best of two passes from a cold cache.
  row.listPerSec = 0
  for (let pass = 0; pass < 2; pass++) {
    await repo.close()
    ;({ repo, blocks } = await openCounting(lake))
    t0 = performance.now()
    let listed = 0
    for await (const _ of repo.list('main')) listed++
    row.listPerSec = Math.max(row.listPerSec, listed / (ms(t0) / 1000))
    if (listed !== n) throw new Error(`listed ${listed}, expected ${n}`)
  }
  await repo.close()
  return row
}

async function collectLog(repo, ref) {
  const out = []
  for await (const c of repo.log(ref)) out.push(c.id)
  return out
}

async function hashing() {
  const file = path.join(root, 'big.bin')
  const fh = await fs.open(file, 'w')
  const chunk = Buffer.alloc(8 << 20)
  for (let i = 0; i < 32; i++) {
    chunk.fill(i)
    await fh.write(chunk)
  }
  await fh.close()
  const size = 256 << 20
  let t0 = performance.now()
  const h = createHash('sha256')
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c)
  h.digest()
  const rawMBs = size / 2 ** 20 / (ms(t0) / 1000)
  const repo = await Repository.init(path.join(root, 'lake-hash'))
  t0 = performance.now()
  await repo.put('main', 'big.bin', createReadStream(file, { highWaterMark: 1 << 20 }))
  const putMBs = size / 2 ** 20 / (ms(t0) / 1000)
  await repo.close()
  return { rawMBs, putMBs }
}

const rows = []
for (const n of sizes) {
  process.stderr.write(`measuring ${n.toLocaleString('en')} entries...\n`)
  rows.push(await measure(n))
}
const h = await hashing()
await fs.rm(root, { recursive: true, force: true })

const f = (x, d = 1) => x.toFixed(d)
const first = rows[0]
const last = rows[rows.length - 1]
const table = [
  ['metric', ...rows.map((r) => `${r.n.toLocaleString('en')}`), `ratio ${last.n / 1000 >= 1000 ? '1M' : last.n.toLocaleString('en')}/${first.n / 1000}k`],
  ['create branch (ms, median of 20)', ...rows.map((r) => f(r.branchMs, 2)), f(last.branchMs / first.branchMs, 2) + 'x'],
  ['commit 1,000 changes (ms)', ...rows.map((r) => f(r.commitMs)), f(last.commitMs / first.commitMs, 2) + 'x'],
  ['  reads+writes (incl. range)', ...rows.map((r) => String(r.commitObjects)), f(last.commitObjects / first.commitObjects, 2) + 'x'],
  ['diff, 1,000 changed (ms)', ...rows.map((r) => f(r.diffMs)), f(last.diffMs / first.diffMs, 2) + 'x'],
  ['  reads (incl. range)', ...rows.map((r) => String(r.diffObjects)), f(last.diffObjects / first.diffObjects, 2) + 'x'],
  ['merge of that branch (ms)', ...rows.map((r) => f(r.mergeMs)), f(last.mergeMs / first.mergeMs, 2) + 'x'],
  ['  reads+writes (incl. range)', ...rows.map((r) => String(r.mergeObjects)), f(last.mergeObjects / first.mergeObjects, 2) + 'x'],
  [
    'merge, only the source changed (ms, median of 20)',
    ...rows.map((r) => f(r.onlySourceMergeMs, 2)),
    f(last.onlySourceMergeMs / first.onlySourceMergeMs, 2) + 'x',
  ],
  ['commit 1,000 scattered changes (ms)*', ...rows.map((r) => f(r.scatterCommitMs)), f(last.scatterCommitMs / first.scatterCommitMs, 2) + 'x'],
  ['  reads+writes (incl. range)*', ...rows.map((r) => String(r.scatterObjects)), f(last.scatterObjects / first.scatterObjects, 2) + 'x'],
  ['putMany of n small objects (objects/s)', ...rows.map((r) => Math.round(r.putManyPerSec).toLocaleString('en')), ''],
  ['commit of n staged entries (ms)', ...rows.map((r) => f(r.bulkCommitMs)), ''],
  ['full listing (entries/s)', ...rows.map((r) => Math.round(r.listPerSec).toLocaleString('en')), ''],
  ['put 1,000 small objects, 16 at a time (objects/s)', ...rows.map((r) => Math.round(r.putPerSec).toLocaleString('en')), ''],
]
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)))
const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
console.log(`\nVarve scale benchmark, local store (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version})`)
console.log(line(table[0]))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const r of table.slice(1)) console.log(line(r))
console.log(`\nhashing a 256 MiB file: SHA-256 alone ${f(h.rawMBs, 0)} MiB/s; repo.put (hash + write + fsync + rename) ${f(h.putMBs, 0)} MiB/s`)
console.log('* scattered: one change per ~n/1000 entries, so at 10k it rewrites most of the tree; see benchmarks/README.md')

const targets = [
  ['branch <= 5 ms', last.branchMs <= 5],
  ['commit of 1k changes <= 500 ms', last.commitMs <= 500],
  ['diff <= 200 ms', last.diffMs <= 200],
  ['listing >= 500k entries/s', last.listPerSec >= 500_000],
  ['scattered commit of 1k changes <= 400 ms', last.scatterCommitMs <= 400],
  [
    `commit of ${last.n.toLocaleString('en')} staged entries <= ${last.n >= 1_000_000 ? '10 s' : '1 s'}`,
    last.bulkCommitMs <= (last.n >= 1_000_000 ? 10_000 : 1_000),
  ],
  ['branch, commit, diff ratios within 3x', [last.branchMs / first.branchMs, last.commitMs / first.commitMs, last.diffMs / first.diffMs].every((x) => x <= 3)],
]
console.log('\ntargets at the largest size: ' + targets.map(([t, ok]) => `${ok ? 'ok' : 'MISSED'}: ${t}`).join('; '))
