import fs from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  UploadPartCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { Repository } from '@varve/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateServeConfig } from '../src/config.js'
import { startServer, type RunningServer } from '../src/server.js'
import { tempDir } from '../../core/test/helpers.js'

// Issue 23, section 2: each class of advisory that broke a peer gateway in the last two years
// (lakeFS, MinIO, SeaweedFS), as a test against varve serve with the AWS SDK and raw HTTP.

const ADMIN = { accessKeyId: 'admin', secretAccessKey: 'admin-secret-do-not-log' }
const TEAM = { accessKeyId: 'team', secretAccessKey: 'team-secret-do-not-log' }

describe('the advisory checklist (issue 23)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let server: RunningServer
  const client = (credentials = TEAM) => new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 })
  const raw = (method: string, p: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      // host/port/path, not a URL: a URL would resolve `..` before sending
      const req = http.request({ host: '127.0.0.1', port: server.port, path: p, method, headers }, (res) => {
        let b = ''
        res.on('data', (d) => (b += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }))
      })
      req.on('error', reject)
      req.end()
    })

  beforeAll(async () => {
    t = await tempDir('advisories')
    for (const name of ['lake', 'lake1']) {
      const repo = await Repository.init(path.join(t.dir, name), { author: 'setup' })
      await repo.put('main', 'secret/a.txt', `main of ${name}`)
      await repo.commit('main', { message: 'main' })
      await repo.createBranch('team/x')
      await repo.put('team/x', 'ok.txt', 'team data')
      await repo.commit('team/x', { message: 'team' })
      await repo.close()
    }
    server = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        uploadDir: path.join(t.dir, 'uploads'),
        repositories: [
          { name: 'lake', location: path.join(t.dir, 'lake') },
          { name: 'lake1', location: path.join(t.dir, 'lake1') },
        ],
        keys: [
          { accessKey: ADMIN.accessKeyId, secretKey: ADMIN.secretAccessKey, grants: [{ actions: ['read', 'write', 'commit', 'admin'] }] },
          {
            accessKey: TEAM.accessKeyId,
            secretKey: TEAM.secretAccessKey,
            grants: [{ repositories: ['lake'], branches: ['team/*'], actions: ['read', 'write'] }],
          },
        ],
      }),
    )
  })
  afterAll(async () => {
    await server?.close()
    await t?.cleanup()
  })

  it('ListBuckets lists only repositories the key may read; a sibling name (lake1 beside lake) is another repository (lakeFS GHSA-gf2q, GHSA-699m)', async () => {
    const s3 = client()
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(['lake'])
    await expect(s3.send(new GetObjectCommand({ Bucket: 'lake1', Key: 'team/x/ok.txt' }))).rejects.toMatchObject({ name: 'NoSuchBucket' })
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: 'team/x/ok.txt' }))).Body!.transformToString()).toBe('team data')
    s3.destroy()
  })

  it('DeleteObjects checks every key on its own (lakeFS GHSA-28q9)', async () => {
    const s3 = client()
    await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'team/x/del.txt', Body: 'd' }))
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: 'lake', Delete: { Objects: [{ Key: 'team/x/del.txt' }, { Key: 'main/secret/a.txt' }] } }))
    expect(r.Deleted?.map((d) => d.Key)).toEqual(['team/x/del.txt'])
    expect(r.Errors?.map((e) => [e.Key, e.Code])).toEqual([['main/secret/a.txt', 'AccessDenied']])
    const admin = client(ADMIN)
    expect(await (await admin.send(new GetObjectCommand({ Bucket: 'lake', Key: 'main/secret/a.txt' }))).Body!.transformToString()).toBe('main of lake')
    s3.destroy()
    admin.destroy()
  })

  it('CopyObject from a source outside the read grants is refused, however the source is spelled (GHSA-fvv5, GHSA-m836, SeaweedFS CVE-2026-55874)', async () => {
    const s3 = client()
    for (const source of [
      'lake/main/secret/a.txt',
      'lake/team/x/../../main/secret/a.txt',
      'lake/team/x/%2e%2e/%2e%2e/main/secret/a.txt',
      'lake/team/x//..//..//main/secret/a.txt',
      'lake1/team/x/ok.txt',
      'lake/main%2Fsecret/a.txt',
    ]) {
      const err = await s3.send(new CopyObjectCommand({ Bucket: 'lake', Key: 'team/x/copied.txt', CopySource: source })).then(
        () => undefined,
        (e: unknown) => e as { name: string },
      )
      expect(['AccessDenied', 'InvalidArgument', 'NotImplemented', 'NoSuchKey', 'NoSuchBucket'], source).toContain(err?.name)
    }
    await expect(client(ADMIN).send(new GetObjectCommand({ Bucket: 'lake', Key: 'team/x/copied.txt' }))).rejects.toMatchObject({ name: 'NoSuchKey' })
    s3.destroy()
  })

  it('paths are never resolved across refs: .., %2e%2e, //, backslashes and NUL in the URL (SeaweedFS CVE-2026-54917)', async () => {
    const s3 = client()
    for (const p of [
      '/lake/team/x/../../main/secret/a.txt',
      '/lake/team/x/%2e%2e/%2e%2e/main/secret/a.txt',
      '/lake/team/x/..%2f..%2fmain/secret/a.txt',
      '/lake/team/x//../main/secret/a.txt',
      '/lake/team/x\\..\\..\\main/secret/a.txt',
      '/lake/team/x/%00/../main/secret/a.txt',
      '/lake/main/secret/a.txt',
    ]) {
      // anonymous, then signed as the team key through the SDK's own escaping of the same key
      const anon = await raw('GET', p)
      expect(anon.body, p).not.toContain('main of lake')
      const key = decodeURIComponent(p.slice('/lake/'.length).replace(/%00/g, ''))
      const signed = await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: key })).then(
        async (o) => o.Body!.transformToString(),
        (e: unknown) => (e as { name: string }).name,
      )
      expect(signed, p).not.toBe('main of lake')
    }
    s3.destroy()
  })

  it('the service and region in a SigV4 scope are checked; a request replayed after the skew and a presigned URL after expiry are refused (MinIO CVE-2025-31489, lakeFS GHSA-f2ph)', async () => {
    const { SignatureV4 } = await import('@smithy/signature-v4')
    const { Hash } = await import('@smithy/hash-node')
    const sign = async (service: string, region: string, at: Date) => {
      const signer = new SignatureV4({ credentials: TEAM, region, service, sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
      const s = await signer.sign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: '127.0.0.1',
          port: server.port,
          path: '/lake/team/x/ok.txt',
          query: {},
          headers: { host: `127.0.0.1:${server.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        },
        { signingDate: at },
      )
      return raw('GET', '/lake/team/x/ok.txt', Object.fromEntries(Object.entries(s.headers).filter(([k]) => k !== 'host')) as Record<string, string>)
    }
    expect((await sign('s3', 'us-east-1', new Date())).status).toBe(200)
    expect((await sign('ec2', 'us-east-1', new Date())).status).toBe(400)
    expect((await sign('s3', 'ap-south-1', new Date())).body).toContain('AuthorizationHeaderMalformed')
    expect((await sign('s3', 'us-east-1', new Date(Date.now() - 16 * 60_000))).body).toContain('RequestTimeTooSkewed')
    const signer = new SignatureV4({ credentials: TEAM, region: 'us-east-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
    const pre = await signer.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: server.port,
        path: '/lake/team/x/ok.txt',
        query: {},
        headers: { host: `127.0.0.1:${server.port}` },
      },
      { expiresIn: 1, signingDate: new Date(Date.now() - 5000) },
    )
    const q = new URLSearchParams(pre.query as Record<string, string>).toString()
    expect((await raw('GET', `/lake/team/x/ok.txt?${q}`)).body).toContain('Request has expired')
  })

  it('one key holds a bounded number of multipart uploads in progress (lakeFS CVE-2025-27100)', async () => {
    const t2 = await tempDir('advisories-uploads')
    const small = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        uploadDir: path.join(t2.dir, 'uploads'),
        repositories: [{ name: 'lake', location: path.join(t.dir, 'lake') }],
        keys: [
          {
            accessKey: TEAM.accessKeyId,
            secretKey: TEAM.secretAccessKey,
            grants: [{ repositories: ['lake'], branches: ['team/*'], actions: ['read', 'write'] }],
          },
        ],
        maxUploadsPerKey: 5,
      }),
    )
    const s3 = new S3Client({ endpoint: small.url, region: 'us-east-1', forcePathStyle: true, credentials: TEAM, maxAttempts: 1 })
    try {
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: `team/x/mp${i}.bin` }))).UploadId!)
      await expect(s3.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: 'team/x/mp5.bin' }))).rejects.toMatchObject({ name: 'InvalidRequest' })
      await s3.send(new AbortMultipartUploadCommand({ Bucket: 'lake', Key: 'team/x/mp0.bin', UploadId: ids[0] }))
      expect((await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: 'team/x/mp5.bin' }))).UploadId).toBeTruthy()
      expect((await fs.readdir(path.join(t2.dir, 'uploads'))).length).toBe(5)
    } finally {
      s3.destroy()
      await small.close()
      await t2.cleanup()
    }
  })

  it('abandoned multipart uploads expire (uploadLifetimeHours), as S3 lifecycle rules abort them; an active one stays', async () => {
    const t2 = await tempDir('advisories-expiry')
    const small = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        uploadDir: path.join(t2.dir, 'uploads'),
        repositories: [{ name: 'lake', location: path.join(t.dir, 'lake') }],
        keys: [
          {
            accessKey: TEAM.accessKeyId,
            secretKey: TEAM.secretAccessKey,
            grants: [{ repositories: ['lake'], branches: ['team/*'], actions: ['read', 'write'] }],
          },
        ],
        uploadLifetimeHours: 5 / 3600, // 5 s
      }),
    )
    const s3 = new S3Client({ endpoint: small.url, region: 'us-east-1', forcePathStyle: true, credentials: TEAM, maxAttempts: 1 })
    try {
      const abandoned = (await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: 'team/x/gone.bin' }))).UploadId!
      const active = (await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: 'team/x/alive.bin' }))).UploadId!
      await s3.send(new UploadPartCommand({ Bucket: 'lake', Key: 'team/x/gone.bin', UploadId: abandoned, PartNumber: 1, Body: 'x' }))
      // the active one sends a small part every 300 ms until the other has expired (at most 60 s: a busy machine is slow, not stuck)
      const started = Date.now()
      for (let i = 1; (await fs.readdir(path.join(t2.dir, 'uploads'))).includes(abandoned); i++) {
        expect(Date.now() - started, 'the abandoned upload never expired').toBeLessThan(60_000)
        await s3.send(new UploadPartCommand({ Bucket: 'lake', Key: 'team/x/alive.bin', UploadId: active, PartNumber: (i % 10_000) + 1, Body: `part ${i}` }))
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
      await expect(
        s3.send(new UploadPartCommand({ Bucket: 'lake', Key: 'team/x/gone.bin', UploadId: abandoned, PartNumber: 2, Body: 'y' })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' })
      expect(await fs.readdir(path.join(t2.dir, 'uploads'))).toEqual([active])
    } finally {
      s3.destroy()
      await small.close()
      await t2.cleanup()
    }
  })

  it('nothing answers without credentials but the health check (and the API description); secrets never appear in an answer', async () => {
    expect((await raw('GET', '/api/health')).status).toBe(200)
    for (const p of ['/api/v1/repositories', '/api/v1/repositories/lake/branches', '/lake', '/lake/team/x/ok.txt', '/', '/api/v1/repositories/lake/pins']) {
      const r = await raw('GET', p)
      expect(r.status, p).toBeGreaterThanOrEqual(400)
      expect(r.body, p).not.toContain('team data')
    }
    // A wrong secret, a right one: no answer echoes a secret
    const answers: string[] = []
    for (const secret of [TEAM.secretAccessKey, 'wrong', ADMIN.secretAccessKey]) {
      const r = await raw('GET', '/api/v1/repositories', { Authorization: `Basic ${Buffer.from(`team:${secret}`).toString('base64')}` })
      answers.push(r.body)
    }
    for (const a of answers) {
      expect(a).not.toContain(TEAM.secretAccessKey)
      expect(a).not.toContain(ADMIN.secretAccessKey)
    }
  })
})
