// What the quarantine protocol (docs/decisions/0006) costs a collection: the same repository collected
// by this checkout and by a baseline checkout (BENCH_BASELINE=<path of a built older checkout>),
// alternating, each run on a fresh copy of the repository. Sizes: BENCH_GC_ENTRIES, BENCH_GC_LIVE_OBJECTS,
// BENCH_GC_GARBAGE (default 200k / 50k / 20k), BENCH_ROUNDS (default 2).
//   BENCH_BASELINE=/tmp/old node benchmarks/gc-protocol-cost.mjs
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { LocalBlockStore, Repository, SqliteRefStore, systemRandom } from '@varve/core'
import { ObjectStore, buildTree } from '@varve/core/internal'

const ENTRIES = Number(process.env.BENCH_GC_ENTRIES ?? 200_000)
const LIVE = Number(process.env.BENCH_GC_LIVE_OBJECTS ?? 50_000)
const GARBAGE = Number(process.env.BENCH_GC_GARBAGE ?? 20_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const baseline = process.env.BENCH_BASELINE
if (!baseline) throw new Error('set BENCH_BASELINE to a built older checkout')
const here = path.dirname(new URL(import.meta.url).pathname)
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-gc-cost-'))
const template = path.join(root, 'template')

async function writeObjects(objects, n, label) {
  const out = new Array(n)
  let next = 0
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < n) {
      const i = next++
      out[i] = (await objects.writeData(Buffer.from(`${label} object ${i}`))).address
    }
  }))
  return out
}

await (await Repository.init(template)).close()
const objects = new ObjectStore(new LocalBlockStore(path.join(template, 'blocks'), { durable: false }), { random: systemRandom })
const live = await writeObjects(objects, LIVE, 'live')
await writeObjects(objects, GARBAGE, 'garbage')
const tree = await buildTree(objects, (function* () {
  for (let i = 0; i < ENTRIES; i++) yield { path: `events/date=${String(Math.floor(i / 1000)).padStart(6, '0')}/part-${String(i).padStart(8, '0')}.parquet`, address: live[i % LIVE], size: 20, lastModified: 1 }
})())
const refs = new SqliteRefStore(path.join(template, 'refs.sqlite3'))
const b = await refs.getBranch('main')
const parent = await objects.readCommit(b.head)
const c = await objects.writeCommit({ parents: [b.head], root: tree.id, message: 'bench', author: 'bench', metadata: {}, createdAt: Date.now(), generation: parent.generation + 1 })
await refs.updateBranch(b, { ...b, head: c.id })
await refs.close()

function run(checkout, label) {
  const lake = path.join(root, `lake-${label}`)
  fs.rmSync(lake, { recursive: true, force: true })
  execFileSync('cp', ['-a', template, lake])
  const child = path.join(checkout, 'benchmarks', 'gc-child.mjs')
  const r = JSON.parse(execFileSync(process.execPath, [child, lake, 'gc'], { encoding: 'utf8', maxBuffer: 1 << 26 }))
  fs.rmSync(lake, { recursive: true, force: true })
  return r
}

const results = { baseline: [], current: [] }
for (let round = 0; round < ROUNDS; round++) {
  results.baseline.push(run(baseline, 'baseline'))
  results.current.push(run(path.join(here, '..'), 'current'))
}
fs.rmSync(root, { recursive: true, force: true })
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const b0 = median(results.baseline.map((r) => r.ms))
const c0 = median(results.current.map((r) => r.ms))
console.log(`\nGC cost of the quarantine protocol (${os.cpus().length} cores, Node ${process.version}, load ${os.loadavg()[0].toFixed(2)}, local store)`)
console.log(`repository: ${ENTRIES.toLocaleString('en')} entries, ${LIVE.toLocaleString('en')} live data objects, ${GARBAGE.toLocaleString('en')} garbage objects; ${ROUNDS} alternating rounds`)
console.log(`  baseline  ${(b0 / 1000).toFixed(1).padStart(6)} s  (runs: ${results.baseline.map((r) => (r.ms / 1000).toFixed(1)).join(', ')}; deleted ${results.baseline[0].deletedObjects})`)
console.log(`  current   ${(c0 / 1000).toFixed(1).padStart(6)} s  (runs: ${results.current.map((r) => (r.ms / 1000).toFixed(1)).join(', ')}; deleted ${results.current[0].deletedObjects}, quarantined ${results.current[0].quarantinedObjects})`)
console.log(`  current / baseline: ${(c0 / b0).toFixed(2)}x`)
for (const r of [...results.baseline, ...results.current]) if (r.deletedObjects !== GARBAGE) throw new Error(`expected ${GARBAGE} deleted, got ${r.deletedObjects}`)
