// History of a path (issue 10): `log -- <prefix>` and `blame <prefix>` cost the nodes each commit
// changed under the prefix, not a walk of the tree per commit. On lakes of 10k, 100k and 1M entries
// with the same 100 commits of 10 scattered changes each (every 10th also touching the prefix),
// Varve's times should stay flat as the lake grows; git (`git log -- <prefix>`, and
// `git log --name-only -- <prefix>` as the one-pass equivalent of blame) is measured on the same
// layout up to 100k files (a 1M-file git checkout is out of reach here). Rounds alternate.
//   node benchmarks/history.mjs [--sizes 10000,100000,1000000] [--rounds 5]
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Repository } from '@varve/core'
import { buildLake, lakePath } from './lake-fixture.mjs'

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : dflt
}
const sizes = arg('--sizes', '10000,100000,1000000').split(',').map(Number)
const rounds = Number(arg('--rounds', '5'))
const COMMITS = 100
const CHANGES = 10
const PREFIX = 'events/date=00000005/'
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const time = async (fn) => {
  const t0 = performance.now()
  const out = await fn()
  return [performance.now() - t0, out]
}
const git = (cwd, ...args) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}
/** The paths commit k changes: 10 spread over the lake, and for every 10th commit one under PREFIX. */
const changedBy = (k, n) => {
  const out = Array.from({ length: CHANGES }, (_, j) => lakePath((k * 7919 + j * Math.floor(n / CHANGES)) % n)).filter((p) => !p.startsWith(PREFIX))
  if (k % 10 === 0) out.push(lakePath(5000 + k))
  return out
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-history-'))
const rows = []
try {
  for (const n of sizes) {
    const lake = path.join(dir, `lake-${n}`)
    await buildLake(lake, n)
    const repo = await Repository.open(lake, { author: 'bench', durable: false })
    for (let k = 0; k < COMMITS; k++) {
      for (const p of changedBy(k, n)) await repo.put('main', p, `v${k}`)
      await repo.commit('main', { message: `commit ${k}` })
    }
    let gitDir
    if (n <= 100_000) {
      gitDir = path.join(dir, `git-${n}`)
      fs.mkdirSync(gitDir)
      git(gitDir, 'init', '-q')
      for (let i = 0; i < n; i++) {
        const p = path.join(gitDir, lakePath(i))
        if (i % 1000 === 0) fs.mkdirSync(path.dirname(p), { recursive: true })
        fs.writeFileSync(p, 'x'.repeat(64))
      }
      git(gitDir, 'add', '-A')
      git(gitDir, '-c', 'user.name=bench', '-c', 'user.email=b@x', 'commit', '-qm', `${n} files`)
      for (let k = 0; k < COMMITS; k++) {
        const changed = changedBy(k, n)
        for (const p of changed) fs.writeFileSync(path.join(gitDir, p), `v${k}`)
        git(gitDir, 'add', '--', ...changed)
        git(gitDir, '-c', 'user.name=bench', '-c', 'user.email=b@x', 'commit', '-qm', `commit ${k}`)
      }
      git(gitDir, 'gc', '-q') // git's history walks are at their best on a packed repository
    }
    const t = { log: [], blame: [], gitLog: [], gitNames: [] }
    let found
    let blamed
    for (let r = 0; r < rounds; r++) {
      const varveRound = async () => {
        const [ms, commits] = await time(async () => {
          let c = 0
          for await (const _ of repo.log('main', { prefix: PREFIX, firstParent: true })) c++
          return c
        })
        t.log.push(ms)
        found = commits
        const [bms, lines] = await time(async () => {
          let c = 0
          for await (const _ of repo.blame('main', PREFIX)) c++
          return c
        })
        t.blame.push(bms)
        blamed = lines
      }
      const gitRound = () => {
        if (!gitDir) return
        const [ms] = [performance.now()]
        git(gitDir, 'log', '--first-parent', '--format=%H', '--', PREFIX)
        t.gitLog.push(performance.now() - ms)
        const s = performance.now()
        git(gitDir, 'log', '--first-parent', '--name-only', '--format=%H', '--', PREFIX)
        t.gitNames.push(performance.now() - s)
      }
      if (r % 2 === 0) {
        await varveRound()
        gitRound()
      } else {
        gitRound()
        await varveRound()
      }
    }
    await repo.close()
    rows.push({ n, found, blamed, ...Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.length ? median(v) : undefined])) })
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

console.log(`History of a prefix (${PREFIX}) over ${COMMITS} commits of ${CHANGES} scattered changes, medians of ${rounds} alternating rounds`)
console.log(
  `(${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, git ${git(dir.replace(/[^/]+$/, ''), '--version')
    .trim()
    .split(' ')
    .pop()}, load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')})`,
)
const f = (ms) => (ms === undefined ? '-' : ms.toFixed(1))
console.log(
  [
    'entries'.padStart(9),
    'commits found'.padStart(14),
    'varve log ms'.padStart(13),
    'git log ms'.padStart(11),
    'files blamed'.padStart(13),
    'varve blame ms'.padStart(15),
    'git log --name-only ms'.padStart(23),
  ].join(' '),
)
for (const r of rows)
  console.log(
    [
      String(r.n).padStart(9),
      String(r.found).padStart(14),
      f(r.log).padStart(13),
      f(r.gitLog).padStart(11),
      String(r.blamed).padStart(13),
      f(r.blame).padStart(15),
      f(r.gitNames).padStart(23),
    ].join(' '),
  )
