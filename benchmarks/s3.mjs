// The S3 case, on a real MinIO on loopback: commit of 1,000 changes onto branches of 10k and 100k
// entries (time and S3 requests), branch creation, diff, listing, and a 1 GiB upload through Varve
// against a raw aws-sdk multipart upload of the same file.
//   pnpm bench:s3            BENCH_S3_SIZES=10000 pnpm bench:s3
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Upload } from '@aws-sdk/lib-storage'
import { Repository } from '@varve/core'
import { NEW_TREE_FORMAT, ObjectStore, buildTree, packedRootOf } from '@varve/core/internal'
import { S3BlockStore, S3RefStore, createS3Client } from '@varve/s3-adapter'
import { startTestS3 } from '@varve/s3-adapter/testing'

const sizes = (process.env.BENCH_S3_SIZES ?? '10000,100000').split(',').map(Number)
const uploadMiB = Number(process.env.BENCH_S3_UPLOAD_MIB ?? 1024)
const CHANGES = 1000
const ms = (t0) => performance.now() - t0
const pad = (n) => String(n).padStart(8, '0')
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const server = await startTestS3()
const bucket = 'varve-bench'
await server.createBucket(bucket)

/** One S3 client for both stores, counting every request it sends. */
function countingClient() {
  const client = createS3Client(server.options)
  const counter = { n: 0 }
  client.middlewareStack.add(
    (next) => async (args) => {
      counter.n++
      return next(args)
    },
    { step: 'finalizeRequest', name: 'countRequests' },
  )
  return { client, counter }
}

async function open(prefix) {
  const { client, counter } = countingClient()
  const repo = await Repository.open(
    { blocks: new S3BlockStore({ client, bucket, prefix }), refs: new S3RefStore({ client, bucket, prefix }) },
    { author: 'bench' },
  )
  return { repo, counter, client }
}

async function measure(n) {
  const prefix = `n${n}/`
  const location = `s3://${bucket}/${prefix}`
  await (await Repository.init(location, { s3: server.options })).close()
  // Build main with n entries straight through the tree layer (setup, not measured).
  const setup = countingClient()
  const objects = new ObjectStore(new S3BlockStore({ client: setup.client, bucket, prefix }), {
    random: {
      hex: (k) =>
        Math.random()
          .toString(16)
          .slice(2)
          .padEnd(2 * k, '0')
          .slice(0, 2 * k),
      next: Math.random,
    },
    tree: NEW_TREE_FORMAT,
  })
  const blob = await objects.writeData(Buffer.from('x'.repeat(64)))
  const tree = await buildTree(
    objects,
    (function* () {
      for (let i = 0; i < n; i++)
        yield { path: `events/date=${pad(Math.floor(i / 1000))}/part-${pad(i)}.parquet`, address: blob.address, size: 64, lastModified: 1 }
    })(),
  )
  const refs = new S3RefStore({ client: setup.client, bucket, prefix })
  const b = await refs.getBranch('main')
  const parent = await objects.readCommit(b.head)
  const c = await objects.writeCommit({
    parents: [b.head],
    root: tree.id,
    rootAt: packedRootOf(tree),
    message: `${n}`,
    author: 'bench',
    metadata: {},
    createdAt: Date.now(),
    generation: parent.generation + 1,
  })
  await refs.updateBranch(b, { ...b, head: c.id }, { ref: 'branch:main', old: b.head, new: c.id, operation: 'commit', author: 'bench', at: Date.now() })
  setup.client.destroy()

  const row = { n }
  let { repo, counter, client } = await open(prefix)
  const times = []
  counter.n = 0
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now()
    await repo.createBranch(`b${i}`)
    times.push(ms(t0))
  }
  row.branchMs = median(times)
  row.branchReq = counter.n / 10

  await repo.createBranch('change')
  const mid = Math.floor(n / 2 / 1000) * 1000
  let t0 = performance.now()
  const puts = []
  for (let i = 0; i < CHANGES; i++) puts.push(`events/date=${pad(Math.floor((mid + i) / 1000))}/part-${pad(mid + i)}.parquet`)
  // Single puts (one staged object each) on their own branch; the commit's changes are staged the
  // way a batch is staged, with putMany (one staged object per batch, decision 0007).
  await repo.createBranch('single')
  for (let i = 0; i < CHANGES; i += 16) await Promise.all(puts.slice(i, i + 16).map((p, k) => repo.put('single', p, `rewritten ${i + k}`)))
  row.putPerSec = CHANGES / (ms(t0) / 1000)
  t0 = performance.now()
  await repo.putMany(
    'change',
    puts.map((p, k) => ({ path: p, data: `rewritten ${k}` })),
    { concurrency: 16 },
  )
  row.putManyPerSec = CHANGES / (ms(t0) / 1000)

  counter.n = 0
  t0 = performance.now()
  const changed = await repo.commit('change', { message: 'rewrite one partition (staged by putMany)' })
  row.commitMs = ms(t0)
  row.commitReq = counter.n

  await repo.close()
  client.destroy()
  ;({ repo, counter, client } = await open(prefix)) // cold cache
  counter.n = 0
  t0 = performance.now()
  let d = 0
  for await (const _ of repo.diff('main', changed.id)) d++
  row.diffMs = ms(t0)
  row.diffReq = counter.n
  if (d !== CHANGES) throw new Error(`diff found ${d}`)

  await repo.close()
  client.destroy()
  ;({ repo, counter, client } = await open(prefix))
  t0 = performance.now()
  let listed = 0
  for await (const _ of repo.list('main')) listed++
  row.listPerSec = listed / (ms(t0) / 1000)
  await repo.close()
  client.destroy()
  return row
}

async function upload() {
  const file = path.join(os.tmpdir(), `varve-bench-${process.pid}.bin`)
  const fh = await fs.open(file, 'w')
  const chunk = Buffer.alloc(16 << 20)
  for (let i = 0; i < uploadMiB / 16; i++) {
    chunk.fill(i % 251)
    await fh.write(chunk)
  }
  await fh.close()
  const client = createS3Client(server.options)
  let t0 = performance.now()
  await new Upload({
    client,
    params: { Bucket: bucket, Key: 'raw/upload.bin', Body: createReadStream(file, { highWaterMark: 1 << 20 }) },
    partSize: 16 << 20,
    queueSize: 4,
  }).done()
  const rawMBs = uploadMiB / (ms(t0) / 1000)
  client.destroy()
  const repo = await Repository.init(`s3://${bucket}/upload/`, { s3: server.options })
  t0 = performance.now()
  await repo.put('main', 'big.bin', createReadStream(file, { highWaterMark: 1 << 20 }))
  const varveMBs = uploadMiB / (ms(t0) / 1000)
  await repo.close()
  await fs.rm(file, { force: true })
  return { rawMBs, varveMBs }
}

const rows = []
for (const n of sizes) {
  process.stderr.write(`measuring ${n.toLocaleString('en')} entries on MinIO...\n`)
  rows.push(await measure(n))
}
process.stderr.write(`uploading ${uploadMiB} MiB...\n`)
const up = await upload()
await server.stop()

const f = (x, d = 1) => x.toFixed(d)
const first = rows[0]
const last = rows[rows.length - 1]
const ratio = (k) => (rows.length > 1 ? f(last[k] / first[k], 2) + 'x' : '')
const table = [
  ['metric (S3 on MinIO, loopback)', ...rows.map((r) => r.n.toLocaleString('en')), rows.length > 1 ? `ratio ${last.n / 1000}k/${first.n / 1000}k` : ''],
  ['create branch (ms, median of 10)', ...rows.map((r) => f(r.branchMs)), ratio('branchMs')],
  ['  S3 requests', ...rows.map((r) => f(r.branchReq, 0)), ratio('branchReq')],
  ['commit 1,000 changes (ms)', ...rows.map((r) => f(r.commitMs)), ratio('commitMs')],
  ['  S3 requests', ...rows.map((r) => String(r.commitReq)), ratio('commitReq')],
  ['diff, 1,000 changed (ms, cold)', ...rows.map((r) => f(r.diffMs)), ratio('diffMs')],
  ['  S3 requests', ...rows.map((r) => String(r.diffReq)), ratio('diffReq')],
  ['full listing (entries/s, cold)', ...rows.map((r) => Math.round(r.listPerSec).toLocaleString('en')), ''],
  ['put, 16 at a time (objects/s)', ...rows.map((r) => Math.round(r.putPerSec).toLocaleString('en')), ''],
  ['putMany of 1,000 (objects/s)', ...rows.map((r) => Math.round(r.putManyPerSec).toLocaleString('en')), ''],
]
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)))
const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
console.log(`\nVarve S3 benchmark (${os.cpus().length} cores, Node ${process.version}, MinIO on 127.0.0.1)`)
console.log(line(table[0]))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const r of table.slice(1)) console.log(line(r))
console.log(
  `\nupload of ${uploadMiB} MiB: raw aws-sdk multipart ${f(up.rawMBs, 0)} MiB/s; repo.put ${f(up.varveMBs, 0)} MiB/s; ratio ${f(up.varveMBs / up.rawMBs, 2)} (target >= 0.8)`,
)
