// The whole life cycle of a dataset on the embedded default (a local folder: files + SQLite):
// create a repository, write a small Parquet dataset, branch, change, diff, commit, merge through a
// reviewed merge request, revert, log.
import fs from 'node:fs/promises'
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow'
import { readParquet, Table as WasmTable, writeParquet } from 'parquet-wasm'
import { Repository, VarveError } from '@varve/core'

const location = process.argv[2] ?? './lake-quickstart'
await fs.rm(location, { recursive: true, force: true })

const toParquet = (columns) => writeParquet(WasmTable.fromIPCStream(tableToIPC(tableFromArrays(columns), 'stream')))
const fromParquet = (bytes) => tableFromIPC(readParquet(bytes).intoIPCStream())
const short = (id) => id.slice(0, 10)
const collect = async (it) => {
  const out = []
  for await (const x of it) out.push(x)
  return out
}

const repo = await Repository.init(location, { author: 'quickstart' })
console.log(`created repository ${location} (default branch ${repo.defaultBranch})`)

// 1. A small dataset on main: three Parquet partitions.
for (let day = 1; day <= 3; day++) {
  const ids = BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(day * 1000 + i))
  const scores = Float64Array.from({ length: 1000 }, (_, i) => ((i * 37) % 100) / 100)
  await repo.put('main', `train/day=${day}/part-0.parquet`, toParquet({ id: ids, score: scores }), { metadata: { source: 'quickstart' } })
}
const first = await repo.commit('main', { message: 'Add 3 days of training data' })
console.log(`committed ${short(first.id)} on main: ${(await collect(repo.list('main'))).length} files`)

// 2. A backfill on a branch: O(1) to create, isolated from main.
await repo.createBranch('backfill', { from: 'main' })
await repo.put('backfill', 'train/day=4/part-0.parquet', toParquet({ id: BigInt64Array.from([4000n, 4001n]), score: Float64Array.from([0.1, 0.2]) }))
await repo.delete('backfill', 'train/day=1/part-0.parquet')
console.log('uncommitted on backfill:')
for await (const c of repo.uncommitted('backfill')) console.log(`  ${c.type.padEnd(8)} ${c.path}`)
const backfill = await repo.commit('backfill', { message: 'Backfill day 4, drop day 1', metadata: { ticket: 'DATA-42' } })

// 3. Diff, then merge into main through a merge request: main takes changes only with one approval.
console.log(`diff main..backfill:`)
for await (const d of repo.diff('main', 'backfill')) console.log(`  ${d.type.padEnd(8)} ${d.path}`)
await repo.protectBranch('main', { requiredApprovals: 1 })
try {
  await repo.merge('backfill', 'main')
} catch (e) {
  if (!VarveError.is(e, 'APPROVAL_REQUIRED')) throw e
  console.log(`a plain merge is refused: ${e.code}`)
}
const request = await repo.openMergeRequest('backfill', 'main', { title: 'Backfill day 4', author: 'quickstart' })
const view = await repo.mergeRequest(request)
console.log(
  `merge request ${request}: ${view.changes.added} added, ${view.changes.removed} removed; gates ${view.gates.status}; ${view.approval.counted.length} of ${view.approval.required} approvals`,
)
await repo.approve(request, { reviewer: 'reviewer', head: view.sourceHead })
const merged = await repo.mergeMergeRequest(request, { author: 'quickstart' })
console.log(
  `merged into main: ${short(merged.commit.id)} (parents ${merged.commit.parents.map(short).join(', ')}), approved by ${merged.commit.metadata['varve.merge-request.approvers'].join(', ')}`,
)

// 4. A training job pins a commit and reads Parquet as Arrow at that commit.
const pinned = await repo.resolve('main')
const table = fromParquet(await repo.get(pinned, 'train/day=4/part-0.parquet'))
console.log(`read train/day=4 at ${short(pinned)}: ${table.numRows} rows, columns ${table.schema.fields.map((f) => `${f.name}:${f.type}`).join(', ')}`)

// 5. Something slipped through: revert the backfill's commit (a new commit that undoes it) on a
//    branch, and bring it to main through a request like any other change.
await repo.createBranch('rollback', { from: 'main' })
const reverted = await repo.revert('rollback', backfill.id, { author: 'oncall' })
const rollback = await repo.openMergeRequest('rollback', 'main', { title: 'Roll back the backfill', author: 'oncall' })
await repo.approve(rollback, { reviewer: 'reviewer' })
await repo.mergeMergeRequest(rollback, { author: 'oncall' })
console.log(`reverted ${short(backfill.id)} with ${short(reverted.id)}: day=1 is back: ${(await repo.stat('main', 'train/day=1/part-0.parquet')).size} bytes`)

// 6. Typed errors, never stack traces from deep inside.
try {
  await repo.put('backfill', '../escape.csv', 'x')
} catch (e) {
  if (!(e instanceof VarveError)) throw e
  console.log(`bad input is refused: ${e.code}: ${e.message}`)
}

// 7. History.
console.log('log main:')
for await (const c of repo.log('main')) console.log(`  ${short(c.id)} ${c.parents.length === 2 ? 'merge ' : ''}${c.message} (${c.author})`)
console.log(`the pinned commit still reads the same bytes: ${fromParquet(await repo.get(pinned, 'train/day=4/part-0.parquet')).numRows} rows`)
await repo.close()
