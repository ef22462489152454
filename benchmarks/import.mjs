// Import (issue 25): `varve import` of n existing objects of a MinIO bucket, against a raw
// ListObjectsV2 walk of the same prefix (the physical limit: an import must list) and, with
// LAKEFS_BIN, lakeFS importing the same prefix into a repository on the same MinIO. One run, the
// tools alternating who goes first each round; each measured operation in a process of its own.
//   node benchmarks/import.mjs --objects 10000,100000 --rounds 2
//   LAKEFS_BIN=/path/to/lakefs node benchmarks/import.mjs --objects 1000000
// Also timed: `import --inventory`, the same objects read from an S3 Inventory report (gzipped CSV
// files of 100,000 rows, written from a listing as AWS writes them; setup, not measured).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import { Repository } from '@varve/core'
import '@varve/s3-adapter'
import { createS3Client } from '@varve/s3-adapter'
import { startTestS3 } from '@varve/s3-adapter/testing'
import { arg, load } from './bench-util.mjs'
import { startLakeFS } from './lakefs-server.mjs'

const at = process.argv.indexOf('--objects')
const sizes = (at > 0 ? process.argv[at + 1] : '10000,100000').split(',').map(Number)
const rounds = Number(arg('rounds', 2))
const here = path.dirname(new URL(import.meta.url).pathname)
const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
console.log(`# Import: n objects of 64 B in MinIO (loopback), ${rounds} round(s)`)
console.log(`machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; load at start ${load()}`)

const server = await startTestS3()
const o = server.options
const env = {
  ...process.env,
  BENCH_S3: JSON.stringify(o),
  AWS_ACCESS_KEY_ID: o.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: o.credentials.secretAccessKey,
  AWS_REGION: o.region,
}
const child = (...args) =>
  JSON.parse(
    execFileSync(process.execPath, [path.join(here, 'import-child.mjs'), ...args], { env, encoding: 'utf8', maxBuffer: 1 << 24 })
      .trim()
      .split('\n')
      .pop(),
  )
const lakeKey = (i) =>
  `day=${String(Math.floor(i / 10000)).padStart(3, '0')}/hour=${String(Math.floor(i / 1000) % 10).padStart(2, '0')}/part-${String(i).padStart(8, '0')}.json`

/** A ustar archive of `[name, bytes]` entries (names < 100 bytes), for MinIO's auto-extract. */
function tar(entries) {
  const blocks = []
  for (const [name, body] of entries) {
    const h = Buffer.alloc(512)
    h.write(name, 0, 100, 'utf8')
    h.write('0000644\0', 100)
    h.write('0000000\0', 108)
    h.write('0000000\0', 116)
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124)
    h.write('14000000000\0', 136)
    h.write('        ', 148)
    h.write('0', 156)
    h.write('ustar\0', 257)
    h.write('00', 263)
    let sum = 0
    for (const b of h) sum += b
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

/**
 * Fills `bucket/prefix` with objects `from`..`n` (setup, not measured): 10,000 at a time as one tar
 * that MinIO extracts into objects (its snowball auto-extract), two archives at once.
 */
async function fill(bucket, prefix, n, from = 0, body = 'x') {
  const client = createS3Client(o)
  const bytes = Buffer.from(body.repeat(64).slice(0, 64))
  const starts = []
  for (let i = from; i < n; i += 10_000) starts.push(i)
  const worker = async () => {
    for (let s = starts.shift(); s !== undefined; s = starts.shift()) {
      const entries = []
      for (let i = s; i < Math.min(n, s + 10_000); i++) entries.push([prefix + lakeKey(i), bytes])
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: `${prefix}batch-${s}.tar`, Body: tar(entries), Metadata: { 'snowball-auto-extract': 'true' } }),
      )
    }
  }
  await Promise.all([worker(), worker()])
  client.destroy()
}

/** An S3 Inventory report of `bucket/prefix` (CSV, gzipped, 100,000 rows a file) in the bucket `inventory`; its manifest URL. */
async function makeInventory(bucket, prefix) {
  const client = createS3Client(o)
  const files = []
  let rows = []
  const flush = async () => {
    const key = `reports/${bucket}/data/part-${files.length}.csv.gz`
    const body = gzipSync(rows.join('\n'))
    await client.send(new PutObjectCommand({ Bucket: 'inventory', Key: key, Body: body }))
    files.push({ key, size: body.length })
    rows = []
  }
  let token
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }))
    for (const x of r.Contents ?? [])
      rows.push(`"${bucket}","${encodeURIComponent(x.Key).replace(/%2F/g, '/')}","${x.Size}","${x.LastModified.toISOString()}","${x.ETag.replace(/"/g, '')}"`)
    if (rows.length >= 100_000) await flush()
    token = r.IsTruncated ? r.NextContinuationToken : undefined
  } while (token)
  if (rows.length) await flush()
  const manifest = {
    sourceBucket: bucket,
    destinationBucket: 'arn:aws:s3:::inventory',
    fileFormat: 'CSV',
    fileSchema: 'Bucket, Key, Size, LastModifiedDate, ETag',
    files,
  }
  await client.send(new PutObjectCommand({ Bucket: 'inventory', Key: `reports/${bucket}/manifest.json`, Body: JSON.stringify(manifest) }))
  client.destroy()
  return `s3://inventory/reports/${bucket}/manifest.json`
}

let lakefs
if (process.env.LAKEFS_BIN) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lakefs-'))
  lakefs = await startLakeFS(process.env.LAKEFS_BIN, root, {
    endpoint: o.endpoint,
    region: o.region,
    accessKeyId: o.credentials.accessKeyId,
    secretAccessKey: o.credentials.secretAccessKey,
  })
}
async function lakefsImport(repo, source) {
  const t0 = performance.now()
  const { id } = await lakefs.api('POST', `/repositories/${repo}/branches/main/import`, {
    paths: [{ type: 'common_prefix', path: source, destination: 'data/' }],
    commit: { message: 'import' },
  })
  for (;;) {
    const s = await lakefs.api('GET', `/repositories/${repo}/branches/main/import?id=${id}`)
    if (s.error) throw new Error(`lakeFS import: ${JSON.stringify(s.error)}`)
    if (s.completed) return { seconds: (performance.now() - t0) / 1000, n: s.ingested_objects }
    await new Promise((r) => setTimeout(r, 100))
  }
}

const rows = []
for (const n of sizes) {
  const bucket = `lake-${n}`
  await server.createBucket(bucket)
  const t0 = performance.now()
  await fill(bucket, 'raw/', n)
  console.log(`n=${n}: filled in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  await server.createBucket('repos').catch(() => {})
  await server.createBucket('inventory').catch(() => {})
  const manifest = await makeInventory(bucket, 'raw/')
  const results = { list: [], varve: [], lakefs: [], inventory: [] }
  let lastRepo
  for (let r = 0; r < rounds; r++) {
    const location = `s3://repos/n${n}-r${r}/`
    await (await Repository.init(location, { s3: o })).close()
    const steps = [
      ['list', () => child('list', bucket, 'raw/')],
      ['varve', () => child('import', location, `s3://${bucket}/raw/`)],
      [
        'inventory',
        async () => {
          const at = `s3://repos/n${n}-r${r}-inventory/`
          await (await Repository.init(at, { s3: o })).close()
          return child('import', at, `s3://${bucket}/raw/`, '', manifest)
        },
      ],
      ...(lakefs
        ? [
            [
              'lakefs',
              async () => {
                const repo = `imp-${n}-${r}`
                await lakefs.api('POST', '/repositories', { name: repo, storage_namespace: `s3://repos/lakefs-${n}-${r}/`, default_branch: 'main' })
                return lakefsImport(repo, `s3://${bucket}/raw/`)
              },
            ],
          ]
        : []),
    ]
    if (r % 2) steps.reverse()
    for (const [tool, run] of steps) {
      const res = await run()
      if (res.n !== n) throw new Error(`${tool} saw ${res.n} objects, not ${n}`)
      results[tool].push(res)
      console.log(
        `round ${r + 1} ${tool}: ${res.seconds.toFixed(2)} s${res.writes !== undefined ? `, ${res.writes} writes, ${res.rssMiB.toFixed(0)} MiB` : ''} (load ${load()})`,
      )
    }
    lastRepo = location
  }
  // Re-import: unchanged (nothing written), then with 1% of the objects rewritten.
  const listAgain = child('list', bucket, 'raw/')
  const unchanged = child('import', lastRepo, `s3://${bucket}/raw/`)
  await fill(bucket, 'raw/', Math.ceil(n / 100), 0, 'y')
  const onePercent = child('import', lastRepo, `s3://${bucket}/raw/`)
  const best = (xs) => xs.reduce((m, x) => (x.seconds < m.seconds ? x : m))
  rows.push({
    n,
    list: best(results.list),
    varve: best(results.varve),
    lakefs: results.lakefs.length ? best(results.lakefs) : undefined,
    inventory: best(results.inventory),
    listAgain,
    unchanged,
    onePercent,
  })
}

console.log()
console.log(
  '| objects | raw ListObjectsV2 (s) | varve import (s) | ÷ listing | objects/s | writes per 1,000 | peak RSS MiB | µs/object | lakeFS import (s) | lakeFS ÷ varve |',
)
console.log('|---|---|---|---|---|---|---|---|---|---|')
for (const r of rows) {
  const v = r.varve
  console.log(
    `| ${r.n.toLocaleString('en-US')} | ${r.list.seconds.toFixed(2)} | ${v.seconds.toFixed(2)} | ${(v.seconds / r.list.seconds).toFixed(2)}× | ${Math.round(r.n / v.seconds).toLocaleString('en-US')} | ${((v.writes / r.n) * 1000).toFixed(2)} | ${v.rssMiB.toFixed(0)} | ${((v.seconds / r.n) * 1e6).toFixed(1)} | ${r.lakefs ? r.lakefs.seconds.toFixed(2) : 'n/a'} | ${r.lakefs ? `${(r.lakefs.seconds / v.seconds).toFixed(2)}×` : 'n/a'} |`,
  )
}
console.log()
console.log('| objects | varve import --inventory (s) | ÷ listing | objects/s | writes per 1,000 | peak RSS MiB | µs/object |')
console.log('|---|---|---|---|---|---|---|')
for (const r of rows) {
  const v = r.inventory
  console.log(
    `| ${r.n.toLocaleString('en-US')} | ${v.seconds.toFixed(2)} | ${(v.seconds / r.list.seconds).toFixed(2)}× | ${Math.round(r.n / v.seconds).toLocaleString('en-US')} | ${((v.writes / r.n) * 1000).toFixed(2)} | ${v.rssMiB.toFixed(0)} | ${((v.seconds / r.n) * 1e6).toFixed(1)} |`,
  )
}
console.log()
console.log('| objects | listing again (s) | re-import unchanged (s) | ÷ listing | writes | re-import, 1% rewritten (s) | changed | writes |')
console.log('|---|---|---|---|---|---|---|---|')
for (const r of rows)
  console.log(
    `| ${r.n.toLocaleString('en-US')} | ${r.listAgain.seconds.toFixed(2)} | ${r.unchanged.seconds.toFixed(2)} | ${(r.unchanged.seconds / r.listAgain.seconds).toFixed(2)}× | ${r.unchanged.writes} | ${r.onePercent.seconds.toFixed(2)} | ${r.onePercent.changed} | ${r.onePercent.writes} |`,
  )
console.log(`load at end ${load()}`)
lakefs?.stop()
await server.stop()
