// The gateway against MinIO serving the same bytes (issues 12 and 23), every server its own process on
// this machine, rounds alternating:
//   - PUT of a 1 GiB object: multipart through the AWS SDK (16 MiB parts, 4 at a time), and one
//     streamed PutObject through a thin client (signed node:http);
//   - GET of it, streamed and discarded: through the SDK, and through the thin client (which follows
//     a 307, as pyarrow and DuckDB do);
//   - small GETs (4 KiB objects, 32 in flight) in requests/s; ListObjectsV2 over KEYS keys in keys/s;
//   - the gateway over a local repository (`varve`), over an S3 repository in the same MinIO, proxied
//     (`varve-s3`) and with `reads: redirect` (`varve-s3 redirect`: the gateway answers 307 to a
//     presigned URL of the bucket);
//   - three gateway instances over the S3 repository behind HAProxy against one behind it: small GETs
//     and multipart uploads through the balancer, every byte read back;
//   - Python clients (pyarrow, DuckDB, boto3) reading through the redirect mode and from MinIO.
// Targets (issue 23): GET and PUT >= 0.8x MinIO proxied, >= 0.95x with redirects; small GETs >= 0.7x;
// 3 instances no fewer small GETs/s than one, and nothing lost.
//   node benchmarks/serve.mjs [--rounds 3] [--keys 100000] [--gib 1] [--no-python] [--no-haproxy]
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http, { Agent } from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { Repository } from '@varve/core'
import '@varve/s3-adapter'
import { freePort, startTestS3 } from '@varve/s3-adapter/testing'

const here = path.dirname(fileURLToPath(import.meta.url))
const bin = path.join(here, '..', 'packages', 'cli', 'dist', 'bin.js')
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : dflt
}
const rounds = Number(arg('--rounds', '3'))
const KEYS = Number(arg('--keys', '100000'))
const BIG = Number(arg('--gib', '1')) * 1024 ** 3
const python = !process.argv.includes('--no-python')
const haproxy = !process.argv.includes('--no-haproxy')
const SMALL = 200
const SMALL_GETS = 3000
const CREDS = { accessKeyId: 'bench', secretAccessKey: 'bench-secret' }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-serve-bench-'))
const minio = await startTestS3()
await minio.createBucket('lake')
await minio.createBucket('varve')
const s3Location = 's3://varve/repo'
const s3Env = {
  VARVE_S3_ENDPOINT: minio.options.endpoint,
  VARVE_S3_FORCE_PATH_STYLE: 'true',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: minio.options.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: minio.options.credentials.secretAccessKey,
}
const stops = []
try {
  // Varve: a local repository and an S3 one, each with KEYS small entries (putMany, as `varve put` does)
  const lake = path.join(dir, 'lake')
  let s3Commit // what a training job reads: a pinned commit (no branch head or staging to look up per GET)
  for (const [location, options] of [
    [lake, {}],
    [s3Location, { s3: minio.options }],
  ]) {
    const repo = await Repository.init(location, { author: 'bench', ...options })
    await repo.putMany(
      'main',
      (function* () {
        for (let i = 0; i < KEYS; i++) yield { path: `list/k${String(i).padStart(7, '0')}`, data: `v${i}` }
      })(),
    )
    for (let i = 0; i < SMALL; i++) await repo.put('main', `small/s${i}`, Buffer.alloc(4096, i))
    if (options.s3) await repo.put('main', 'paired.bin', bigBody(BIG, 999)) // read redirected, paired with MinIO's copy
    const c = await repo.commit('main', { message: 'keys' })
    if (options.s3) s3Commit = c.id
    await repo.close()
  }
  fs.writeFileSync(
    path.join(dir, 'serve.yaml'),
    [
      'listen: 127.0.0.1:0',
      'maxConnectionsPerClient: 4096',
      'repositories:',
      `  - { name: lake, location: ${lake} }`,
      `  - { name: lakes3, location: "${s3Location}" }`,
      `  - { name: lakes3r, location: "${s3Location}", reads: redirect }`,
      'keys:',
      `  - { accessKey: ${CREDS.accessKeyId}, secretKey: ${CREDS.secretAccessKey}, grants: [{ repositories: ["*"], branches: ["*"], actions: [read, write, commit, admin] }] }`,
      '',
    ].join('\n'),
  )
  const varve = await spawnServe()
  stops.push(varve.stop)
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const client = (endpoint, credentials) =>
    new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestHandler: { httpAgent: agent }, maxAttempts: 3 })
  const target = (url, bucket, prefix, credentials) => ({ url, bucket, prefix, credentials, s3: client(url, credentials) })
  const targets = {
    varve: target(varve.url, 'lake', 'main/', CREDS),
    'varve-s3': target(varve.url, 'lakes3', 'main/', CREDS),
    'varve-s3 redirect': target(varve.url, 'lakes3r', 'main/', CREDS),
    'varve-s3 pinned': target(varve.url, 'lakes3', `${s3Commit}/`, CREDS),
    minio: target(minio.options.endpoint, 'lake', '', minio.options.credentials),
  }
  // MinIO: the same keys and small objects (setup, not timed)
  await mapLimit(
    Array.from({ length: KEYS }, (_, i) => i),
    64,
    (i) => targets.minio.s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `list/k${String(i).padStart(7, '0')}`, Body: `v${i}` })),
  )
  await mapLimit(
    Array.from({ length: SMALL }, (_, i) => i),
    16,
    (i) => targets.minio.s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `small/s${i}`, Body: Buffer.alloc(4096, i) })),
  )
  await new Upload({
    client: targets.minio.s3,
    params: { Bucket: 'lake', Key: 'paired.bin', Body: bigBody(BIG, 999) },
    partSize: 16 * 1024 * 1024,
    queueSize: 4,
  }).done()
  settle()

  const rows = ['put', 'rawPut', 'get', 'rawGet', 'small', 'list', 'rawList']
  const results = Object.fromEntries([...Object.keys(targets), 'minio paired'].map((n) => [n, Object.fromEntries(rows.map((r) => [r, []]))]))
  const order = ['varve', 'varve-s3', 'minio']
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? order : [...order].reverse()) {
      if (!targets[name]) continue
      const t = targets[name]
      const seed = r * 10 + order.indexOf(name)
      const key = `${t.prefix}big/object-${r}.bin`
      let t0 = performance.now()
      await new Upload({ client: t.s3, params: { Bucket: t.bucket, Key: key, Body: bigBody(BIG, seed) }, partSize: 16 * 1024 * 1024, queueSize: 4 }).done()
      results[name].put.push(BIG / ((performance.now() - t0) / 1000))
      t0 = performance.now()
      await rawPut(t, `${t.prefix}big/raw-${r}.bin`, BIG, seed + 100)
      results[name].rawPut.push(BIG / ((performance.now() - t0) / 1000))
      settle() // the 2 GiB just written reach the disk before anything is timed again, for every target alike
      t0 = performance.now()
      let n = 0
      for await (const chunk of (await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))).Body) n += chunk.length
      if (n !== BIG) throw new Error(`${name}: GET returned ${n} bytes`)
      results[name].get.push(BIG / ((performance.now() - t0) / 1000))
      // the thin client: the SDK's stream costs the client ~1.5 s of CPU per GiB, which the servers then compete with
      // The redirected GET is paired with a direct one of MinIO's copy, back to back: this machine's
      // read speed drifts between runs (MinIO alone: 700-1,300 MiB/s), and a pair shares the moment.
      const gets =
        name === 'varve-s3'
          ? [
              ['varve-s3', t],
              ['varve-s3 redirect', { ...targets['varve-s3 redirect'], key: 'main/paired.bin' }],
              ['minio paired', { ...targets.minio, key: 'paired.bin' }],
            ]
          : [[name, t]]
      for (const [label, g] of r % 2 === 0 ? gets : [...gets].reverse()) {
        t0 = performance.now()
        n = await rawGet(g, g.key ?? key)
        if (n !== BIG) throw new Error(`${label}: raw GET returned ${n} bytes`)
        results[label].rawGet.push(BIG / ((performance.now() - t0) / 1000))
      }
      t0 = performance.now()
      await mapLimit(
        Array.from({ length: SMALL_GETS }, (_, i) => i),
        32,
        async (i) => {
          const out = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: `${t.prefix}small/s${i % SMALL}` }))
          await out.Body.transformToByteArray()
        },
      )
      results[name].small.push(SMALL_GETS / ((performance.now() - t0) / 1000))
      if (name === 'varve-s3') {
        const pinned = targets['varve-s3 pinned']
        t0 = performance.now()
        await mapLimit(
          Array.from({ length: SMALL_GETS }, (_, i) => i),
          32,
          async (i) => {
            const out = await pinned.s3.send(new GetObjectCommand({ Bucket: pinned.bucket, Key: `${pinned.prefix}small/s${i % SMALL}` }))
            await out.Body.transformToByteArray()
          },
        )
        results['varve-s3 pinned'].small.push(SMALL_GETS / ((performance.now() - t0) / 1000))
        continue
      } // listing is the gateway's work over the same tree: measured once, on the local repository
      t0 = performance.now()
      let keys = 0
      let token
      do {
        const page = await t.s3.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: `${t.prefix}list/`, ContinuationToken: token }))
        keys += page.KeyCount ?? 0
        token = page.NextContinuationToken
      } while (token)
      if (keys !== KEYS) throw new Error(`${name}: listed ${keys} keys`)
      results[name].list.push(keys / ((performance.now() - t0) / 1000))
      t0 = performance.now()
      keys = await rawList(t, `${t.prefix}list/`)
      if (keys !== KEYS) throw new Error(`${name}: raw-listed ${keys} keys`)
      results[name].rawList.push(keys / ((performance.now() - t0) / 1000))
    }
  }
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${varve.pid}/status`, 'utf8'))?.[1]
  const mib = (x) => `${(x / 1024 / 1024).toFixed(0)} MiB/s`
  const m = (name, row) => median(results[name][row])
  const table = []
  const line = (op, name, row, fmt, target) => table.push([op, name, fmt(m(name, row)), fmt(m('minio', row)), m(name, row) / m('minio', row), target])
  for (const name of ['varve', 'varve-s3']) line('PUT 1 GiB (SDK multipart)', name, 'put', mib, '>= 0.8x')
  for (const name of ['varve', 'varve-s3']) line('PUT 1 GiB (thin client)', name, 'rawPut', mib, '>= 0.8x')
  for (const name of ['varve', 'varve-s3']) line('GET 1 GiB (SDK client)', name, 'get', mib, '>= 0.8x')
  for (const name of ['varve', 'varve-s3']) line('GET 1 GiB (thin client)', name, 'rawGet', mib, '>= 0.8x')
  line('GET 1 GiB (thin client)', 'varve-s3 redirect', 'rawGet', mib, '>= 0.95x')
  const paired = results['varve-s3 redirect'].rawGet.map((x, i) => x / results['minio paired'].rawGet[i])
  table.push([
    'GET 1 GiB (thin client), paired with MinIO',
    'varve-s3 redirect',
    mib(m('varve-s3 redirect', 'rawGet')),
    mib(m('minio paired', 'rawGet')),
    median(paired),
    '>= 0.95x',
  ])
  const rps = (x) => `${x.toFixed(0)} req/s`
  for (const name of ['varve', 'varve-s3', 'varve-s3 pinned']) line('small GETs (4 KiB, 32 in flight)', name, 'small', rps, '>= 0.7x')
  const kps = (x) => `${x.toFixed(0)} keys/s`
  line(`ListObjectsV2, ${KEYS} keys (SDK client)`, 'varve', 'list', kps, '>= 50k keys/s')
  line(`ListObjectsV2, ${KEYS} keys (thin client)`, 'varve', 'rawList', kps, '>= 50k keys/s')
  console.log(
    `varve serve vs MinIO, medians of ${rounds} alternating rounds (${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; client, gateway and MinIO share the machine)`,
  )
  printTable(['operation', 'gateway', 'varve', 'MinIO', 'ratio', 'target'], table)
  const each = (name, row) => results[name][row].map((x) => (x / 1024 ** 2).toFixed(0)).join(' ')
  for (const row of ['put', 'rawPut', 'get', 'rawGet'])
    console.log(
      `every round, ${row} MiB/s: ${[...Object.keys(results)]
        .filter((n) => results[n][row].length)
        .map((n) => `${n} ${each(n, row)}`)
        .join(' | ')}`,
    )
  if (hwm) console.log(`varve serve peak RSS: ${(Number(hwm) / 1024).toFixed(0)} MiB`)

  if (python) await pythonClients(targets, varve)
  if (haproxy) await scaleOut(agent)
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {})
  await minio.stop()
  fs.rmSync(dir, { recursive: true, force: true })
}

/** pyarrow, DuckDB and boto3 read the 1 GiB object (and DuckDB a Parquet file) through the redirect mode and from MinIO. */
async function pythonClients(targets, varve) {
  const venv = execFileSync('bash', [path.join(here, '..', 'scripts', 'python-venv.sh')], { encoding: 'utf8' }).trim()
  const parquet = path.join(dir, 'scores.parquet')
  execFileSync(path.join(venv, 'bin', 'python'), [path.join(here, '..', 'test', 'python', 'ids_parquet.py')], {
    env: { ...process.env, OUT: parquet, ROWS: '20000000' },
  })
  const bytes = fs.readFileSync(parquet)
  await targets.minio.s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'scores.parquet', Body: bytes }))
  await targets['varve-s3'].s3.send(new PutObjectCommand({ Bucket: 'lakes3', Key: 'main/scores.parquet', Body: bytes }))
  // the training job's view: a pinned commit holding both files
  const repo = await Repository.open(s3Location, { s3: minio.options })
  const pinned = (await repo.commit('main', { message: 'training data' })).id
  await repo.close()
  const sides = {
    'varve-s3 redirect': { ENDPOINT: varve.url, BUCKET: 'lakes3r', PREFIX: `${pinned}/`, KEY: CREDS.accessKeyId, SECRET: CREDS.secretAccessKey },
    'varve-s3 proxied': { ENDPOINT: varve.url, BUCKET: 'lakes3', PREFIX: `${pinned}/`, KEY: CREDS.accessKeyId, SECRET: CREDS.secretAccessKey },
    minio: {
      ENDPOINT: minio.options.endpoint,
      BUCKET: 'lake',
      PREFIX: '',
      KEY: minio.options.credentials.accessKeyId,
      SECRET: minio.options.credentials.secretAccessKey,
    },
  }
  const times = {}
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? Object.keys(sides) : Object.keys(sides).reverse()) {
      const out = JSON.parse(
        execFileSync(path.join(venv, 'bin', 'python'), [path.join(here, 'serve_clients.py')], {
          env: { ...process.env, ...sides[side], BIG: `big/object-0.bin`, PARQUET: 'scores.parquet', SIZE: String(BIG) },
          encoding: 'utf8',
          maxBuffer: 1024 * 1024,
        }),
      )
      for (const [client, seconds] of Object.entries(out)) ((times[client] ??= {})[side] ??= []).push(seconds)
    }
  }
  console.log(
    `\nPython clients reading a pinned commit's 1 GiB object and a ${(bytes.byteLength / 1024 ** 2).toFixed(0)} MiB Parquet file (20M rows), medians of ${rounds} rounds, seconds (load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})`,
  )
  const table = []
  for (const [client, bySide] of Object.entries(times)) {
    for (const side of ['varve-s3 redirect', 'varve-s3 proxied'])
      table.push([
        client,
        side,
        `${median(bySide[side]).toFixed(2)} s`,
        `${median(bySide.minio).toFixed(2)} s`,
        median(bySide.minio) / median(bySide[side]),
        side.endsWith('redirect') ? '>= 0.95x' : '>= 0.8x',
      ])
  }
  printTable(['client', 'gateway', 'varve', 'MinIO', 'ratio', 'target'], table)
}

/** Three instances over the S3 repository behind HAProxy against one: small GETs/s; multipart uploads read back. */
async function scaleOut(agent) {
  const instances = []
  for (let i = 0; i < 3; i++) {
    const s = await spawnServe()
    stops.push(s.stop)
    instances.push(s)
  }
  const one = await startHaproxy(instances.slice(0, 1))
  const three = await startHaproxy(instances)
  stops.push(one.stop, three.stop)
  const res = { one: [], three: [] }
  const lost = []
  for (let r = 0; r < rounds; r++) {
    for (const [name, lb] of r % 2 === 0
      ? [
          ['one', one],
          ['three', three],
        ]
      : [
          ['three', three],
          ['one', one],
        ]) {
      const s3 = new S3Client({
        endpoint: lb.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: CREDS,
        requestHandler: { httpAgent: agent },
        maxAttempts: 1,
      })
      const t0 = performance.now()
      await mapLimit(
        Array.from({ length: SMALL_GETS }, (_, i) => i),
        32,
        async (i) => {
          const got = await (await s3.send(new GetObjectCommand({ Bucket: 'lakes3', Key: `main/small/s${i % SMALL}` }))).Body.transformToByteArray()
          if (got.length !== 4096 || got[0] !== (i % SMALL) % 256) lost.push(`small/s${i % SMALL}`)
        },
      )
      res[name].push(SMALL_GETS / ((performance.now() - t0) / 1000))
      // 4 multipart uploads of 40 MiB through the balancer (parts spread over the instances), read back
      await Promise.all(
        [0, 1, 2, 3].map(async (u) => {
          const key = `main/lb/${name}-${r}-${u}.bin`
          const body = Buffer.concat([bigChunk(40 * 1024 * 1024, r * 100 + u)])
          await new Upload({ client: s3, params: { Bucket: 'lakes3', Key: key, Body: body }, partSize: 5 * 1024 * 1024, queueSize: 4 }).done()
          const back = await (await s3.send(new GetObjectCommand({ Bucket: 'lakes3', Key: key }))).Body.transformToByteArray()
          if (createHash('sha256').update(back).digest('hex') !== createHash('sha256').update(body).digest('hex')) lost.push(key)
        }),
      )
    }
  }
  const cpu = instances.map((s) => cpuSeconds(s.pid).toFixed(1)).join(', ')
  console.log(
    `\n3 instances over the S3 repository behind HAProxy (round robin) against 1, medians of ${rounds} rounds (load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})`,
  )
  printTable(
    ['operation', 'behind HAProxy', '3 instances', '1 instance', 'ratio', 'target'],
    [
      [
        'small GETs (4 KiB, 32 in flight)',
        'varve-s3',
        `${median(res.three).toFixed(0)} req/s`,
        `${median(res.one).toFixed(0)} req/s`,
        median(res.three) / median(res.one),
        '>= 1x',
      ],
    ],
  )
  console.log(
    `multipart uploads through the balancer read back: ${rounds * 2 * 4 - new Set(lost.filter((k) => k.includes('/lb/'))).size}/${rounds * 2 * 4} intact; small GETs with wrong bytes: ${lost.filter((k) => !k.includes('/lb/')).length}`,
  )
  console.log(`instance CPU seconds (user+system) over the run: ${cpu}; ${os.cpus().length} cores`)
  if (lost.length) throw new Error(`lost or wrong: ${lost.slice(0, 5).join(', ')}`)
}

/** Dirty pages written out, then a second's pause: a GET timed while the kernel flushes a PUT measures the flush. */
function settle() {
  execFileSync('sync')
  execFileSync('sleep', ['1'])
}

function printTable(head, rows) {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(2) : String(c))))
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)))
  console.log(head.map((h, i) => (i === 0 ? h.padEnd(widths[i]) : h.padStart(widths[i]))).join('  '))
  for (const r of cells) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
}

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

// Every round uploads new bytes (seeded): a content-addressed store given bytes it already holds only
// drops the upload, which is not the work being compared.
function bigChunk(size, seed) {
  const block = Buffer.alloc(Math.min(size, 1024 * 1024))
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(((i + seed * 7919) * 2654435761) >>> 0, i)
  return Buffer.concat(
    Array.from({ length: Math.ceil(size / block.length) }, (_, k) => {
      const b = Buffer.from(block)
      b.writeUInt32LE(k, 0)
      return b
    }),
  ).subarray(0, size)
}

function bigBody(size, seed) {
  const block = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(((i + seed * 7919) * 2654435761) >>> 0, i)
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < size; sent += block.length) yield block.subarray(0, Math.min(block.length, size - sent))
    })(),
  )
}

async function mapLimit(items, limit, fn) {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++])
    }),
  )
}

function signerOf(t) {
  return new SignatureV4({ credentials: t.credentials, region: 'us-east-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
}

/** A PutObject of `size` new bytes streamed through node:http, signed with SigV4 (UNSIGNED-PAYLOAD). */
async function rawPut(t, key, size, seed) {
  const url = new URL(t.url)
  const p = `/${t.bucket}/${key}`
  const signed = await signerOf(t).sign({
    method: 'PUT',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: p,
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(size) },
  })
  await new Promise((resolve, reject) => {
    const req = http.request({ method: 'PUT', host: url.hostname, port: url.port, path: p, headers: signed.headers }, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`raw PUT ${key}: ${res.statusCode}`))))
    })
    req.on('error', reject)
    bigBody(size, seed).pipe(req)
  })
}

/**
 * Bytes of a GET through node:http, signed with SigV4 (UNSIGNED-PAYLOAD), counted and dropped. It
 * follows a 307 (as pyarrow and DuckDB do; it says so with x-varve-redirect, its user agent being unknown).
 */
async function rawGet(t, key) {
  const url = new URL(t.url)
  const p = `/${t.bucket}/${key}`
  const signed = await signerOf(t).sign({
    method: 'GET',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: p,
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-varve-redirect': 'allow' },
  })
  const count = (target, headers) =>
    new Promise((resolve, reject) => {
      http
        .get(target, { headers }, (res) => {
          if (res.statusCode === 307) {
            res.resume()
            return resolve(count(res.headers.location, {}))
          }
          if (res.statusCode !== 200) return reject(new Error(`raw GET: ${res.statusCode}`))
          let n = 0
          res.on('data', (c) => (n += c.length))
          res.on('end', () => resolve(n))
          res.on('error', reject)
        })
        .on('error', reject)
    })
  return count(`${t.url}${p}`, signed.headers)
}

async function rawList(t, prefix) {
  const url = new URL(t.url)
  let keys = 0
  let token
  do {
    const query = { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) }
    const signed = await signerOf(t).sign({
      method: 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: `/${t.bucket}`,
      query,
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    })
    const qs = new URLSearchParams(query).toString().replace(/\+/g, '%20')
    const res = await fetch(`${t.url}/${t.bucket}?${qs}`, { headers: Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host')) })
    const xml = await res.text()
    if (res.status !== 200) throw new Error(xml)
    keys += Number(/<KeyCount>(\d+)<\/KeyCount>/.exec(xml)[1])
    token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(xml)?.[1]
  } while (token)
  return keys
}

function spawnServe() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', '--config', path.join(dir, 'serve.yaml')], {
      env: { ...process.env, ...s3Env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /^listening on (\S+)\n/.exec(out)
      if (m)
        resolve({ url: m[1], pid: child.pid, stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))) })
    })
    child.once('exit', (code) => reject(new Error(`varve serve exited with ${code}`)))
  })
}

async function startHaproxy(backends) {
  const port = await freePort()
  const file = path.join(dir, `haproxy-${port}.cfg`)
  fs.writeFileSync(
    file,
    [
      'global',
      '  maxconn 4096',
      'defaults',
      '  mode http',
      '  timeout connect 5s',
      '  timeout client 300s',
      '  timeout server 300s',
      'frontend gateway',
      `  bind 127.0.0.1:${port}`,
      '  default_backend varve',
      'backend varve',
      '  balance roundrobin',
      '  option http-server-close',
      ...backends.map((b, i) => `  server s${i + 1} ${new URL(b.url).host}`),
      '',
    ].join('\n'),
  )
  const child = spawn('haproxy', ['-f', file, '-db'], { stdio: 'ignore' })
  for (let i = 0; ; i++) {
    if (
      await new Promise((r) => {
        const s = net.connect(port, '127.0.0.1')
        s.once('connect', () => (s.destroy(), r(true)))
        s.once('error', () => r(false))
      })
    )
      break
    if (child.exitCode !== null || i > 100) throw new Error('haproxy did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))) }
}
