// Start-up cost of the CLI (issue 10): CPU seconds (user + system, from /usr/bin/time) of
// `varve --version` and `varve ls main:` on a small local repository, against `node -e 0` (the floor
// any Node CLI pays) and `dvc --version` when a DVC venv is there (BENCH_VENV, as bench:ingest).
// Commands alternate within each round; medians of the rounds are printed.
//   node benchmarks/startup.mjs [--rounds 9]
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const bin = path.join(here, '..', 'packages', 'cli', 'dist', 'bin.js')
const i = process.argv.indexOf('--rounds')
const rounds = i > 0 ? Number(process.argv[i + 1]) : 9
if (!fs.existsSync('/usr/bin/time')) {
  console.error('needs /usr/bin/time (GNU time) to read the CPU time of each command')
  process.exit(2)
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-startup-'))
const repo = path.join(dir, 'repo')
const run = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' })
if (run(process.execPath, [bin, 'init', repo]).status !== 0) throw new Error('varve init failed')
fs.writeFileSync(path.join(dir, 'a.csv'), 'x,y\n1,2\n')
for (const args of [
  ['put', path.join(dir, 'a.csv'), 'main:data/a.csv'],
  ['commit', 'main', '-m', 'one file'],
]) {
  const r = run(process.execPath, [bin, ...args, '--repo', repo])
  if (r.status !== 0) throw new Error(`varve ${args[0]} failed: ${r.stderr}`)
}

const dvc = path.join(process.env.BENCH_VENV ?? path.join(here, '.venv'), 'bin', 'dvc')
const commands = [
  ['node -e 0', process.execPath, ['-e', '0']],
  ['varve --version', process.execPath, [bin, '--version']],
  ['varve ls main: (local)', process.execPath, [bin, 'ls', 'main:', '--repo', repo]],
  ...(fs.existsSync(dvc) ? [['dvc --version', dvc, ['--version']]] : []),
]
const stat = path.join(dir, 'time.txt')
const cpu = new Map(commands.map(([name]) => [name, []]))
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? commands : [...commands].reverse()
  for (const [name, cmd, args] of order) {
    const res = run('/usr/bin/time', ['-o', stat, '-f', '%U %S', cmd, ...args])
    if (res.status !== 0) throw new Error(`${name} failed: ${res.stderr}`)
    const [user, sys] = fs.readFileSync(stat, 'utf8').trim().split(/\s+/).map(Number)
    cpu.get(name).push(user + sys)
  }
}
fs.rmSync(dir, { recursive: true, force: true })

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const floor = median(cpu.get('node -e 0'))
console.log(
  `CLI start-up, ${rounds} rounds alternating (${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')})`,
)
console.log(['command'.padEnd(26), 'CPU s (median)'.padStart(15), 'over node -e 0'.padStart(15), 'target'.padStart(8)].join(' '))
const targets = { 'varve --version': 0.15, 'varve ls main: (local)': 0.25 }
for (const [name] of commands) {
  const m = median(cpu.get(name))
  const target = targets[name]
  console.log(
    [
      name.padEnd(26),
      m.toFixed(2).padStart(15),
      (m - floor).toFixed(2).padStart(15),
      (target ? `<= ${target}${m <= target ? ' ok' : ' MISSED'}` : '').padStart(8),
    ].join(' '),
  )
}
