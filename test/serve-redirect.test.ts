import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Repository } from '@varve/core'
import { validateServeConfig } from '@varve/server'
import '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { tempDir } from './helpers/processes.js'
import { s3CliEnv } from './helpers/varve-cli.js'
import { pythonVenv, runPython, spawnServe, type ServeProcess } from './helpers/serve.js'

// Issue 23: `reads: redirect` on an S3 repository: large GETs answer 307 to a presigned URL of the
// bucket; the clients users have read exactly the bytes of a pinned commit either way.
let s3: TestS3
let t: Awaited<ReturnType<typeof tempDir>>
let server: ServeProcess
let venv: string
let commit: string
const bucket = `varve-redirect-${randomBytes(4).toString('hex')}`
const location = `s3://${bucket}/lake`
const keys = { ADMIN_KEY: 'admin-key', ADMIN_SECRET: 'admin-secret-0123456789', READER_KEY: 'reader-key', READER_SECRET: 'reader-secret-0123456789' }
const big = randomBytes(3 * 1024 * 1024 + 17)
const ROWS = 2_000_000 // 40 row groups: DuckDB and pyarrow read it by ranges (DuckDB failed through a redirect only then)

beforeAll(async () => {
  ;[s3, t, venv] = await Promise.all([startTestS3(), tempDir('redirect'), pythonVenv()])
  await s3.createBucket(bucket)
  const repo = await Repository.init(location, { s3: s3.options })
  const parquet = path.join(t.dir, 'data.parquet')
  await runPython(venv, 'ids_parquet.py', { OUT: parquet, ROWS: String(ROWS) })
  await repo.put('main', 'data.parquet', await fs.readFile(parquet))
  await repo.put('main', 'big.bin', big)
  await repo.put('main', 'small.txt', 'small and proxied')
  commit = (await repo.commit('main', { message: 'data' })).id
  await repo.close()
  await fs.writeFile(
    path.join(t.dir, 'serve.yaml'),
    [
      'listen: 127.0.0.1:0',
      'repositories:',
      `  - { name: lake, location: "${location}", reads: redirect }`,
      'keys:',
      `  - { accessKey: ${keys.ADMIN_KEY}, secretKey: ${keys.ADMIN_SECRET}, grants: [{ repositories: ["*"], branches: ["*"], actions: [read, write, commit, admin] }] }`,
      `  - { accessKey: ${keys.READER_KEY}, secretKey: ${keys.READER_SECRET}, grants: [{ repositories: [lake], branches: ["exp-*"], actions: [read] }] }`,
      '',
    ].join('\n'),
  )
  const o = s3.options
  server = await spawnServe(['--config', 'serve.yaml'], {
    cwd: t.dir,
    env: s3CliEnv(o),
  })
}, 25 * 60_000)

afterAll(async () => {
  await server?.stop()
  await s3?.stop()
  await t?.cleanup()
})

/** A GET signed with SigV4 (as an SDK signs it), not following redirects. */
async function signedGet(
  key: string,
  access: string,
  secret: string,
  extra: Record<string, string> = { 'user-agent': 'aws-sdk-cpp/1.11.900 ua/2.1 api/S3' },
): Promise<Response> {
  const url = new URL(`${server.url}/lake/${key}`)
  const signer = new SignatureV4({
    credentials: { accessKeyId: access, secretAccessKey: secret },
    region: 'us-east-1',
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
  })
  const signed = await signer.sign({
    method: 'GET',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extra },
  })
  return fetch(url, { headers: Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host')), redirect: 'manual' })
}

it('a large GET answers 307 to a presigned URL of the stored object; small ones are proxied; grants hold', async () => {
  const r = await signedGet(`${commit}/big.bin`, keys.ADMIN_KEY, keys.ADMIN_SECRET)
  expect(r.status).toBe(307)
  const to = new URL(r.headers.get('location')!)
  expect(to.origin).toBe(new URL(s3.options.endpoint).origin)
  expect(to.searchParams.get('X-Amz-Expires')).toBe('300')
  const direct = Buffer.from(await (await fetch(to)).arrayBuffer())
  expect(createHash('sha256').update(direct).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'))
  // clients that do not follow redirects (boto3, s3fs, the AWS CLI) and unknown ones are proxied; a client may opt in
  // the user agents pyarrow and polars send (recorded from the venv's versions) are redirected
  expect((await signedGet(`${commit}/big.bin`, keys.ADMIN_KEY, keys.ADMIN_SECRET, { 'user-agent': 'polars/0.55.1' })).status).toBe(307)
  for (const ua of [
    'Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux Botocore/1.35.0',
    'aws-sdk-js/3.1169.0',
    'duckdb/v1.5.5(linux_amd64) python/3.11 d8cdaa33fd',
    '',
  ])
    expect((await signedGet(`${commit}/big.bin`, keys.ADMIN_KEY, keys.ADMIN_SECRET, { 'user-agent': ua })).status).toBe(200)
  expect((await signedGet(`${commit}/big.bin`, keys.ADMIN_KEY, keys.ADMIN_SECRET, { 'x-varve-redirect': 'allow' })).status).toBe(307)
  const small = await signedGet(`${commit}/small.txt`, keys.ADMIN_KEY, keys.ADMIN_SECRET)
  expect(small.status).toBe(200)
  expect(await small.text()).toBe('small and proxied')
  // a key that may not read main gets no URL
  const denied = await signedGet('main/big.bin', keys.READER_KEY, keys.READER_SECRET)
  expect(denied.status).toBe(403)
  expect(denied.headers.get('location')).toBeNull()
}, 120_000)

it('pyarrow and polars follow the redirects; boto3, s3fs and DuckDB are proxied: each reads exactly the pinned commit', async () => {
  const seen = await runPython(venv, 'redirect_clients.py', {
    ENDPOINT: server.url,
    BUCKET: 'lake',
    COMMIT: commit,
    ROWS: String(ROWS),
    BIN_SHA256: createHash('sha256').update(big).digest('hex'),
    ...keys,
  })
  expect(seen).toMatchObject({ boto3: big.byteLength, pyarrow: ROWS, duckdb: ROWS, polars: ROWS, s3fs: true })
}, 600_000)

it('the config refuses reads other than proxy and redirect, and redirect on a local folder (nothing to presign)', () => {
  const base = { keys: [], listen: '127.0.0.1:0' }
  expect(() => validateServeConfig({ ...base, repositories: [{ name: 'lake', location: './lake', reads: 'redirect' }] })).toThrow(
    /redirect needs a store that hands out URLs/,
  )
  expect(() => validateServeConfig({ ...base, repositories: [{ name: 'lake', location: 's3://b/p', reads: 'teleport' }] })).toThrow(/proxy or redirect/)
  expect(validateServeConfig({ ...base, repositories: [{ name: 'lake', location: 's3://b/p', reads: 'redirect' }] }).repositories[0]).toMatchObject({
    reads: 'redirect',
  })
  expect(validateServeConfig({ ...base, repositories: [{ name: 'lake', location: 's3://b/p' }] })).toMatchObject({
    redirectSeconds: 300,
    redirectMinBytes: 1024 * 1024,
  })
})
