// The web UI's pages as the server answers them (issue 26: "the first page of a 1M-entry prefix in
// <= 300 ms server time"), side by side with the lakeFS API call its web UI makes for the same page
// (objects/ls), in one run, alternating; plus the app's own bundle size (<= 300 KiB gzipped).
//
//   LAKEFS_BIN=/path/to/lakefs node benchmarks/web-ui.mjs [--entries 1000000] [--rounds 15]
//   node benchmarks/web-ui.mjs --no-lakefs        (Varve's rows only)
//
// Both hold the same n entries in the lake layout (events/date=NNNNNNNN/part-NNNNNNNN.parquet, 1,000
// to a partition): lakeFS imports them zero-copy from files on disk, Varve builds them through its
// tree layer. Varve also holds n files in one flat folder (no peer row: the lake layout is lakeFS's).
// Requests go over loopback to `varve serve` (spawned from the built CLI) and to lakeFS; the time is
// the client's, from request to the last byte. Not part of CI.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { arg, load, median, ms } from './bench-util.mjs'
import { buildLake, pad } from './lake-fixture.mjs'
import { importInto, lakefsBinary, startLakeFS, writeImportSource } from './lakefs-server.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const N = arg('entries', 1_000_000)
const ROUNDS = arg('rounds', 15)
const withLakeFS = !process.argv.includes('--no-lakefs')
const bin = withLakeFS ? lakefsBinary() : undefined
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-web-ui-bench-'))
const PAGE = 100
const middle = `events/date=${pad(Math.floor(N / 2000))}/`
const flatPath = (i) => `flat/part-${pad(i)}.parquet`

console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load at start ${load()}`,
)

// The app's first load: what a browser downloads before the first page shows (gzipped, as served).
const dist = path.join(ROOT, 'packages', 'web', 'dist')
const firstLoad = ['index.html', 'app.js', 'app.css'].reduce((n, f) => n + fs.statSync(path.join(dist, `${f}.gz`)).size, 0)
const chunks = fs.existsSync(path.join(dist, 'chunks')) ? fs.readdirSync(path.join(dist, 'chunks')).filter((f) => f.endsWith('.gz')) : []
const onDemand = chunks.reduce((n, f) => n + fs.statSync(path.join(dist, 'chunks', f)).size, 0)

process.stderr.write(`setting up ${N.toLocaleString('en')} entries...\n`)
let t0 = performance.now()
await buildLake(path.join(root, 'lake'), N)
await buildLake(path.join(root, 'flat'), N, flatPath)
process.stderr.write(`  Varve trees built: ${(ms(t0) / 1000).toFixed(1)} s\n`)
fs.writeFileSync(
  path.join(root, 'serve.yaml'),
  [
    'listen: 127.0.0.1:0',
    'repositories:',
    `  - { name: lake, location: ${JSON.stringify(path.join(root, 'lake'))} }`,
    `  - { name: flat, location: ${JSON.stringify(path.join(root, 'flat'))} }`,
    'keys:',
    '  - { accessKey: bench, secretKey: bench-secret-on-loopback, grants: [{ actions: [read] }] }',
  ].join('\n'),
)
const serve = spawn(process.execPath, [path.join(ROOT, 'packages/cli/dist/bin.js'), 'serve', '--config', path.join(root, 'serve.yaml')], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const varveUrl = await new Promise((resolve, reject) => {
  let out = ''
  serve.stdout.on('data', (d) => {
    out += d
    const m = /^listening on (\S+)$/m.exec(out)
    if (m) resolve(m[1])
  })
  serve.on('exit', (code) => reject(new Error(`varve serve exited with ${code}`)))
})
const basic = `Basic ${Buffer.from('bench:bench-secret-on-loopback').toString('base64')}`

let lakefs
if (withLakeFS) {
  t0 = performance.now()
  const dir = writeImportSource(root, N)
  process.stderr.write(`  import source written in ${(ms(t0) / 1000).toFixed(0)} s\n`)
  lakefs = await startLakeFS(bin, root)
  await lakefs.api('POST', '/repositories', { name: 'bench', storage_namespace: `local://${root}/lakefs/data/bench`, default_branch: 'main' })
  t0 = performance.now()
  await importInto(lakefs.api, 'bench', dir, `${N} entries`)
  process.stderr.write(`  lakeFS import: ${(ms(t0) / 1000).toFixed(1)} s\n`)
}

/** One timed request; returns ms, and checks the page holds what it should. */
async function timed(url, headers, check) {
  const t = performance.now()
  const res = await fetch(url, { headers })
  const body = await res.json()
  const took = ms(t)
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`)
  check(body)
  return took
}
const q = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined)).toString()
const varvePage = (repo, prefix, after, expectFirst) => () =>
  timed(
    `${varveUrl}/api/v1/repositories/${repo}/objects?${q({ ref: 'main', prefix, delimiter: '/', limit: String(PAGE), after })}`,
    { authorization: basic },
    (b) => {
      const first = b.prefixes[0] ?? b.objects[0]?.path
      if (first !== expectFirst) throw new Error(`Varve page of ${prefix}: ${first}`)
    },
  )

// lakeFS: its web UI lists a folder with GET /repositories/{repo}/refs/{ref}/objects/ls (amount, after, delimiter).
const lakefsAuth = `Basic ${Buffer.from('AKIAIOSFODNN7BENCH01:benchSecretKeyForLakeFSOnLoopbackOnly000').toString('base64')}`
const lakefsLs = (prefix, after, expectFirst) => () =>
  timed(
    `${lakefs.url}/repositories/bench/refs/main/objects/ls?${q({ prefix, delimiter: '/', amount: String(PAGE), after })}`,
    { authorization: lakefsAuth },
    (b) => {
      if (b.results[0]?.path !== expectFirst) throw new Error(`lakeFS page of ${prefix}: ${b.results[0]?.path}`)
    },
  )

const rows = [
  {
    label: `first page (${PAGE}) of events/: ${(N / 1000).toLocaleString('en')} folders, ${N.toLocaleString('en')} entries under it`,
    varve: varvePage('lake', 'events/', undefined, 'events/date=00000000/'),
    lakefs: lakefsLs('events/', undefined, 'events/date=00000000/'),
  },
  {
    label: 'a page from the middle of events/ (after=)',
    varve: varvePage('lake', 'events/', middle, `events/date=${pad(Math.floor(N / 2000) + 1)}/`),
    lakefs: lakefsLs('events/', middle, `events/date=${pad(Math.floor(N / 2000) + 1)}/`),
  },
  {
    label: 'first page of one partition (1,000 files)',
    varve: varvePage('lake', middle, undefined, `${middle}part-${pad(Math.floor(N / 2000) * 1000)}.parquet`),
    lakefs: lakefsLs(middle, undefined, `${middle}part-${pad(Math.floor(N / 2000) * 1000)}.parquet`),
  },
  { label: `first page of ${N.toLocaleString('en')} files in one folder`, varve: varvePage('flat', 'flat/', undefined, flatPath(0)) },
  { label: 'the last page of that folder (after=)', varve: varvePage('flat', 'flat/', flatPath(N - PAGE - 1), flatPath(N - PAGE)) },
]

try {
  // The first request of each (cold: the server opens the repository, reads the root from disk).
  const cold = { varve: await rows[0].varve(), ...(withLakeFS ? { lakefs: await rows[0].lakefs() } : {}) }
  const times = rows.map(() => ({ varve: [], lakefs: [] }))
  for (let r = 0; r < ROUNDS; r++)
    for (const [i, row] of rows.entries())
      for (const tool of r % 2 === 0 ? ['varve', 'lakefs'] : ['lakefs', 'varve'])
        if (row[tool] && (tool === 'varve' || withLakeFS)) times[i][tool].push(await row[tool]())
  const f = (x) => (x === undefined ? '—' : x.toFixed(1))
  console.log(`\nthe web UI's folder pages, ${ROUNDS} rounds alternating, median (max) ms; load at end ${load()}`)
  console.log(['page'.padEnd(84), 'Varve'.padStart(14), 'lakeFS'.padStart(14), 'Varve ahead by'.padStart(15)].join(' '))
  console.log(
    [
      'first request after start (cold)'.padEnd(84),
      f(cold.varve).padStart(14),
      f(cold.lakefs).padStart(14),
      (cold.lakefs ? `${(cold.lakefs / cold.varve).toFixed(1)}x` : '').padStart(15),
    ].join(' '),
  )
  for (const [i, row] of rows.entries()) {
    const v = times[i].varve
    const l = times[i].lakefs
    const cell = (xs) => (xs.length ? `${f(median(xs))} (${f(Math.max(...xs))})` : '—')
    console.log(
      [row.label.padEnd(84), cell(v).padStart(14), cell(l).padStart(14), (l.length ? `${(median(l) / median(v)).toFixed(1)}x` : '').padStart(15)].join(' '),
    )
  }
  const worst = Math.max(cold.varve, ...times.flatMap((t) => t.varve))
  console.log(`\ngoal: every first page <= 300 ms: ${worst <= 300 ? 'met' : 'NOT met'} (slowest Varve request ${worst.toFixed(1)} ms)`)
  console.log(
    `the app's first load: ${(firstLoad / 1024).toFixed(1)} KiB gzipped (goal <= 300 KiB: ${firstLoad <= 300 * 1024 ? 'met' : 'NOT met'}); loaded on demand: ${(onDemand / 1024).toFixed(1)} KiB in ${chunks.length} chunks`,
  )
} finally {
  serve.kill('SIGTERM')
  lakefs?.stop()
  fs.rmSync(root, { recursive: true, force: true })
}
