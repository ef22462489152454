// Governance against lakeFS on one machine, in one run, alternating who goes first each round:
//  - a merge request's life (open, look at it, approve, merge) for a one-file change, against a
//    lakeFS pull request (create, get, merge; lakeFS has no approvals);
//  - learning what conflicts before merging: 1,000 paths changed differently on both sides. Varve's
//    dry run lists each with both sides' entries; lakeFS's merge answers 409 with no list;
//  - settling those 1,000 conflicts in a merge: Varve by a per-path rule, lakeFS by source-wins (its
//    only way, for the whole merge).
// Both hold the same n entries in the same layout. Run it at two sizes to see that the cost follows
// the change, not the dataset.
//
//   LAKEFS_BIN=/path/to/lakefs node benchmarks/governance.mjs [--entries 1000000] [--rounds 3]
//
// Varve runs in process on a local repository (files + SQLite); lakeFS is a server on 127.0.0.1
// with its local KV and block store, reached over HTTP. Not part of CI.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Repository } from '@varve/core'
import { trainPartition } from '@varve/core/testing'
import { buildLake, lakePath } from './lake-fixture.mjs'
import { importInto, lakefsBinary, startLakeFS, writeImportSource } from './lakefs-server.mjs'
import { arg, load, median, ms } from './bench-util.mjs'

const N = arg('entries', 1_000_000)
const ROUNDS = arg('rounds', 3)
const CONFLICTS = 1000
const CYCLES = 5
const bin = lakefsBinary()
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-governance-'))
const bytes = (s) => Buffer.from(s)

let api
let repo
const lakefs = {
  name: 'lakeFS',
  branch: (name, from) => api('POST', '/repositories/bench/branches', { name, source: from }),
  put: (branch, p, data) =>
    api('POST', `/repositories/bench/branches/${branch}/objects?path=${encodeURIComponent(p)}`, typeof data === 'string' ? bytes(data) : data, {
      'content-type': 'application/octet-stream',
    }),
  commit: (branch, message) => api('POST', `/repositories/bench/branches/${branch}/commits`, { message }),
  async requestCycle(source, dest) {
    const { id } = await api('POST', '/repositories/bench/pulls', { title: `merge ${source}`, source_branch: source, destination_branch: dest })
    await api('GET', `/repositories/bench/pulls/${id}`)
    await api('PUT', `/repositories/bench/pulls/${id}/merge`, {})
  },
  async conflictReport(source, dest) {
    const r = await api('POST', `/repositories/bench/refs/${source}/merge/${dest}`, {}, {}, [409])
    if (r.status !== 409) throw new Error('lakeFS merged where a conflict was expected')
    return 0 // a 409 names no path
  },
  settle: (source, dest) => api('POST', `/repositories/bench/refs/${source}/merge/${dest}`, { strategy: 'source-wins' }),
}
const varve = {
  name: 'Varve',
  branch: (name, from) => repo.createBranch(name, { from }),
  put: (branch, p, data) => repo.put(branch, p, data),
  commit: (branch, message) => repo.commit(branch, { message }),
  async requestCycle(source, dest) {
    const id = await repo.openMergeRequest(source, dest, { title: `merge ${source}`, author: 'ann' })
    const view = await repo.mergeRequest(id) // heads, changes, conflicts, the gates as a dry run
    if (!view.mergeable && view.approval.satisfied) throw new Error(`not mergeable: ${view.blockers}`)
    await repo.approve(id, { reviewer: 'bob', head: view.sourceHead })
    await repo.mergeMergeRequest(id, { author: 'ann' })
  },
  async conflictReport(source, dest) {
    const r = await repo.merge(source, dest, { dryRun: true })
    if (r.conflicts.some((c) => !c.sourceEntry || !c.destEntry)) throw new Error('a conflict without both sides')
    return r.conflicts.length
  },
  settle: (source, dest) => repo.merge(source, dest, { resolve: [{ paths: 'events/**', take: 'source' }] }),
}

async function round(tool, r) {
  // A merge request's life, one changed file each, into a branch that requires one approval in Varve.
  const cycles = []
  await tool.branch(`trunk-${r}`, 'main')
  for (let i = 0; i < CYCLES; i++) {
    const src = `change-${r}-${i}`
    await tool.branch(src, `trunk-${r}`)
    await tool.put(src, `incoming/r${r}/file-${i}.bin`, `incoming ${i}`)
    await tool.commit(src, `incoming ${i}`)
    if (tool === varve && i === 0) await repo.protectBranch(`trunk-${r}`, { requiredApprovals: 1, directCommits: true })
    const t0 = performance.now()
    await tool.requestCycle(src, `trunk-${r}`)
    cycles.push(ms(t0))
  }
  // 1,000 paths, scattered over the n entries, changed differently on both sides: real Parquet files
  // (of 1 to 1,000 rows), so Varve's report reads real footers for the row counts.
  const step = Math.max(1, Math.floor(N / CONFLICTS))
  const paths = Array.from({ length: CONFLICTS }, (_, i) => lakePath((i * step + 11 + r * 97) % N))
  const [src, dst] = [`conflict-src-${r}`, `conflict-dst-${r}`]
  for (const b of [src, dst]) {
    await tool.branch(b, 'main')
    for (let i = 0; i < CONFLICTS; i += 16) await Promise.all(paths.slice(i, i + 16).map((p, k) => tool.put(b, p, trainPartition(i + k + (b === src ? 1 : 2)))))
    await tool.commit(b, `${b}: ${CONFLICTS} changes`)
  }
  let t0 = performance.now()
  const listed = await tool.conflictReport(src, dst)
  const reportMs = ms(t0)
  t0 = performance.now()
  await tool.settle(src, dst)
  const settleMs = ms(t0)
  return { cycleMs: median(cycles), reportMs, listed, settleMs }
}

console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load at start ${load()}`,
)
process.stderr.write(`setting up ${N.toLocaleString('en')} entries in each tool...\n`)
const t0 = performance.now()
const importDir = writeImportSource(root, N)
const server = await startLakeFS(bin, root)
api = server.api
try {
  await api('POST', '/repositories', { name: 'bench', storage_namespace: `local://${root}/lakefs/data/bench`, default_branch: 'main' })
  await importInto(api, 'bench', importDir, `${N} entries`)
  await buildLake(path.join(root, 'varve'), N)
  process.stderr.write(`  both set up in ${(ms(t0) / 1000).toFixed(0)} s\n`)
  repo = await Repository.open(path.join(root, 'varve'), { author: 'bench' })

  const results = { Varve: [], lakeFS: [] }
  for (let r = 0; r < ROUNDS; r++)
    for (const tool of r % 2 === 0 ? [varve, lakefs] : [lakefs, varve]) {
      const res = await round(tool, r)
      results[tool.name].push(res)
      process.stderr.write(
        `  round ${r + 1} ${tool.name}: ${JSON.stringify(Object.fromEntries(Object.entries(res).map(([k, v]) => [k, +v.toFixed(1)])))} (load ${load()})\n`,
      )
    }
  await repo.close()

  const med = (tool, k) => median(results[tool].map((x) => x[k]))
  console.log(`\nVarve vs lakeFS, ${N.toLocaleString('en')} entries, ${ROUNDS} rounds alternating, medians; load at end ${load()}`)
  console.log(['row'.padEnd(78), 'Varve'.padStart(9), 'lakeFS'.padStart(9), 'Varve ahead by'.padStart(15)].join(' '))
  const rows = [
    [`request: open, show (gates, conflicts), approve, merge / lakeFS pull: create, get, merge (ms)`, 'cycleMs'],
    [`conflicts reported before merging, ${CONFLICTS.toLocaleString('en')} on both sides (ms)`, 'reportMs'],
    [`merge settling the ${CONFLICTS.toLocaleString('en')} conflicts: per-path rule / lakeFS source-wins (ms)`, 'settleMs'],
  ]
  for (const [label, k] of rows) {
    const v = med('Varve', k)
    const l = med('lakeFS', k)
    console.log([label.padEnd(78), v.toFixed(1).padStart(9), l.toFixed(1).padStart(9), `${(l / v).toFixed(2)}x`.padStart(15)].join(' '))
  }
  console.log(
    ['  conflicting paths named in that report'.padEnd(78), String(med('Varve', 'listed')).padStart(9), String(med('lakeFS', 'listed')).padStart(9)].join(' '),
  )
} finally {
  server.stop()
  fs.rmSync(root, { recursive: true, force: true })
}
