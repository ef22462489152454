// What the quarantine protocol (docs/decisions/0006) costs a collection: the same repository collected
// by this checkout and by a baseline checkout (BENCH_BASELINE=<path of a built older checkout>),
// alternating, each run on a fresh copy of the repository. Sizes: BENCH_GC_ENTRIES, BENCH_GC_LIVE_OBJECTS,
// BENCH_GC_GARBAGE (default 200k / 50k / 20k), BENCH_ROUNDS (default 2).
//   BENCH_BASELINE=/tmp/old node benchmarks/gc-protocol-cost.mjs
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildGcRepository } from './gc-fixture.mjs'

const ENTRIES = Number(process.env.BENCH_GC_ENTRIES ?? 200_000)
const LIVE = Number(process.env.BENCH_GC_LIVE_OBJECTS ?? 50_000)
const GARBAGE = Number(process.env.BENCH_GC_GARBAGE ?? 20_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const baseline = process.env.BENCH_BASELINE
if (!baseline) throw new Error('set BENCH_BASELINE to a built older checkout')
const here = path.dirname(new URL(import.meta.url).pathname)
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-gc-cost-'))
const template = path.join(root, 'template')

await buildGcRepository(template, { entries: ENTRIES, live: LIVE, garbage: GARBAGE })

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
console.log(
  `repository: ${ENTRIES.toLocaleString('en')} entries, ${LIVE.toLocaleString('en')} live data objects, ${GARBAGE.toLocaleString('en')} garbage objects; ${ROUNDS} alternating rounds`,
)
console.log(
  `  baseline  ${(b0 / 1000).toFixed(1).padStart(6)} s  (runs: ${results.baseline.map((r) => (r.ms / 1000).toFixed(1)).join(', ')}; deleted ${results.baseline[0].deletedObjects})`,
)
console.log(
  `  current   ${(c0 / 1000).toFixed(1).padStart(6)} s  (runs: ${results.current.map((r) => (r.ms / 1000).toFixed(1)).join(', ')}; deleted ${results.current[0].deletedObjects}, quarantined ${results.current[0].quarantinedObjects})`,
)
console.log(`  current / baseline: ${(c0 / b0).toFixed(2)}x`)
for (const r of [...results.baseline, ...results.current])
  if (r.deletedObjects !== GARBAGE) throw new Error(`expected ${GARBAGE} deleted, got ${r.deletedObjects}`)
