// Issue 11, tables at scale, Varve against DuckDB on the same 10M-row Parquet file written by pyarrow
// (an int64 and a text column, 10 row groups), each in its own process, rounds alternating:
//   - unique: Varve's `unique` contract on both columns (through a dry-run merge, as `varve hooks
//     check` runs it) against DuckDB's count(*) - count(DISTINCT ...) of both columns.
//     Target: within 3x DuckDB's time, Varve's process within 256 MiB.
//   - row diff: two versions of a 10M-row table (id, name, score) with 1% of rows changed, 0.7%
//     removed, 0.5% added and the order shuffled (test/python/table_versions.py): `repo.diffTable` by
//     key id, every record consumed, against DuckDB's EXCEPT ALL both ways on the same files.
// Time is wall clock of the whole process; memory is its peak RSS (getrusage).
//   node benchmarks/tables.mjs [--rounds 3] [--rows 10000000] [--only unique|diff]
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { Repository } from '@varve/core'

const run = promisify(execFile)
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..')
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : dflt
}
const rounds = Number(arg('--rounds', '3'))
const rows = Number(arg('--rows', '10000000'))
const only = arg('--only', '')
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const venv = (await run('bash', [path.join(root, 'scripts', 'python-venv.sh')], { maxBuffer: 1 << 24 })).stdout.trim()
const python = path.join(venv, 'bin', 'python')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-tables-bench-'))
const machine = () =>
  `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`

/** Runs each side `rounds` times, alternating who goes first; prints every round, returns the runs. */
async function alternate(sides) {
  const results = Object.fromEntries(Object.keys(sides).map((k) => [k, { s: [], rss: [] }]))
  const names = Object.keys(sides)
  for (let r = 1; r <= rounds; r++) {
    for (const who of r % 2 ? names : [...names].reverse()) {
      const m = JSON.parse((await sides[who]()).stdout)
      results[who].s.push(m.s)
      results[who].rss.push(m.rssMiB)
      console.log(`round ${r} ${who.padEnd(6)} ${m.s.toFixed(2)} s  ${m.rssMiB.toFixed(0)} MiB  ${JSON.stringify(m.found)}`)
    }
  }
  return results
}

function table(results) {
  const v = median(results.varve.s)
  const d = median(results.duckdb.s)
  console.log('| | Varve | DuckDB | Varve / DuckDB |\n|---|---:|---:|---:|')
  console.log(`| time | ${v.toFixed(2)} s | ${d.toFixed(2)} s | ${(v / d).toFixed(2)}× |`)
  console.log(
    `| peak RSS | ${median(results.varve.rss).toFixed(0)} MiB | ${median(results.duckdb.rss).toFixed(0)} MiB | ${(median(results.varve.rss) / median(results.duckdb.rss)).toFixed(2)}× |`,
  )
}

try {
  if (only !== 'diff') await uniqueBench()
  if (only !== 'unique') await diffBench()
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

async function uniqueBench() {
  const file = path.join(dir, 'big.parquet')
  await run(python, [path.join(root, 'test', 'python', 'big_table.py')], { env: { ...process.env, OUT: file, ROWS: String(rows) } })
  const lake = path.join(dir, 'lake')
  const repo = await Repository.init(lake, { author: 'bench' })
  await repo.put(
    'main',
    '_varve/hooks/u.yaml',
    'id: u\non: [pre-merge]\ntimeoutMs: 3600000\nchecks:\n  - { type: unique, files: "big/*.parquet", columns: [id, name] }\n',
  )
  await repo.commit('main', { message: 'rules' })
  await repo.createBranch('data')
  await repo.put('data', 'big/big.parquet', fs.readFileSync(file))
  await repo.commit('data', { message: 'table' })
  await repo.close()

  const varveUnique = `
    import { Repository, VarveError } from '@varve/core'
    const t0 = performance.now()
    const repo = await Repository.open(${JSON.stringify(lake)})
    let failures = []
    try { await repo.merge('data', 'main', { dryRun: true }) } catch (e) { if (!VarveError.is(e, 'HOOK_FAILED')) throw e; failures = e.details.failures }
    await repo.close()
    console.log(JSON.stringify({ s: (performance.now() - t0) / 1000, rssMiB: process.resourceUsage().maxRSS / 1024, found: failures.map((f) => f.reason) }))`
  const duckUnique = `
import duckdb, json, resource, time
duckdb.sql("SET enable_progress_bar = false")
t0 = time.time()
r = duckdb.sql("SELECT count(*) - count(DISTINCT id), count(*) - count(DISTINCT name) FROM read_parquet('${file}')").fetchall()
print(json.dumps({"s": time.time() - t0, "rssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "found": r[0]}))`

  const results = await alternate({
    varve: () => run(process.execPath, ['--input-type=module', '-e', varveUnique], { cwd: root, maxBuffer: 1 << 24 }),
    duckdb: () => run(python, ['-c', duckUnique], { maxBuffer: 1 << 24 }),
  })
  console.log(
    `\nunique over ${rows.toLocaleString('en')} rows (int64 + text, ${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MiB), medians of ${rounds} alternating rounds (${machine()})`,
  )
  table(results)
  fs.rmSync(file)
  fs.rmSync(lake, { recursive: true, force: true })
}

async function diffBench() {
  const versions = path.join(dir, 'versions')
  fs.mkdirSync(versions)
  const expected = JSON.parse(
    (
      await run(python, [path.join(root, 'test', 'python', 'table_versions.py')], {
        env: { ...process.env, OUT: versions, ROWS: String(rows), SCHEMA_CHANGE: '0', COUNTS_ONLY: '1', ROW_GROUP: String(1024 * 1024) },
        maxBuffer: 1 << 24,
      })
    ).stdout,
  )
  const lake = path.join(dir, 'diff-lake')
  const repo = await Repository.init(lake, { author: 'bench' })
  await repo.put('main', 't/data.parquet', fs.readFileSync(path.join(versions, 'v1.parquet')))
  await repo.commit('main', { message: 'v1' })
  await repo.put('main', 't/data.parquet', fs.readFileSync(path.join(versions, 'v2.parquet')))
  await repo.commit('main', { message: 'v2' })
  await repo.close()
  const varveDiff = `
    import { Repository } from '@varve/core'
    const t0 = performance.now()
    const repo = await Repository.open(${JSON.stringify(lake)})
    let summary
    for await (const r of repo.diffTable('main~1', 'main', 't/data.parquet', { key: ['id'] })) if (r.type === 'summary') summary = r
    await repo.close()
    console.log(JSON.stringify({ s: (performance.now() - t0) / 1000, rssMiB: process.resourceUsage().maxRSS / 1024, found: [summary.removed, summary.added, summary.changed] }))`
  const v1 = path.join(versions, 'v1.parquet')
  const v2 = path.join(versions, 'v2.parquet')
  const duckDiff = `
import duckdb, json, resource, time
duckdb.sql("SET enable_progress_bar = false")
t0 = time.time()
gone = duckdb.sql("SELECT count(*) FROM (SELECT * FROM read_parquet('${v1}') EXCEPT ALL SELECT * FROM read_parquet('${v2}'))").fetchall()[0][0]
came = duckdb.sql("SELECT count(*) FROM (SELECT * FROM read_parquet('${v2}') EXCEPT ALL SELECT * FROM read_parquet('${v1}'))").fetchall()[0][0]
print(json.dumps({"s": time.time() - t0, "rssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "found": [gone, came]}))`
  console.log(
    `\nrow diff: expected ${expected.removed} removed, ${expected.added} added, ${expected.changed} changed (Varve: removed, added, changed; DuckDB: old rows not in new, new rows not in old)`,
  )
  const results = await alternate({
    varve: () => run(process.execPath, ['--input-type=module', '-e', varveDiff], { cwd: root, maxBuffer: 1 << 24 }),
    duckdb: () => run(python, ['-c', duckDiff], { maxBuffer: 1 << 24 }),
  })
  console.log(
    `\nrow diff of two versions of ${rows.toLocaleString('en')} rows (1% changed, by key id; DuckDB: EXCEPT ALL both ways), medians of ${rounds} alternating rounds (${machine()})`,
  )
  table(results)
}
