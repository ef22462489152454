import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { Repository, VarveError } from '@varve/core'
import { createS3Client, type S3Encryption } from '@varve/s3-adapter'
import { startTestS3, testS3Client, type TestS3 } from '@varve/s3-adapter/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, tempDir } from './helpers/processes.js'
import { spawnServe } from './helpers/serve.js'
import { s3CliEnv, varve } from './helpers/varve-cli.js'

// Encryption at rest on a real MinIO with a static KMS key: every object Varve writes (data, packs,
// commits, refs, the ref log, staging) is stored encrypted the way the options ask, and reads back.
const KMS_KEY_ID = 'varve-test-key'
let server: TestS3
const bucket = `varve-sse-${randomBytes(4).toString('hex')}`
beforeAll(async () => {
  server = await startTestS3({ kmsKey: `${KMS_KEY_ID}:${randomBytes(32).toString('base64')}` })
  await server.createBucket(bucket)
}, 120_000)
afterAll(async () => server?.stop())

/** How S3 says each object under a prefix is encrypted, as a client outside Varve sees it. */
async function encryptionOf(prefix: string): Promise<Map<string, string>> {
  const client = createS3Client(server.options)
  const out = new Map<string, string>()
  try {
    let token: string | undefined
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
      for (const o of page.Contents ?? []) {
        const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: o.Key! }))
        out.set(o.Key!.slice(prefix.length), `${h.ServerSideEncryption ?? 'none'}${h.SSEKMSKeyId ? ` ${h.SSEKMSKeyId}` : ''}`)
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  } finally {
    client.destroy()
  }
  return out
}

describe.skipIf(process.env.VARVE_TEST_S3_ENDPOINT)('S3 server-side encryption (MinIO with a static KMS key)', () => {
  const cases: [string, S3Encryption, RegExp][] = [
    ['SSE-S3', { type: 'sse-s3' }, /^AES256$/],
    ['SSE-KMS with a key id', { type: 'sse-kms', kmsKeyId: KMS_KEY_ID }, new RegExp(`^aws:kms .*${KMS_KEY_ID}`)],
  ]
  it.each(cases)(
    '%s: every object written is encrypted, and everything reads back',
    async (_name, encryption, expected) => {
      const prefix = `${randomBytes(5).toString('hex')}/`
      const location = `s3://${bucket}/${prefix}`
      const options = { s3: { ...server.options, encryption } }
      const repo = await Repository.init(location, options)
      const big = randomBytes(6 * 1024 * 1024) // a multipart upload, then a pointer to it
      await repo.put('main', 'data/big.bin', big)
      await repo.putMany(
        'main',
        Array.from({ length: 50 }, (_, i) => ({ path: `small/${i}.txt`, data: `row ${i}` })),
      )
      const c = await repo.commit('main', { message: 'encrypted' })
      await repo.createBranch('exp')
      await repo.put('exp', 'staged.txt', 'staged, not committed')
      await repo.close()
      const seen = await encryptionOf(prefix)
      expect(seen.size).toBeGreaterThan(10)
      for (const [key, how] of seen) expect(how, key).toMatch(expected)
      const again = await Repository.open(location, options)
      expect(Buffer.from(await again.get(c.id, 'data/big.bin')).equals(big)).toBe(true)
      expect(await collect(again.list(c.id, { prefix: 'small/' }))).toHaveLength(50)
      expect(Buffer.from(await again.get('exp', 'staged.txt')).toString()).toBe('staged, not committed')
      expect(await again.verify({ full: true })).toMatchObject({ ok: true })
      await again.close()
    },
    180_000,
  )

  it('the CLI takes it from VARVE_S3_SSE and VARVE_S3_SSE_KMS_KEY_ID; a bad value is a clear INVALID_CONFIG', async () => {
    const t = await tempDir('sse-cli')
    try {
      const prefix = `${randomBytes(5).toString('hex')}/`
      const env = { ...s3CliEnv(server.options), VARVE_REPO: `s3://${bucket}/${prefix}`, VARVE_S3_SSE: 'sse-kms', VARVE_S3_SSE_KMS_KEY_ID: KMS_KEY_ID }
      expect((await varve(['init', `s3://${bucket}/${prefix}`], { cwd: t.dir, env })).code).toBe(0)
      fs.writeFileSync(path.join(t.dir, 'a.csv'), 'id\n1\n')
      expect((await varve(['put', 'a.csv', 'main:a.csv'], { cwd: t.dir, env })).code).toBe(0)
      expect((await varve(['commit', 'main', '-m', 'kms'], { cwd: t.dir, env })).code).toBe(0)
      for (const [key, how] of await encryptionOf(prefix)) expect(how, key).toMatch(/^aws:kms /)
      const bad = await varve(['log', 'main'], { cwd: t.dir, env: { ...env, VARVE_S3_SSE: 'rot13' } })
      expect(bad.code).not.toBe(0)
      expect(bad.stderr).toContain('INVALID_CONFIG')
      expect(bad.stderr).toContain('VARVE_S3_SSE is sse-s3, sse-kms or sse-c')
    } finally {
      await t.cleanup()
    }
  }, 180_000)

  it("varve serve's config sets a repository's encryption; what clients write through the gateway is stored so", async () => {
    const t = await tempDir('sse-serve')
    try {
      const prefix = `${randomBytes(5).toString('hex')}/`
      await (await Repository.init(`s3://${bucket}/${prefix}`, { s3: server.options })).close()
      const config = path.join(t.dir, 'serve.yaml')
      const repo = (encryption: string) =>
        `repositories:\n  - name: lake\n    location: s3://${bucket}/${prefix}\n    encryption: ${encryption}\nkeys:\n  - accessKey: admin\n    secretKey: admin-secret\n    grants: [{ actions: [read, write, commit, admin] }]\n`
      // Refused at start: a key the store does not take, a type S3 does not have, a folder.
      for (const bad of ['{ type: sse-kms, scope: x }', '{ type: rot13 }']) {
        fs.writeFileSync(config, repo(bad))
        await expect(spawnServe(['--config', config, '--listen', '127.0.0.1:0'], { cwd: t.dir, env: s3CliEnv(server.options) })).rejects.toThrow(
          /INVALID_CONFIG/,
        )
      }
      fs.writeFileSync(config, repo(`{ type: sse-kms, kmsKeyId: ${KMS_KEY_ID} }`))
      const before = new Set((await encryptionOf(prefix)).keys())
      const serve = await spawnServe(['--config', config, '--listen', '127.0.0.1:0'], { cwd: t.dir, env: s3CliEnv(server.options) })
      const client = new S3Client({
        endpoint: serve.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'admin', secretAccessKey: 'admin-secret' },
      })
      try {
        await client.send(new PutObjectCommand({ Bucket: 'lake', Key: 'main/through/gateway.txt', Body: 'kept under the KMS key' }))
      } finally {
        client.destroy()
        expect(await serve.stop()).toBe(0)
      }
      // (the repository was made without encryption: what the gateway added is what is checked)
      const written = [...(await encryptionOf(prefix))].filter(([key]) => !before.has(key))
      expect(written.length).toBeGreaterThan(0)
      for (const [key, how] of written) expect(how, key).toMatch(/^aws:kms /)
    } finally {
      await t.cleanup()
    }
  }, 180_000)

  it('an SSE-C key that is not 32 bytes of base64 is refused before anything is written', async () => {
    const location = `s3://${bucket}/${randomBytes(5).toString('hex')}/`
    const err = await Repository.init(location, { s3: { ...server.options, encryption: { type: 'sse-c', customerKey: 'too-short' } } }).catch((e: unknown) => e)
    expect(VarveError.is(err, 'INVALID_CONFIG')).toBe(true)
  })
})

describe.skipIf(process.env.VARVE_TEST_S3_ENDPOINT)('S3 SSE-C (MinIO over TLS: it takes customer keys only there)', () => {
  let tls: TestS3
  const sseBucket = `varve-ssec-${randomBytes(4).toString('hex')}`
  beforeAll(async () => {
    tls = await startTestS3({ tls: true, kmsKey: `${KMS_KEY_ID}:${randomBytes(32).toString('base64')}` })
    await tls.createBucket(sseBucket)
  }, 120_000)
  afterAll(async () => tls?.stop())

  it('every object is stored under the customer key: readable with it, refused without it, and a wrong key reads nothing', async () => {
    const key = randomBytes(32).toString('base64')
    const prefix = `${randomBytes(5).toString('hex')}/`
    const location = `s3://${sseBucket}/${prefix}`
    const client = testS3Client(tls)
    const options = { s3: { client, encryption: { type: 'sse-c' as const, customerKey: key } } }
    const repo = await Repository.init(location, options)
    const big = randomBytes(6 * 1024 * 1024) // a multipart upload (parts carry the key), then a pointer to it
    await repo.put('main', 'data/big.bin', big)
    await repo.putMany(
      'main',
      Array.from({ length: 20 }, (_, i) => ({ path: `small/${i}.txt`, data: `row ${i}` })),
    )
    const c = await repo.commit('main', { message: 'customer key' })
    await repo.close()
    const again = await Repository.open(location, options)
    expect(Buffer.from(await again.get(c.id, 'data/big.bin')).equals(big)).toBe(true)
    expect(await again.verify({ full: true })).toMatchObject({ ok: true })
    await again.close()
    // Outside Varve, without the key, S3 refuses every object Varve wrote.
    const listed = await client.send(new ListObjectsV2Command({ Bucket: sseBucket, Prefix: prefix }))
    expect(listed.Contents?.length).toBeGreaterThan(5)
    for (const o of listed.Contents ?? []) {
      const refused = await client.send(new GetObjectCommand({ Bucket: sseBucket, Key: o.Key! })).catch((e: { $metadata?: { httpStatusCode?: number } }) => e)
      expect(refused.$metadata?.httpStatusCode, o.Key).toBe(400)
    }
    const wrong = await Repository.open(location, { s3: { client, encryption: { type: 'sse-c', customerKey: randomBytes(32).toString('base64') } } }).catch(
      (e: unknown) => e,
    )
    expect(wrong).toBeInstanceOf(VarveError)
    client.destroy()
  }, 180_000)
})
