// The gateway against MinIO serving the same bytes (issue 12), both as their own processes on this
// machine, the same AWS SDK client in this one, rounds alternating:
//   - PUT of a 1 GiB object (multipart, 16 MiB parts, 4 at a time) and GET of it (streamed, discarded);
//   - small GETs (4 KiB objects, 32 in flight) in requests/s;
//   - ListObjectsV2 over 100k keys (pages of 1,000) in keys/s.
// Targets (issue 12): GET >= 0.8x MinIO, small GETs >= 0.7x, listing >= 50k keys/s, PUT >= 0.8x.
//   node benchmarks/serve.mjs [--rounds 3] [--keys 100000] [--gib 1]
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { Repository } from '@varve/core'
import { startTestS3 } from '@varve/s3-adapter/testing'
import { Agent } from 'node:http'
import { Readable } from 'node:stream'

const here = path.dirname(fileURLToPath(import.meta.url))
const bin = path.join(here, '..', 'packages', 'cli', 'dist', 'bin.js')
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : dflt
}
const rounds = Number(arg('--rounds', '3'))
const KEYS = Number(arg('--keys', '100000'))
const BIG = Number(arg('--gib', '1')) * 1024 ** 3
const SMALL = 200
const SMALL_GETS = 3000
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-serve-bench-'))
const lake = path.join(dir, 'lake')
const minio = await startTestS3()
await minio.createBucket('lake')
let varve
try {
  // Varve: a repository whose main holds KEYS small entries (put through putMany, as `varve put` does)
  const repo = await Repository.init(lake, { author: 'bench' })
  await repo.putMany('main', (function* () {
    for (let i = 0; i < KEYS; i++) yield { path: `list/k${String(i).padStart(7, '0')}`, data: `v${i}` }
  })())
  await repo.commit('main', { message: 'keys' })
  await repo.close()
  varve = await spawnServe(lake)
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const client = (endpoint, credentials) => new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestHandler: { httpAgent: agent }, maxAttempts: 1 })
  const targets = {
    varve: { s3: client(varve.url, { accessKeyId: 'bench', secretAccessKey: 'bench-secret' }), prefix: 'main/' },
    minio: { s3: client(minio.options.endpoint, minio.options.credentials), prefix: '' },
  }
  // MinIO: the same 100k keys, put 64 at a time (setup, not timed)
  await mapLimit(Array.from({ length: KEYS }, (_, i) => i), 64, (i) =>
    targets.minio.s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `list/k${String(i).padStart(7, '0')}`, Body: `v${i}` })),
  )
  for (const t of Object.values(targets))
    await mapLimit(Array.from({ length: SMALL }, (_, i) => i), 16, (i) => t.s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `${t.prefix}small/s${i}`, Body: Buffer.alloc(4096, i) })))

  const results = { varve: { put: [], get: [], rawGet: [], small: [], list: [], rawList: [] }, minio: { put: [], get: [], rawGet: [], small: [], list: [], rawList: [] } }
  targets.varve.raw = { url: varve.url, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench-secret' } }
  targets.minio.raw = { url: minio.options.endpoint, credentials: minio.options.credentials }
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? ['varve', 'minio'] : ['minio', 'varve']) {
      const { s3, prefix } = targets[name]
      const key = `${prefix}big/object-${r}.bin`
      let t0 = performance.now()
      await new Upload({ client: s3, params: { Bucket: 'lake', Key: key, Body: bigBody(BIG, r * 2 + (name === 'varve' ? 0 : 1)) }, partSize: 16 * 1024 * 1024, queueSize: 4 }).done()
      results[name].put.push(BIG / ((performance.now() - t0) / 1000))
      t0 = performance.now()
      let n = 0
      for await (const chunk of (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: key }))).Body) n += chunk.length
      if (n !== BIG) throw new Error(`${name}: GET returned ${n} bytes`)
      results[name].get.push(BIG / ((performance.now() - t0) / 1000))
      // the same GET through a thin client (signed raw HTTP, the body counted and dropped): the SDK's
      // stream costs the client ~1.5 s of CPU per GiB here, which the two servers then compete with
      t0 = performance.now()
      n = await rawGet(targets[name], key)
      if (n !== BIG) throw new Error(`${name}: raw GET returned ${n} bytes`)
      results[name].rawGet.push(BIG / ((performance.now() - t0) / 1000))
      t0 = performance.now()
      await mapLimit(Array.from({ length: SMALL_GETS }, (_, i) => i), 32, async (i) => {
        const out = await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: `${prefix}small/s${i % SMALL}` }))
        await out.Body.transformToByteArray()
      })
      results[name].small.push(SMALL_GETS / ((performance.now() - t0) / 1000))
      t0 = performance.now()
      let keys = 0
      let token
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: `${prefix}list/`, ContinuationToken: token }))
        keys += page.KeyCount ?? 0
        token = page.NextContinuationToken
      } while (token)
      if (keys !== KEYS) throw new Error(`${name}: listed ${keys} keys`)
      results[name].list.push(keys / ((performance.now() - t0) / 1000))
      // the same listing through a thin client (signed raw HTTP; the token found by a regex): the
      // SDK's XML parsing costs more CPU than either server, so this is what the servers can give
      t0 = performance.now()
      keys = await rawList(targets[name], `${prefix}list/`)
      if (keys !== KEYS) throw new Error(`${name}: raw-listed ${keys} keys`)
      results[name].rawList.push(keys / ((performance.now() - t0) / 1000))
    }
  }
  const mib = (x) => `${(x / 1024 / 1024).toFixed(0)} MiB/s`
  const rows = [
    ['PUT 1 GiB (multipart)', mib(median(results.varve.put)), mib(median(results.minio.put)), median(results.varve.put) / median(results.minio.put), '>= 0.8x'],
    ['GET 1 GiB', mib(median(results.varve.get)), mib(median(results.minio.get)), median(results.varve.get) / median(results.minio.get), '>= 0.8x'],
    ['GET 1 GiB (thin client)', mib(median(results.varve.rawGet)), mib(median(results.minio.rawGet)), median(results.varve.rawGet) / median(results.minio.rawGet), '>= 0.8x'],
    ['small GETs (4 KiB, 32 in flight)', `${median(results.varve.small).toFixed(0)} req/s`, `${median(results.minio.small).toFixed(0)} req/s`, median(results.varve.small) / median(results.minio.small), '>= 0.7x'],
    [`ListObjectsV2, ${KEYS} keys (SDK client)`, `${median(results.varve.list).toFixed(0)} keys/s`, `${median(results.minio.list).toFixed(0)} keys/s`, median(results.varve.list) / median(results.minio.list), '>= 50k keys/s'],
    [`ListObjectsV2, ${KEYS} keys (thin client)`, `${median(results.varve.rawList).toFixed(0)} keys/s`, `${median(results.minio.rawList).toFixed(0)} keys/s`, median(results.varve.rawList) / median(results.minio.rawList), '>= 50k keys/s'],
  ]
  console.log(`varve serve vs MinIO, medians of ${rounds} alternating rounds (${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; client, gateway and MinIO share the machine)`)
  console.log(['operation'.padEnd(34), 'varve'.padStart(16), 'MinIO'.padStart(16), 'ratio'.padStart(7), 'target'.padStart(15)].join(' '))
  for (const [op, v, m, ratio, target] of rows) console.log([op.padEnd(34), v.padStart(16), m.padStart(16), ratio.toFixed(2).padStart(7), target.padStart(15)].join(' '))
  // streams, not buffers: the gateway's peak memory after 1 GiB PUTs and GETs
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${varve.pid}/status`, 'utf8'))?.[1]
  const each = (xs) => xs.map((x) => (x / 1024 ** 2).toFixed(0)).join(' ')
  console.log(`every round, MiB/s: PUT varve ${each(results.varve.put)} | MinIO ${each(results.minio.put)}; GET varve ${each(results.varve.get)} | MinIO ${each(results.minio.get)}; thin GET varve ${each(results.varve.rawGet)} | MinIO ${each(results.minio.rawGet)}`)
  if (hwm) console.log(`varve serve peak RSS: ${(Number(hwm) / 1024).toFixed(0)} MiB`)
} finally {
  await varve?.stop()
  await minio.stop()
  fs.rmSync(dir, { recursive: true, force: true })
}

// Every round uploads new bytes (seeded by the round): a content-addressed store given bytes it
// already holds only drops the upload, which is not the work being compared.
function bigBody(size, seed) {
  const block = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(((i + seed * 7919) * 2654435761) >>> 0, i)
  return Readable.from((function* () {
    for (let sent = 0; sent < size; sent += block.length) yield block.subarray(0, Math.min(block.length, size - sent))
  })())
}

async function mapLimit(items, limit, fn) {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++])
  }))
}

/** Lists every key under a prefix with signed raw requests; returns the count. */
/** Bytes of a GET through node:http, signed with SigV4 (UNSIGNED-PAYLOAD), counted and dropped. */
async function rawGet(target, key) {
  const { SignatureV4 } = await import('@smithy/signature-v4')
  const { Hash } = await import('@smithy/hash-node')
  const http = await import('node:http')
  const signer = new SignatureV4({ credentials: target.raw.credentials, region: 'us-east-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
  const url = new URL(target.raw.url)
  const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: `/lake/${key}`, headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } })
  return new Promise((resolve, reject) => {
    http.get({ host: url.hostname, port: url.port, path: `/lake/${key}`, headers: signed.headers }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`raw GET: ${res.statusCode}`))
      let n = 0
      res.on('data', (c) => (n += c.length))
      res.on('end', () => resolve(n))
      res.on('error', reject)
    }).on('error', reject)
  })
}

async function rawList(target, prefix) {
  const { SignatureV4 } = await import('@smithy/signature-v4')
  const { Hash } = await import('@smithy/hash-node')
  const signer = new SignatureV4({ credentials: target.raw.credentials, region: 'us-east-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
  const url = new URL(target.raw.url)
  let keys = 0
  let token
  do {
    const query = { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) }
    const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/lake', query, headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } })
    const qs = new URLSearchParams(query).toString().replace(/\+/g, '%20')
    const res = await fetch(`${target.raw.url}/lake?${qs}`, { headers: Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host')) })
    const xml = await res.text()
    if (res.status !== 200) throw new Error(xml)
    keys += Number(/<KeyCount>(\d+)<\/KeyCount>/.exec(xml)[1])
    token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(xml)?.[1]
  } while (token)
  return keys
}

function spawnServe(location) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', location, '--name', 'lake', '--listen', '127.0.0.1:0'], {
      env: { ...process.env, VARVE_SERVE_ACCESS_KEY: 'bench', VARVE_SERVE_SECRET_KEY: 'bench-secret' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /^listening on (\S+)\n/.exec(out)
      if (m) resolve({ url: m[1], pid: child.pid, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) })
    })
    child.once('exit', (code) => reject(new Error(`varve serve exited with ${code}`)))
  })
}
