// Issue 11, tables at scale, Varve against DuckDB on the same 10M-row Parquet file written by pyarrow
// (an int64 and a text column, 10 row groups), each in its own process, rounds alternating:
//   - unique: Varve's `unique` contract on both columns (through a dry-run merge, as `varve hooks
//     check` runs it) against DuckDB's count(*) - count(DISTINCT ...) of both columns.
//     Target: within 3x DuckDB's time, Varve's process within 256 MiB.
//   - row diff: two versions of the table with 1% of rows changed, `repo.diffTable` by key id against
//     DuckDB's EXCEPT ALL both ways (run with --diff once diffTable exists).
// Time is wall clock of the whole process; memory is its peak RSS (getrusage).
//   node benchmarks/tables.mjs [--rounds 3] [--rows 10000000]
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
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const venv = (await run('bash', [path.join(root, 'scripts', 'python-venv.sh')], { maxBuffer: 1 << 24 })).stdout.trim()
const python = path.join(venv, 'bin', 'python')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-tables-bench-'))
try {
  const file = path.join(dir, 'big.parquet')
  await run(python, [path.join(root, 'test', 'python', 'big_table.py')], { env: { ...process.env, OUT: file, ROWS: String(rows) } })
  const lake = path.join(dir, 'lake')
  const repo = await Repository.init(lake, { author: 'bench' })
  await repo.put('main', '_varve/hooks/u.yaml', 'id: u\non: [pre-merge]\ntimeoutMs: 3600000\nchecks:\n  - { type: unique, files: "big/*.parquet", columns: [id, name] }\n')
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

  const results = { varve: { s: [], rss: [] }, duckdb: { s: [], rss: [] } }
  for (let r = 1; r <= rounds; r++) {
    for (const who of r % 2 ? ['varve', 'duckdb'] : ['duckdb', 'varve']) {
      const { stdout } = who === 'varve'
        ? await run(process.execPath, ['--input-type=module', '-e', varveUnique], { cwd: root, maxBuffer: 1 << 24 })
        : await run(python, ['-c', duckUnique], { maxBuffer: 1 << 24 })
      const m = JSON.parse(stdout)
      results[who].s.push(m.s)
      results[who].rss.push(m.rssMiB)
      console.log(`round ${r} ${who.padEnd(6)} ${m.s.toFixed(2)} s  ${m.rssMiB.toFixed(0)} MiB  ${JSON.stringify(m.found)}`)
    }
  }
  const v = median(results.varve.s)
  const d = median(results.duckdb.s)
  console.log(`\nunique over ${rows.toLocaleString('en')} rows (int64 + text, ${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MiB), medians of ${rounds} alternating rounds (${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})`)
  console.log('| | Varve | DuckDB | Varve / DuckDB |\n|---|---:|---:|---:|')
  console.log(`| time | ${v.toFixed(2)} s | ${d.toFixed(2)} s | ${(v / d).toFixed(2)}× |`)
  console.log(`| peak RSS | ${median(results.varve.rss).toFixed(0)} MiB | ${median(results.duckdb.rss).toFixed(0)} MiB | ${(median(results.varve.rss) / median(results.duckdb.rss)).toFixed(2)}× |`)
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
