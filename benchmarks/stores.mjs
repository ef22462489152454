// The stores side by side (issue 28), one run, on this machine's emulators on loopback: MinIO and
// versitygw (two S3 implementations), Azurite (Azure Blob) and fake-gcs-server (GCS). Per store:
//   - branch: create a branch (time, and the store requests it made, counted by a proxy in front)
//   - commit of 1,000 changes: 1,000 files of 1 KiB staged by putMany, then one commit (each timed,
//     each with its requests)
//   - open: Repository.open, the conditional-write probe included (requests)
//   - throughput: one 64 MiB object put and got through the repository, against the store's own SDK
//     putting and getting the same bytes (the ratio is Varve / SDK), rounds alternating
//
//   pnpm bench:stores                  3 rounds
//   pnpm bench:stores -- --rounds 5 --mib 256
import http from 'node:http'
import { Readable } from 'node:stream'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { AzureBucket } from '@varve/azure-adapter'
import { startTestAzure } from '@varve/azure-adapter/testing'
import { Repository } from '@varve/core'
import { GcsBucket } from '@varve/gcs-adapter'
import { startTestGcs } from '@varve/gcs-adapter/testing'
import { createS3Client } from '@varve/s3-adapter'
import { startTestS3, startTestVersityGw } from '@varve/s3-adapter/testing'
import { alternate, arg, incompressible, load, median } from './bench-util.mjs'

const ROUNDS = arg('rounds', 3)
const MIB = arg('mib', 64)
const CHANGES = arg('changes', 1000)

/** A proxy in front of an endpoint that counts the requests passing through it. */
async function countingProxy(target) {
  const to = new URL(target)
  let count = 0
  const server = http.createServer((req, res) => {
    count++
    const out = http.request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  server.keepAliveTimeout = 60_000
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    take: () => {
      const n = count
      count = 0
      return n
    },
    close: () => new Promise((r) => server.close(r)),
  }
}

const bytes = incompressible('stores-bench').update(Buffer.alloc(MIB * 1024 * 1024))
async function* stream(b) {
  for (let i = 0; i < b.length; i += 1 << 20) yield b.subarray(i, i + (1 << 20))
}
const drain = async (s) => {
  let n = 0
  for await (const c of s) n += c.length
  return n
}

const stores = []
const s3 = await startTestS3()
const vgw = await startTestVersityGw()
const azure = await startTestAzure()
const gcs = await startTestGcs()
const name = `varve-bench-${Date.now()}`
await Promise.all([s3.createBucket(name), vgw.createBucket(name), azure.createContainer(name), gcs.createBucket(name)])
/** An S3 implementation's row: the repository through a counting proxy, the AWS SDK for the baseline. */
async function s3Store(label, server) {
  const proxy = await countingProxy(server.options.endpoint)
  const client = createS3Client(server.options)
  return {
    name: label,
    location: (p) => `s3://${name}/${p}`,
    options: { s3: server.options },
    counted: { s3: { ...server.options, endpoint: proxy.url } },
    proxy,
    sdkPut: (key) => new Upload({ client, params: { Bucket: name, Key: key, Body: Readable.from(stream(bytes)) }, partSize: 16 << 20, queueSize: 4 }).done(),
    sdkGet: async (key) => drain((await client.send(new GetObjectCommand({ Bucket: name, Key: key }))).Body),
  }
}
stores.push(await s3Store('S3 (MinIO)', s3), await s3Store('S3 (versitygw)', vgw))
{
  const proxy = await countingProxy(/BlobEndpoint=(http:\/\/[^/;]+)/.exec(azure.connectionString)[1])
  const sdk = await AzureBucket.open({ account: azure.account, container: name, prefix: 'sdk/' }, { connectionString: azure.connectionString })
  stores.push({
    name: 'Azure Blob (Azurite)',
    location: (p) => `az://${azure.account}/${name}/${p}`,
    options: { azure: { connectionString: azure.connectionString } },
    counted: { azure: { connectionString: azure.connectionString.replace(/BlobEndpoint=http:\/\/[^/;]+/, `BlobEndpoint=${proxy.url}`) } },
    proxy,
    sdkPut: (key) => sdk.container.getBlockBlobClient(key).uploadStream(Readable.from(stream(bytes)), 8 << 20, 4),
    sdkGet: async (key) => drain((await sdk.container.getBlockBlobClient(key).download()).readableStreamBody),
  })
}
{
  const proxy = await countingProxy(gcs.endpoint)
  const sdk = GcsBucket.open({ bucket: name, prefix: 'sdk/' }, { endpoint: gcs.endpoint })
  stores.push({
    name: 'GCS (fake-gcs-server)',
    location: (p) => `gs://${name}/${p}`,
    options: { gcs: { endpoint: gcs.endpoint } },
    counted: { gcs: { endpoint: proxy.url } },
    proxy,
    sdkPut: (key) =>
      new Promise((resolve, reject) => {
        const w = sdk.bucket.file(key).createWriteStream({ resumable: true })
        Readable.from(stream(bytes)).pipe(w).on('finish', resolve).on('error', reject)
      }),
    sdkGet: (key) => drain(sdk.bucket.file(key).createReadStream()),
  })
}
await import('@varve/s3-adapter')
await import('@varve/azure-adapter')
await import('@varve/gcs-adapter')

const rows = []
for (const st of stores) {
  const branch = []
  const stage = []
  const commit = []
  let requests = {}
  for (let r = 0; r < ROUNDS; r++) {
    const location = st.location(`r${r}-${Date.now()}`)
    st.proxy.take()
    // init: the conditional-write probe (first use of a location in a process), the manifest, main
    await (await Repository.init(location, st.counted)).close()
    const initRequests = st.proxy.take()
    const repo = await Repository.open(location, st.counted)
    const openRequests = st.proxy.take()
    let t0 = performance.now()
    await repo.createBranch('b')
    branch.push(performance.now() - t0)
    const branchRequests = st.proxy.take()
    const items = Array.from({ length: CHANGES }, (_, i) => ({ path: `c/${i}.bin`, data: incompressible(`${r}-${i}`).update(Buffer.alloc(1024)) }))
    t0 = performance.now()
    await repo.putMany('b', items, { concurrency: 8 })
    stage.push(performance.now() - t0)
    const stageRequests = st.proxy.take()
    t0 = performance.now()
    await repo.commit('b', { message: `${CHANGES} changes` })
    commit.push(performance.now() - t0)
    requests = { init: initRequests, open: openRequests, branch: branchRequests, stage: stageRequests, commit: st.proxy.take() }
    await repo.close()
  }
  // Throughput, alternating Varve (the repository) and the store's own SDK on the same bytes.
  const repo = await Repository.init(st.location(`tp-${Date.now()}`), st.options)
  const put = await alternate(
    ROUNDS,
    (r) => repo.put('main', `big/${r}.bin`, stream(bytes)),
    (r) => st.sdkPut(`sdk/big-${r}.bin`),
  )
  const get = await alternate(
    ROUNDS,
    async (r) => {
      if ((await drain(await repo.getStream('main', `big/${r}.bin`))) !== bytes.length) throw new Error('short read')
    },
    async (r) => {
      if ((await st.sdkGet(`sdk/big-${r}.bin`)) !== bytes.length) throw new Error('short read')
    },
  )
  await repo.close()
  rows.push({ st, branch: median(branch), stage: median(stage), commit: median(commit), requests, put, get })
  console.error(`done: ${st.name} (load ${load()})`)
}
for (const st of stores) await st.proxy.close()
await Promise.all([s3.stop(), vgw.stop(), azure.stop(), gcs.stop()])

const mibs = (s) => `${(MIB / s).toFixed(0)} MiB/s`
console.log(`\nStores, ${ROUNDS} rounds (medians), ${CHANGES} changes of 1 KiB, ${MIB} MiB objects; load ${load()}\n`)
const n = CHANGES.toLocaleString('en')
console.log(
  `| store | init / open (requests) | create branch | stage ${n} (putMany) | commit ${n} | put ${MIB} MiB: Varve / SDK | get ${MIB} MiB: Varve / SDK |`,
)
console.log('|---|---|---|---|---|---|---|')
for (const r of rows)
  console.log(
    `| ${r.st.name} | ${r.requests.init} / ${r.requests.open} | ${r.branch.toFixed(0)} ms, ${r.requests.branch} req | ${r.stage.toFixed(0)} ms, ${r.requests.stage} req | ${r.commit.toFixed(0)} ms, ${r.requests.commit} req | ` +
      `${mibs(median(r.put.a))} / ${mibs(median(r.put.b))} (${(median(r.put.b) / median(r.put.a)).toFixed(2)}×) | ` +
      `${mibs(median(r.get.a))} / ${mibs(median(r.get.b))} (${(median(r.get.b) / median(r.get.a)).toFixed(2)}×) |`,
  )
