// Varve against lakeFS on issue 14's write rows, on one machine, in one run, alternating the order
// each round: a commit of 1,000 changes scattered over n entries, 1,000 single puts 16 at a time,
// and a merge where only the source changed. Both hold the same n entries in the same layout
// (lakeFS imports them, zero-copy, from files on disk; Varve builds them through its tree layer).
//
//   LAKEFS_BIN=/path/to/lakefs node benchmarks/lakefs.mjs [--entries 1000000] [--rounds 3]
//
// lakeFS is a Go server built from its source (its go.mod has replace directives, so `go install`
// does not work); see benchmarks/README.md. It runs on 127.0.0.1 with its local KV store and local
// block store. Not part of CI.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Repository } from '@varve/core'
import { buildLake, lakePath } from './lake-fixture.mjs'
import { importInto, lakefsBinary, startLakeFS, writeImportSource } from './lakefs-server.mjs'
import { arg, load, median, ms } from './bench-util.mjs'

const N = arg('entries', 1_000_000)
const ROUNDS = arg('rounds', 3)
const CHANGES = 1000
const bin = lakefsBinary()
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-vs-lakefs-'))
let api

const lakefs = {
  name: 'lakeFS',
  branch: (name, from) => api('POST', '/repositories/bench/branches', { name, source: from }),
  put: (branch, p, data) =>
    api('POST', `/repositories/bench/branches/${branch}/objects?path=${encodeURIComponent(p)}`, Buffer.from(data), {
      'content-type': 'application/octet-stream',
    }),
  commit: (branch, message) => api('POST', `/repositories/bench/branches/${branch}/commits`, { message }),
  merge: (source, dest) => api('POST', `/repositories/bench/refs/${source}/merge/${dest}`, {}),
}

// ---- Varve -------------------------------------------------------------------------------------
let varveRepo
let varveNoFsyncRepo
const varveNoFsync = {
  branch: (name, from) => varveNoFsyncRepo.createBranch(name, { from }),
  put: (branch, p, data) => varveNoFsyncRepo.put(branch, p, data),
  commit: (branch, message) => varveNoFsyncRepo.commit(branch, { message }),
  merge: (source, dest) => varveNoFsyncRepo.merge(source, dest),
}
const varve = {
  name: 'Varve',
  branch: (name, from) => varveRepo.createBranch(name, { from }),
  put: (branch, p, data) => varveRepo.put(branch, p, data),
  commit: (branch, message) => varveRepo.commit(branch, { message }),
  merge: (source, dest) => varveRepo.merge(source, dest),
}

// ---- the rows ----------------------------------------------------------------------------------
/** One round of every row for one tool; paths differ per round so no round reads another's nodes. */
async function round(tool, r) {
  const step = Math.max(1, Math.floor(N / CHANGES))
  const b = `scatter-${r}`
  await tool.branch(b, 'main')
  const paths = Array.from({ length: CHANGES }, (_, i) => lakePath((i * step + 7 + r * 331) % N))
  let t0 = performance.now()
  for (let i = 0; i < CHANGES; i += 16) await Promise.all(paths.slice(i, i + 16).map((p, k) => tool.put(b, p, `round ${r} change ${i + k}`)))
  const putsPerSec = CHANGES / (ms(t0) / 1000)
  t0 = performance.now()
  await tool.commit(b, 'scattered')
  const scatterMs = ms(t0)

  const mergeMs = await onlySourceMerges(tool, tool, `${r}`)
  // lakeFS's local KV (Badger, SyncWrites off) does not fsync; Varve with durable: false neither.
  const extra = tool === varve ? { mergeNoFsyncMs: await onlySourceMerges(varveNoFsync, varveNoFsync, `${r}-nofsync`) } : {}
  return { scatterMs, putsPerSec, mergeMs, ...extra }
}

/** Median of 5 merges where only the source changed (set up through `setup`, merged through `merger`). */
async function onlySourceMerges(setup, merger, tag) {
  const merges = []
  await setup.branch(`trunk-${tag}`, 'main')
  for (let i = 0; i < 5; i++) {
    const src = `only-src-${tag}-${i}`
    await setup.branch(src, `trunk-${tag}`)
    await setup.put(src, `incoming/r${tag}/file-${i}.bin`, `incoming ${i}`)
    await setup.commit(src, `incoming ${i}`)
    const t0 = performance.now()
    await merger.merge(src, `trunk-${tag}`)
    merges.push(ms(t0))
  }
  return median(merges)
}

console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load at start ${load()}`,
)
process.stderr.write(`setting up ${N.toLocaleString('en')} entries in each tool...\n`)
let t0 = performance.now()
const importDir = writeImportSource(root, N)
process.stderr.write(`  import source written in ${(ms(t0) / 1000).toFixed(0)} s\n`)
const server = await startLakeFS(bin, root)
api = server.api
try {
  await api('POST', '/repositories', { name: 'bench', storage_namespace: `local://${root}/lakefs/data/bench`, default_branch: 'main' })
  t0 = performance.now()
  await importInto(api, 'bench', importDir, `${N} entries`)
  process.stderr.write(`  lakeFS import: ${(ms(t0) / 1000).toFixed(1)} s\n`)
  t0 = performance.now()
  await buildLake(path.join(root, 'varve'), N)
  process.stderr.write(`  Varve tree built: ${(ms(t0) / 1000).toFixed(1)} s\n`)
  varveRepo = await Repository.open(path.join(root, 'varve'), { author: 'bench' })
  varveNoFsyncRepo = await Repository.open(path.join(root, 'varve'), { author: 'bench', durable: false })

  const results = { Varve: [], lakeFS: [] }
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate who goes first, so neither always runs on the warmer (or busier) machine.
    for (const tool of r % 2 === 0 ? [varve, lakefs] : [lakefs, varve]) {
      const res = await round(tool, r)
      results[tool.name].push(res)
      process.stderr.write(
        `  round ${r + 1} ${tool.name}: ${JSON.stringify(Object.fromEntries(Object.entries(res).map(([k, v]) => [k, +v.toFixed(1)])))} (load ${load()})\n`,
      )
    }
  }
  await varveRepo.close()
  await varveNoFsyncRepo.close()

  const med = (tool, k) => median(results[tool].map((x) => x[k]))
  const rows = [
    [`commit of ${CHANGES.toLocaleString('en')} changes scattered over ${N.toLocaleString('en')} entries (ms)`, 'scatterMs', (v, l) => l / v],
    [`${CHANGES.toLocaleString('en')} single puts, 16 at a time (objects/s)`, 'putsPerSec', (v, l) => v / l],
    ['merge, only the source changed (ms, median of 5 per round)', 'mergeMs', (v, l) => l / v],
  ]
  const noFsync = median(results.Varve.map((x) => x.mergeNoFsyncMs))
  console.log(`\nVarve vs lakeFS, ${ROUNDS} rounds alternating, medians (per-round figures above); load at end ${load()}`)
  console.log(['row'.padEnd(72), 'Varve'.padStart(9), 'lakeFS'.padStart(9), 'Varve ahead by'.padStart(15)].join(' '))
  for (const [label, k, ahead] of rows) {
    const v = med('Varve', k)
    const l = med('lakeFS', k)
    console.log([label.padEnd(72), v.toFixed(1).padStart(9), l.toFixed(1).padStart(9), `${ahead(v, l).toFixed(2)}x`.padStart(15)].join(' '))
  }
  const l = med('lakeFS', 'mergeMs')
  console.log(
    [
      '  the same merge, neither fsyncing (Varve durable: false)'.padEnd(72),
      noFsync.toFixed(1).padStart(9),
      l.toFixed(1).padStart(9),
      `${(l / noFsync).toFixed(2)}x`.padStart(15),
    ].join(' '),
  )
} finally {
  server.stop()
  fs.rmSync(root, { recursive: true, force: true })
}
