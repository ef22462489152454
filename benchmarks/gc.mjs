// GC of a repository with 1M entries and 100k garbage objects on the local store: time and peak
// memory (/usr/bin/time -v). BENCH_GC_ENTRIES, BENCH_GC_LIVE_OBJECTS, BENCH_GC_GARBAGE shrink or grow it.
//   pnpm bench:gc
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildGcRepository } from './gc-fixture.mjs'

const ENTRIES = Number(process.env.BENCH_GC_ENTRIES ?? 1_000_000)
const LIVE = Number(process.env.BENCH_GC_LIVE_OBJECTS ?? 250_000)
const GARBAGE = Number(process.env.BENCH_GC_GARBAGE ?? 100_000)
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-gc-'))
const lake = path.join(root, 'lake')
const here = path.dirname(new URL(import.meta.url).pathname)

process.stderr.write(
  `setup: ${ENTRIES.toLocaleString('en')} entries over ${LIVE.toLocaleString('en')} live objects, ${GARBAGE.toLocaleString('en')} garbage objects...\n`,
)
const t0 = performance.now()
await buildGcRepository(lake, { entries: ENTRIES, live: LIVE, garbage: GARBAGE })
process.stderr.write(`setup took ${((performance.now() - t0) / 1000).toFixed(0)} s\n`)

function timedWithRss(what) {
  const r = execFileSync(
    'bash',
    [
      '-c',
      `/usr/bin/time -v ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(here, 'gc-child.mjs'))} ${JSON.stringify(lake)} ${what} 2>${JSON.stringify(path.join(root, 'time.txt'))}`,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  )
  const time = fs.readFileSync(path.join(root, 'time.txt'), 'utf8')
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(time)?.[1] ?? NaN)
  return { ...JSON.parse(r), peakRssMiB: rssKb / 1024 }
}

const dry = timedWithRss('dry-run')
const gc = timedWithRss('gc')
const verify = timedWithRss('verify')
fs.rmSync(root, { recursive: true, force: true })

console.log(`\nVarve GC benchmark (${os.cpus().length} cores, Node ${process.version}, local store)`)
console.log(
  `repository: ${ENTRIES.toLocaleString('en')} entries, ${LIVE.toLocaleString('en')} live data objects, ${GARBAGE.toLocaleString('en')} garbage objects`,
)
const row = (name, r, extra) =>
  console.log(`  ${name.padEnd(9)} ${(r.ms / 1000).toFixed(1).padStart(6)} s   peak RSS ${r.peakRssMiB.toFixed(0).padStart(4)} MiB   ${extra}`)
row('dry run', dry, `scanned ${dry.scannedObjects.toLocaleString('en')}, would delete ${dry.deletedObjects.toLocaleString('en')}`)
row(
  'gc',
  gc,
  `scanned ${gc.scannedObjects.toLocaleString('en')}, deleted ${gc.deletedObjects.toLocaleString('en')} (${(gc.deletedBytes / 2 ** 20).toFixed(1)} MiB), live data ${gc.liveDataObjects.toLocaleString('en')}`,
)
row('verify', verify, `ok ${verify.ok}, ${verify.nodes.toLocaleString('en')} tree nodes, ${verify.dataObjects.toLocaleString('en')} data objects`)
if (gc.deletedObjects !== GARBAGE) throw new Error(`expected ${GARBAGE} deleted, got ${gc.deletedObjects}`)
