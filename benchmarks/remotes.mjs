// Moving a repository (issue 27), side by side, on a real MinIO on loopback: the same generated
// folder (1–30 KiB incompressible files, a fixed seed) pushed to the bucket and brought back by each
// tool, tools alternating within a round, each into a fresh prefix or folder:
//   varve push / varve clone (the CLI, spawned)   rclone copy (up and down, 64 transfers)
//   aws s3 sync (up and down, 64 requests)         dvc push (-j 64; its remote on the same MinIO)
// Then: a push of 5k files through the library against a raw aws-sdk upload of the same files with
// 64 requests in flight; one large file pushed against a raw multipart upload; and, on a repository of
// --noop-entries entries, a no-op fetch (time) and a fetch after 1,000 changed files (requests).
//
//   pnpm bench:remotes                                      10k files, 3 rounds
//   pnpm bench:remotes -- --files 100000 --rounds 2 --noop-entries 1000000
//   pnpm bench:remotes -- --tools varve,rclone --no-large --no-noop
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { Repository } from '@varve/core'
import { createS3Client } from '@varve/s3-adapter'
import { startTestS3 } from '@varve/s3-adapter/testing'
import { alternate, generateFolder, incompressible, load, median, relOf } from './bench-util.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : dflt
}
const FILES = Number(opt('files', 10000))
const ROUNDS = Number(opt('rounds', 3))
const TOOLS = opt('tools', 'varve,rclone,aws,dvc').split(',')
const SDK_FILES = Number(opt('sdk-files', 5000))
const LARGE_MIB = Number(opt('large-mib', 1024))
const NOOP_ENTRIES = Number(opt('noop-entries', 100000))
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-remotes-'))
const varveBin = path.join(root, 'packages/cli/dist/bin.js')
const venv = process.env.BENCH_VENV ?? path.join(here, '.venv')
const BUCKET = 'bench-remotes'

// ---- running and timing ---------------------------------------------------------------------------
const hasTime = fs.existsSync('/usr/bin/time')
function timed(cmd, argv, env = {}, cwd = work) {
  const base = { ...process.env }
  // rclone reads AWS_CA_BUNDLE and then refuses its own HTTP transport; MinIO here is plain HTTP.
  if (cmd === 'rclone') delete base.AWS_CA_BUNDLE
  const statFile = path.join(work, 'time.txt')
  const full = hasTime ? ['/usr/bin/time', ['-o', statFile, '-f', '%e %U %S %M', cmd, ...argv]] : [cmd, argv]
  const t0 = performance.now()
  const r = spawnSync(full[0], full[1], { cwd, env: { ...base, VARVE_NO_PROGRESS: '1', ...env }, encoding: 'utf8', maxBuffer: 1 << 28 })
  const wall = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout)?.slice(-2000)}`)
  if (!hasTime) return { wall, rssMiB: NaN }
  const [, , , rssKb] = fs.readFileSync(statFile, 'utf8').trim().split('\n').pop().split(' ').map(Number)
  return { wall, rssMiB: rssKb / 1024 }
}
const sh = (cmd) => spawnSync('bash', ['-c', cmd], { encoding: 'utf8' })

const server = await startTestS3()
// A failure anywhere below must not leave MinIO running: its kill sends SIGKILL synchronously.
process.on('exit', () => void server.kill().catch(() => {}))
await server.createBucket(BUCKET)
const s3 = server.options
const s3Env = {
  VARVE_S3_ENDPOINT: s3.endpoint,
  VARVE_S3_FORCE_PATH_STYLE: 'true',
  AWS_REGION: s3.region,
  AWS_DEFAULT_REGION: s3.region,
  AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
}
// The AWS CLI's concurrency lives in its config file; rclone's remote in environment variables.
const awsConfig = path.join(work, 'aws-config')
fs.writeFileSync(awsConfig, '[default]\ns3 =\n  max_concurrent_requests = 64\n  max_queue_size = 10000\n')
const awsEnv = { ...s3Env, AWS_CONFIG_FILE: awsConfig }
const rcloneEnv = {
  RCLONE_CONFIG_MINIO_TYPE: 's3',
  RCLONE_CONFIG_MINIO_PROVIDER: 'Minio',
  RCLONE_CONFIG_MINIO_ENDPOINT: s3.endpoint,
  RCLONE_CONFIG_MINIO_ACCESS_KEY_ID: s3.credentials.accessKeyId,
  RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  RCLONE_CONFIG_MINIO_REGION: s3.region,
}

function ensureDvc() {
  const dvc = path.join(venv, 'bin', 'dvc')
  if (fs.existsSync(dvc) && sh(`'${venv}/bin/python' -c 'import dvc_s3'`).status === 0) return dvc
  console.error(`installing dvc and dvc-s3 into ${venv} (first run only; a few minutes)...`)
  if (sh(`(test -x '${venv}/bin/pip' || python3 -m venv '${venv}') && '${venv}/bin/pip' install -q dvc==3.67.1 dvc-s3`).status !== 0) return undefined
  return fs.existsSync(dvc) ? dvc : undefined
}

// ---- setup: the folder, and a local Varve repository holding it ---------------------------------
const folder = path.join(work, 'data')
const bytes = generateFolder(folder, FILES, 'varve-remotes-folder')
const src = path.join(work, 'src')
{
  const repo = await Repository.init(src, { author: 'bench', durable: false })
  await repo.putFolder('main', folder, 'data/')
  await repo.commit('main', { message: 'the folder' })
  await repo.close()
}
console.error(`setup: ${FILES} files, ${(bytes / 2 ** 20).toFixed(0)} MiB; load ${load()}`)

const tools = {
  varve: {
    up: (r) => {
      timed('node', [varveBin, '--repo', src, 'remote', 'add', `r${r}`, `s3://${BUCKET}/varve-${r}`], s3Env)
      return timed('node', [varveBin, '--repo', src, 'push', `r${r}`, 'main'], s3Env)
    },
    down: (r) => timed('node', [varveBin, 'clone', `s3://${BUCKET}/varve-${r}`, path.join(work, `varve-clone-${r}`)], s3Env),
  },
  rclone: {
    available: () => sh('rclone version').status === 0,
    up: (r) => timed('rclone', ['copy', folder, `minio:${BUCKET}/rclone-${r}`, '--transfers', '64', '--checkers', '64'], rcloneEnv),
    down: (r) =>
      timed('rclone', ['copy', `minio:${BUCKET}/rclone-${r}`, path.join(work, `rclone-down-${r}`), '--transfers', '64', '--checkers', '64'], rcloneEnv),
  },
  aws: {
    available: () => sh('aws --version').status === 0,
    up: (r) => timed('aws', ['s3', 'sync', folder, `s3://${BUCKET}/aws-${r}`, '--endpoint-url', s3.endpoint, '--only-show-errors'], awsEnv),
    down: (r) =>
      timed('aws', ['s3', 'sync', `s3://${BUCKET}/aws-${r}`, path.join(work, `aws-down-${r}`), '--endpoint-url', s3.endpoint, '--only-show-errors'], awsEnv),
  },
  dvc: {
    bin: undefined,
    available() {
      this.bin = ensureDvc()
      return !!this.bin
    },
    up(r) {
      // Setup (not measured): a DVC project tracking the folder; then the push to its own prefix.
      const ws = path.join(work, `dvc-${r}`)
      fs.mkdirSync(ws)
      spawnSync('cp', ['-al', folder, path.join(ws, 'data')]) // hard links: DVC refuses a symlinked folder
      const run = (...a) => {
        const x = spawnSync(this.bin, a, { cwd: ws, env: { ...process.env, ...s3Env }, encoding: 'utf8' })
        if (x.status !== 0) throw new Error(`dvc ${a.join(' ')}: ${x.stderr}${x.stdout}`)
      }
      run('init', '--no-scm', '-q')
      run('add', '-q', 'data')
      run('remote', 'add', '-d', 'minio', `s3://${BUCKET}/dvc-${r}`)
      run('remote', 'modify', 'minio', 'endpointurl', s3.endpoint)
      return timed(this.bin, ['push', '-j', '64', '-q'], s3Env, ws)
    },
  },
}

const active = TOOLS.filter((t) => tools[t] && (!tools[t].available || tools[t].available()))
const results = Object.fromEntries(active.map((t) => [t, { up: [], down: [], rssUp: [], rssDown: [] }]))
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [...active].reverse() : active
  for (const t of order) {
    const up = tools[t].up(r)
    results[t].up.push(up.wall)
    results[t].rssUp.push(up.rssMiB)
    if (tools[t].down) {
      const down = tools[t].down(r)
      results[t].down.push(down.wall)
      results[t].rssDown.push(down.rssMiB)
    }
    console.error(
      `round ${r + 1} ${t}: up ${up.wall.toFixed(1)} s${results[t].down.length ? `, down ${results[t].down.at(-1).toFixed(1)} s` : ''} (load ${load()})`,
    )
  }
}

const rate = (s) => Math.round(FILES / s).toLocaleString('en-US')
const vUp = median(results.varve?.up ?? [NaN])
const vDown = median(results.varve?.down ?? [NaN])
console.log(`\n## Moving ${FILES.toLocaleString('en-US')} files (${(bytes / 2 ** 20).toFixed(0)} MiB) to and from MinIO, median of ${ROUNDS} rounds`)
console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}, load at the end ${load()}\n`)
console.log('| tool | push / upload | files/s | clone / download | files/s | peak RSS up / down | Varve is faster by |')
console.log('|---|---|---|---|---|---|---|')
for (const t of active) {
  const up = median(results[t].up)
  const down = results[t].down.length ? median(results[t].down) : undefined
  const ratio = t === 'varve' ? '—' : `${(up / vUp).toFixed(2)}× up${down ? `, ${(down / vDown).toFixed(2)}× down` : ''}`
  console.log(
    `| ${t} | ${up.toFixed(1)} s | ${rate(up)} | ${down ? `${down.toFixed(1)} s` : '—'} | ${down ? rate(down) : '—'} | ${Math.max(...results[t].rssUp).toFixed(0)} / ${down ? `${Math.max(...results[t].rssDown).toFixed(0)}` : '—'} MiB | ${ratio} |`,
  )
}

/** A push of the repository at `src` to a new remote `name` at `location`, through the library (timed by alternate(), opening the repository included: a few ms). */
async function pushOnce(src, name, location) {
  const repo = await Repository.open(src, { s3, author: 'bench' })
  await repo.addRemote(name, location)
  try {
    await repo.push(name, { branches: ['main'] })
  } finally {
    await repo.close()
  }
}

// ---- 5k files: a push through the library against a raw SDK upload with 64 in flight -------------
if (!args.includes('--no-sdk')) {
  const files = Array.from({ length: Math.min(SDK_FILES, FILES) }, (_, i) => relOf(i))
  const small = path.join(work, 'small-src')
  {
    const repo = await Repository.init(small, { author: 'bench', durable: false })
    await repo.putMany(
      'main',
      files.map((f) => ({ path: f, data: fs.readFileSync(path.join(folder, f)) })),
    )
    await repo.commit('main', { message: 'small' })
    await repo.close()
  }
  const client = createS3Client(s3)
  const times = await alternate(
    ROUNDS,
    async (r) => {
      let next = 0
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < files.length) {
            const f = files[next++]
            await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `sdk-${r}/${f}`, Body: fs.readFileSync(path.join(folder, f)) }))
          }
        }),
      )
    },
    (r) => pushOnce(small, `s${r}`, `s3://${BUCKET}/small-${r}`),
  )
  const [viaSdk, viaVarve] = [times.a, times.b]
  client.destroy()
  const [a, b] = [median(viaVarve), median(viaSdk)]
  console.log(`\n## ${files.length.toLocaleString('en-US')} files: repo.push against a raw aws-sdk upload (64 PUTs in flight), median of ${ROUNDS}`)
  console.log(`| | seconds | files/s |\n|---|---|---|`)
  console.log(`| varve push | ${a.toFixed(2)} | ${Math.round(files.length / a).toLocaleString('en-US')} |`)
  console.log(`| aws-sdk PutObject × ${files.length} | ${b.toFixed(2)} | ${Math.round(files.length / b).toLocaleString('en-US')} |`)
  console.log(`Varve takes ${(a / b).toFixed(2)}× the SDK's time (goal ≤ 1)`)
}

// ---- one large file ------------------------------------------------------------------------------
if (!args.includes('--no-large')) {
  const big = path.join(work, 'large.bin')
  {
    const out = fs.openSync(big, 'w')
    const cipher = incompressible('large')
    for (let i = 0; i < LARGE_MIB; i++) fs.writeSync(out, cipher.update(Buffer.alloc(1 << 20)))
    fs.closeSync(out)
  }
  const large = path.join(work, 'large-src')
  {
    const repo = await Repository.init(large, { author: 'bench', durable: false })
    await repo.put('main', 'large.bin', fs.createReadStream(big))
    await repo.commit('main', { message: 'large' })
    await repo.close()
  }
  const client = createS3Client(s3)
  const times = await alternate(
    ROUNDS,
    (r) => new Upload({ client, params: { Bucket: BUCKET, Key: `large-sdk-${r}`, Body: fs.createReadStream(big) }, queueSize: 8, partSize: 16 << 20 }).done(),
    (r) => pushOnce(large, `l${r}`, `s3://${BUCKET}/large-${r}`),
  )
  const [viaSdk, viaVarve] = [times.a, times.b]
  client.destroy()
  const [a, b] = [median(viaVarve), median(viaSdk)]
  console.log(`\n## One ${LARGE_MIB} MiB file: repo.push against a raw aws-sdk multipart upload (16 MiB parts, 8 in flight), median of ${ROUNDS}`)
  console.log(`| | seconds | MiB/s |\n|---|---|---|`)
  console.log(`| varve push | ${a.toFixed(2)} | ${(LARGE_MIB / a).toFixed(0)} |`)
  console.log(`| aws-sdk Upload | ${b.toFixed(2)} | ${(LARGE_MIB / b).toFixed(0)} |`)
  console.log(`Varve moves ${((b / a) * 100).toFixed(0)}% of the SDK's bandwidth (goal ≥ 90%)`)
}

// ---- no-op fetch and a fetch after 1,000 changes, on a large repository --------------------------
if (!args.includes('--no-noop')) {
  const big = `s3://${BUCKET}/noop`
  {
    // Built locally (packs), pushed once: setup, not measured.
    const local = path.join(work, 'noop-src')
    const repo = await Repository.init(local, { author: 'bench', durable: false })
    for (let at = 0; at < NOOP_ENTRIES; at += 100_000)
      await repo.putMany(
        'main',
        Array.from({ length: Math.min(100_000, NOOP_ENTRIES - at) }, (_, i) => ({
          path: `p${String((at + i) % 1000).padStart(3, '0')}/e${at + i}`,
          data: `entry ${at + i}`,
        })),
      )
    await repo.commit('main', { message: `${NOOP_ENTRIES} entries` })
    await repo.addRemote('origin', big)
    await repo.close()
    const again = await Repository.open(local, { s3, author: 'bench' })
    await again.push('origin', { branches: ['main'] })
    await again.close()
  }
  const clone = path.join(work, 'noop-clone')
  const t0 = performance.now()
  const cloned = timed('node', [varveBin, 'clone', big, clone], s3Env)
  const cloneSecs = (performance.now() - t0) / 1000
  const noop = []
  for (let r = 0; r < ROUNDS; r++) noop.push(timed('node', [varveBin, 'fetch'], s3Env, clone).wall)
  // 1,000 files change at the origin; the clone fetches them, counting the requests it sends to S3.
  {
    const origin = await Repository.open(big, { s3, author: 'bench' })
    await origin.putMany(
      'main',
      Array.from({ length: 1000 }, (_, i) => ({ path: `p${String((i * 997) % 1000).padStart(3, '0')}/e${i * 997}`, data: `changed ${i}` })),
    )
    await origin.commit('main', { message: '1,000 changes' })
    await origin.close()
  }
  const client = createS3Client(s3)
  let requests = 0
  client.middlewareStack.add(
    (next) => async (a) => {
      requests++
      return next(a)
    },
    { step: 'finalizeRequest', name: 'countRequests' },
  )
  const repo = await Repository.open(path.join(clone, '.varve'), { s3: { client }, author: 'bench' })
  const t1 = performance.now()
  const r = await repo.fetch()
  const fetchSecs = (performance.now() - t1) / 1000
  await repo.close()
  client.destroy()
  console.log(`\n## A repository of ${NOOP_ENTRIES.toLocaleString('en-US')} entries on MinIO`)
  console.log('| | seconds | requests to S3 | peak RSS |\n|---|---|---|---|')
  console.log(`| varve clone | ${cloneSecs.toFixed(1)} | | ${cloned.rssMiB.toFixed(0)} MiB |`)
  console.log(`| varve fetch, nothing new (CLI, median of ${ROUNDS}) | ${median(noop).toFixed(2)} | | |`)
  console.log(`| fetch after 1,000 changed files | ${fetchSecs.toFixed(2)} | ${requests} | |`)
  console.log(
    `(the fetch copied ${r.transferred.objects} objects in ${r.transferred.packs} packs, ${r.transferred.nodes} node packs, ${r.transferred.commits} commit)`,
  )
}

console.log(`\nload at the end: ${load()}`)
await server.stop()
fs.rmSync(work, { recursive: true, force: true })
