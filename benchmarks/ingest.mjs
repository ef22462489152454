// Versioning a folder, side by side (issue 14): the same generated folder (100 folders of 1–30 KiB
// incompressible files, a fixed seed) added and committed by each tool from a fresh repository, then
// re-added unchanged, then re-added with 1% of the files rewritten. Tools alternate within a round.
// Also: the library batch API (repo.putMany) at concurrency 1/8/32, local and on MinIO, and
// `varve put` + commit of a folder on MinIO.
//
//   pnpm bench:ingest                         10k files, every tool found
//   pnpm bench:ingest -- --files 100000 --rounds 2
//   pnpm bench:ingest -- --tools varve,dvc --no-lib --no-s3
//
// DVC comes from a venv the script creates (pip install dvc); git-lfs from apt-get when it is not on
// PATH (skipped with a message when neither works). Wall time, CPU time and peak RSS are measured
// by /usr/bin/time around each command.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateFolder, incompressible, relOf, sizeOf } from './bench-util.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : dflt
}
const FILES = Number(opt('files', process.env.BENCH_INGEST_FILES ?? 10000))
const ROUNDS = Number(opt('rounds', 1))
const TOOLS = opt('tools', 'varve,dvc,git-lfs').split(',')
const WITH_LIB = !args.includes('--no-lib')
const WITH_S3 = !args.includes('--no-s3')
const S3_FILES = Number(opt('s3-files', 10000))
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-ingest-'))
const varveBin = path.join(root, 'packages/cli/dist/bin.js')
const venv = process.env.BENCH_VENV ?? path.join(here, '.venv')

// ---- the folder -----------------------------------------------------------------------------------
// The seeds keep the bytes this script always generated (`varve-ingest-<seed>`).
const stream = (seed) => incompressible(`varve-ingest-${seed}`)
const generate = (dir, n) => generateFolder(dir, n, 'varve-ingest-folder')

/** Rewrites 1% of the files (every 100th) with new content of a new size. */
function change1pct(dir, n) {
  const cipher = stream('change')
  let changed = 0
  for (let i = 0; i < n; i += 100) {
    fs.writeFileSync(path.join(dir, relOf(i)), cipher.update(Buffer.alloc(sizeOf(i, 1))))
    changed++
  }
  return changed
}

// ---- running and timing ---------------------------------------------------------------------------
const hasTime = fs.existsSync('/usr/bin/time')
/** Runs a command; wall seconds, CPU seconds (user+sys) and peak RSS of the command. */
function timed(cmd, argv, cwd, env = {}) {
  const statFile = path.join(work, 'time.txt')
  const full = hasTime ? ['/usr/bin/time', ['-o', statFile, '-f', '%e %U %S %M', cmd, ...argv]] : [cmd, argv]
  const t0 = performance.now()
  const r = spawnSync(full[0], full[1], { cwd, env: { ...process.env, VARVE_NO_PROGRESS: '1', ...env }, encoding: 'utf8', maxBuffer: 1 << 28 })
  const wall = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr?.slice(-2000)}`)
  if (!hasTime) return { wall, cpu: NaN, rssMiB: NaN, stdout: r.stdout }
  const [, user, sys, rssKb] = fs.readFileSync(statFile, 'utf8').trim().split('\n').pop().split(' ').map(Number)
  return { wall, cpu: user + sys, rssMiB: rssKb / 1024, stdout: r.stdout }
}
const sum = (...rs) => ({ wall: rs.reduce((a, r) => a + r.wall, 0), cpu: rs.reduce((a, r) => a + r.cpu, 0), rssMiB: Math.max(...rs.map((r) => r.rssMiB)) })
const sh = (cmd, cwd) => spawnSync('bash', ['-c', cmd], { cwd, encoding: 'utf8' })

// ---- the tools ------------------------------------------------------------------------------------
function ensureDvc() {
  const dvc = path.join(venv, 'bin', 'dvc')
  if (fs.existsSync(dvc)) return dvc
  console.error(`creating ${venv} and installing dvc (first run only; a few minutes)...`)
  const t0 = performance.now()
  if (sh(`python3 -m venv '${venv}' && '${venv}/bin/pip' install -q dvc==3.67.1`).status !== 0) return undefined
  console.error(`dvc installed in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  return fs.existsSync(dvc) ? dvc : undefined
}

function ensureGitLfs() {
  if (sh('git lfs version').status === 0) return true
  console.error('git-lfs not found: trying apt-get install git-lfs...')
  sh('(apt-get update -qq && apt-get install -y -qq git-lfs) >/dev/null 2>&1')
  return sh('git lfs version').status === 0
}

/** Each tool: set up a fresh workspace holding `data/`, then add, re-add, re-add after a change. */
const tools = {
  varve: {
    available: () => fs.existsSync(varveBin),
    setup: (ws) => timed('node', [varveBin, 'init', '--repo', path.join(ws, 'repo')], ws),
    add: (ws) => {
      const env = { VARVE_REPO: path.join(ws, 'repo'), VARVE_CACHE_DIR: path.join(ws, 'cache') }
      const put = timed('node', [varveBin, 'put', path.join(ws, 'data'), 'main:data/'], ws, env)
      const commit = timed('node', [varveBin, 'commit', 'main', '-m', 'add'], ws, env)
      return sum(put, commit)
    },
    readd: (ws, changed) => {
      const env = { VARVE_REPO: path.join(ws, 'repo'), VARVE_CACHE_DIR: path.join(ws, 'cache') }
      const put = timed('node', [varveBin, 'put', path.join(ws, 'data'), 'main:data/'], ws, env)
      if (!changed) return put
      return sum(put, timed('node', [varveBin, 'commit', 'main', '-m', 'change'], ws, env))
    },
  },
  dvc: {
    bin: undefined,
    available() {
      this.bin = ensureDvc()
      if (!this.bin) console.error('dvc: skipped (the venv or pip install failed)')
      return !!this.bin
    },
    setup(ws) {
      timed(this.bin, ['init', '--no-scm', '-q'], ws)
      timed(this.bin, ['config', 'core.analytics', 'false'], ws)
    },
    add(ws) {
      return timed(this.bin, ['add', '-q', 'data'], ws)
    },
    readd(ws) {
      return timed(this.bin, ['add', '-q', 'data'], ws)
    },
  },
  'git-lfs': {
    available: () => {
      const ok = ensureGitLfs()
      if (!ok) console.error('git-lfs: skipped (not on PATH and apt-get could not install it)')
      return ok
    },
    setup: (ws) => {
      sh(
        'git init -q && git config gc.auto 0 && git config user.email b@b && git config user.name bench && git lfs install --local >/dev/null && git lfs track "*.bin" >/dev/null && git add .gitattributes && git commit -qm attrs',
        ws,
      )
    },
    add: (ws) => sum(timed('git', ['add', 'data'], ws), timed('git', ['commit', '-qm', 'add'], ws)),
    readd: (ws, changed) => {
      const add = timed('git', ['add', 'data'], ws)
      return changed ? sum(add, timed('git', ['commit', '-qm', 'change'], ws)) : add
    },
  },
}

// ---- the folder benchmark -------------------------------------------------------------------------
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')
console.log(`# Ingest: ${FILES.toLocaleString('en')} files in 100 folders, 1–30 KiB incompressible; ${ROUNDS} round(s)`)
console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load at start ${load()}`,
)
const active = TOOLS.filter((t) => tools[t]?.available())
const results = {} // tool -> [{ add, readd, change }]
for (let round = 1; round <= ROUNDS; round++) {
  // Alternate the order each round so no tool always runs on a warmer (or busier) machine.
  const order = round % 2 ? active : [...active].reverse()
  for (const t of order) {
    const ws = fs.mkdtempSync(path.join(work, `${t}-`))
    const data = path.join(ws, 'data')
    fs.mkdirSync(data)
    const bytes = generate(data, FILES)
    tools[t].setup(ws)
    const loadBefore = load()
    const add = tools[t].add(ws)
    const readd = tools[t].readd(ws, false)
    change1pct(data, FILES)
    const change = tools[t].readd(ws, true)
    ;(results[t] ??= []).push({ add, readd, change, bytes, load: loadBefore })
    console.error(
      `round ${round} ${t}: add ${add.wall.toFixed(1)} s, re-add ${readd.wall.toFixed(2)} s, 1% changed ${change.wall.toFixed(2)} s (load ${loadBefore})`,
    )
    removeTree(ws)
  }
}

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const row = (t, k) => med(results[t].map((r) => r[k].wall))
const table = [['tool', 'add + commit (s)', 'files/s', 'CPU s', 'peak RSS MiB', 're-add unchanged (s)', 're-add 1% changed (s)', 'add vs Varve']]
const varveAdd = results.varve ? row('varve', 'add') : undefined
for (const t of active) {
  const add = row(t, 'add')
  const r = results[t][0]
  table.push([
    t,
    add.toFixed(1),
    Math.round(FILES / add).toLocaleString('en'),
    med(results[t].map((x) => x.add.cpu)).toFixed(1),
    Math.round(med(results[t].map((x) => x.add.rssMiB))),
    row(t, 'readd').toFixed(2),
    row(t, 'change').toFixed(2),
    varveAdd ? `${(add / varveAdd).toFixed(2)}×` : '-',
  ])
  void r
}
printTable(table)
console.log(`load at end ${load()} (add vs Varve: how many times longer the tool took than Varve)`)

// ---- the library batch API, and S3 ----------------------------------------------------------------
if (WITH_LIB || WITH_S3) {
  const { Repository } = await import('@varve/core')
  const items = function* (n, salt) {
    const cipher = stream(`lib-${salt}`)
    for (let i = 0; i < n; i++) yield { path: relOf(i), data: cipher.update(Buffer.alloc(sizeOf(i))) }
  }
  const libRows = [['store', 'concurrency', 'objects', 'putMany (s)', 'objects/s', 'commit (s)']]
  const runLib = async (label, open, n, conc) => {
    const repo = await open()
    const t0 = performance.now()
    await repo.putMany('main', items(n, `${label}-${conc}`), { concurrency: conc })
    const put = (performance.now() - t0) / 1000
    const t1 = performance.now()
    await repo.commit('main', { message: 'batch' })
    const commit = (performance.now() - t1) / 1000
    await repo.close()
    libRows.push([label, String(conc), n.toLocaleString('en'), put.toFixed(2), Math.round(n / put).toLocaleString('en'), commit.toFixed(2)])
  }
  let server
  if (WITH_S3) {
    const { startTestS3 } = await import('@varve/s3-adapter/testing')
    await import('@varve/s3-adapter')
    server = await startTestS3()
    await server.createBucket('ingest')
  }
  for (const conc of [1, 8, 32]) {
    if (WITH_LIB) {
      const dir = fs.mkdtempSync(path.join(work, 'lib-'))
      await runLib('local', async () => Repository.init(dir), FILES, conc)
      fs.rmSync(dir, { recursive: true, force: true })
    }
    if (server) {
      const loc = `s3://ingest/lib-${conc}/`
      await runLib('MinIO', async () => Repository.init(loc, { s3: server.options }), S3_FILES, conc)
    }
  }
  console.log(`\n## Library batch API (repo.putMany + commit), load ${load()}`)
  printTable(libRows)

  if (server) {
    // The CLI on MinIO: put + commit of a folder, unchanged re-put, 1%-changed re-put + commit.
    const ws = fs.mkdtempSync(path.join(work, 's3cli-'))
    const data = path.join(ws, 'data')
    fs.mkdirSync(data)
    generate(data, S3_FILES)
    const env = {
      VARVE_REPO: 's3://ingest/cli/',
      VARVE_CACHE_DIR: path.join(ws, 'cache'),
      AWS_ACCESS_KEY_ID: server.options.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.options.credentials.secretAccessKey,
      VARVE_S3_ENDPOINT: server.options.endpoint,
      VARVE_S3_REGION: server.options.region,
      VARVE_S3_FORCE_PATH_STYLE: 'true',
    }
    timed('node', [varveBin, 'init'], ws, env)
    const put = timed('node', [varveBin, 'put', data, 'main:data/'], ws, env)
    const commit = timed('node', [varveBin, 'commit', 'main', '-m', 'add'], ws, env)
    const readd = timed('node', [varveBin, 'put', data, 'main:data/'], ws, env)
    change1pct(data, S3_FILES)
    const change = sum(timed('node', [varveBin, 'put', data, 'main:data/'], ws, env), timed('node', [varveBin, 'commit', 'main', '-m', 'change'], ws, env))
    console.log(`\n## varve put on MinIO (loopback), ${S3_FILES.toLocaleString('en')} files, load ${load()}`)
    printTable([
      ['put (s)', 'commit (s)', 'put + commit (s)', 're-put unchanged (s)', 're-put 1% changed + commit (s)'],
      [put.wall.toFixed(1), commit.wall.toFixed(2), (put.wall + commit.wall).toFixed(1), readd.wall.toFixed(2), change.wall.toFixed(2)],
    ])
    await server.stop()
  }
}
removeTree(work)

/** git may still be writing into .git (auto gc) when a command returns: retry the removal. */
function removeTree(dir) {
  for (let i = 0; i < 10; i++) {
    try {
      fs.rmSync(dir, { recursive: true, force: true })
      return
    } catch {
      spawnSync('sleep', ['1'])
    }
  }
}

function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)))
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`
  console.log(line(rows[0]))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const r of rows.slice(1)) console.log(line(r))
}
