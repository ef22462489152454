import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Repository } from '@varve/core'
import '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { startHaproxy, type Balancer } from './helpers/haproxy.js'
import { tempDir } from './helpers/processes.js'
import { s3CliEnv } from './helpers/varve-cli.js'
import { pythonVenv, runPython, spawnServe, type ServeProcess } from './helpers/serve.js'

// Issue 23: several `varve serve` instances over one S3 repository behind a round-robin proxy
// (HAProxy) behave as one: multipart parts, listings and commits race across instances.
let s3: TestS3
let t: Awaited<ReturnType<typeof tempDir>>
let instances: ServeProcess[] = []
let balancer: Balancer | undefined
let venv: string
const bucket = `varve-scale-${randomBytes(4).toString('hex')}`
const location = `s3://${bucket}/lake`
const keys = { ADMIN_KEY: 'admin-key', ADMIN_SECRET: 'admin-secret-0123456789' }

beforeAll(async () => {
  ;[s3, t, venv] = await Promise.all([startTestS3(), tempDir('scale-out'), pythonVenv()])
  await s3.createBucket(bucket)
  await (await Repository.init(location, { s3: s3.options })).close()
  await fs.writeFile(
    path.join(t.dir, 'serve.yaml'),
    [
      'listen: 127.0.0.1:0',
      'maxUploadsPerKey: 24',
      'repositories:',
      `  - { name: lake, location: "${location}" }`,
      'keys:',
      `  - accessKey: ${keys.ADMIN_KEY}`,
      `    secretKey: ${keys.ADMIN_SECRET}`,
      '    grants: [{ repositories: ["*"], branches: ["*"], actions: [read, write, commit, admin] }]',
      '',
    ].join('\n'),
  )
  const o = s3.options
  const env = s3CliEnv(o)
  instances = await Promise.all([1, 2, 3].map(() => spawnServe(['--config', 'serve.yaml'], { cwd: t.dir, env })))
  balancer = await startHaproxy(
    t.dir,
    instances.map((i) => i.url),
  )
}, 25 * 60_000)

afterAll(async () => {
  await balancer?.stop()
  for (const i of instances) await i.stop()
  await s3?.stop()
  await t?.cleanup()
})

it(
  '3 gateways behind HAProxy: boto3 multipart uploads, small puts, listings and commits racing; nothing acknowledged is lost',
  async () => {
    const seen = await runPython(venv, 'scale_out.py', {
      ENDPOINT: balancer!.url,
      INSTANCES: instances.map((i) => i.url).join(','),
      BUCKET: 'lake',
      ...keys,
    })
    expect(seen.acknowledged).toBe(6 + 4 * 40 + 1)
    expect(seen.listings).toBeGreaterThan(0)
    // What the gateways committed is what the library reads: every object, no upload left behind.
    const repo = await Repository.open(location, { s3: s3.options })
    let files = 0
    for await (const e of repo.list('main', { prefix: 'scale/' })) if (e.type === 'object') files++
    expect(files).toBe(6 + 4 * 40 + 1)
    const open: string[] = []
    for await (const u of repo.uploads.list()) open.push(u.id)
    expect(open).toEqual([])
    await repo.close()
  },
  15 * 60_000,
)

it('the uploads a key may hold open are counted across instances (lakeFS CVE-2025-27100); an unknown or foreign upload id is NoSuchUpload on every instance', async () => {
  const clients = instances.map(
    (i) =>
      new S3Client({
        endpoint: i.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: keys.ADMIN_KEY, secretAccessKey: keys.ADMIN_SECRET },
        maxAttempts: 1,
      }),
  )
  const ids: string[] = []
  for (let n = 0; n < 24; n++) ids.push((await clients[n % 3]!.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: `main/open/${n}.bin` }))).UploadId!)
  await expect(clients[1]!.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: 'main/open/one-too-many.bin' }))).rejects.toMatchObject({
    name: 'InvalidRequest',
    $metadata: { httpStatusCode: 400 },
  })
  // an upload id used under another key is not that upload
  for (const c of clients)
    await expect(
      c.send(new UploadPartCommand({ Bucket: 'lake', Key: 'main/open/other.bin', UploadId: ids[0], PartNumber: 1, Body: 'x' })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' })
  await expect(
    clients[0]!.send(new UploadPartCommand({ Bucket: 'lake', Key: 'main/open/0.bin', UploadId: '0'.repeat(32), PartNumber: 1, Body: 'x' })),
  ).rejects.toMatchObject({ name: 'NoSuchUpload' })
  for (const [n, id] of ids.entries())
    await clients[(n + 1) % 3]!.send(new AbortMultipartUploadCommand({ Bucket: 'lake', Key: `main/open/${n}.bin`, UploadId: id }))
  await clients[2]!.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: 'main/open/after.bin' })) // room again
  for (const c of clients) c.destroy()
}, 120_000)
