import { createHash, createHmac, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import zlib from 'node:zlib'
import path from 'node:path'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { Repository } from '@varve/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateServeConfig } from '../src/config.js'
import { startServer, type RunningServer } from '../src/server.js'
import { collect, tempDir } from '../../core/test/helpers.js'

// The gateway in process, over a real repository folder, with the AWS SDK for JavaScript as the client
// and raw HTTP for what no SDK sends (hostile input). The Python clients run in test/serve-clients.test.ts.

const ADMIN = { accessKeyId: 'admin', secretAccessKey: 'admin-secret' }
const READER = { accessKeyId: 'reader', secretAccessKey: 'reader-secret' }
const EXP_ONLY = { accessKeyId: 'exp-writer', secretAccessKey: 'exp-secret' }
const REVIEWER = { accessKeyId: 'reviewer', secretAccessKey: 'reviewer-secret' }
const EXP_ADMIN = { accessKeyId: 'exp-admin', secretAccessKey: 'exp-admin-secret' }
const FLAT = { accessKeyId: 'flat', secretAccessKey: 'flat-secret' }

describe('varve serve: the S3 API and the JSON API (issue 12)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let server: RunningServer
  let repo: Repository
  const client = (credentials = ADMIN, extra: Record<string, unknown> = {}) =>
    new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1, ...extra })
  const raw = (method: string, p: string, headers: Record<string, string> = {}, body?: Buffer | string) =>
    new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      // (host/port/path, not a URL string: a URL would resolve `..` before sending)
      const req = http.request({ host: '127.0.0.1', port: server.port, path: p, method, headers }, (res) => {
        let b = ''
        res.on('data', (d) => (b += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, headers: res.headers }))
      })
      req.on('error', reject)
      req.end(body)
    })
  const basic = (k: { accessKeyId: string; secretAccessKey: string }) => ({
    Authorization: `Basic ${Buffer.from(`${k.accessKeyId}:${k.secretAccessKey}`).toString('base64')}`,
    'Content-Type': 'application/json',
  })
  const api = (method: string, p: string, body?: unknown, who = ADMIN) =>
    raw(method, `/api/v1${p}`, basic(who), body === undefined ? undefined : JSON.stringify(body))

  beforeAll(async () => {
    t = await tempDir('gateway')
    repo = await Repository.init(path.join(t.dir, 'lake'), { author: 'setup' })
    await repo.put('main', 'train/a.csv', 'id\n1\n')
    await repo.commit('main', { message: 'first' })
    await repo.createTag('v1', 'main')
    await repo.createBranch('team/exp')
    server = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        repositories: [{ name: 'lake', location: path.join(t.dir, 'lake') }],
        uploadDir: path.join(t.dir, 'uploads'),
        keys: [
          { ...{ accessKey: ADMIN.accessKeyId, secretKey: ADMIN.secretAccessKey }, grants: [{ actions: ['read', 'write', 'commit', 'admin'] }] },
          { accessKey: READER.accessKeyId, secretKey: READER.secretAccessKey, grants: [{ repositories: ['lake'], actions: ['read'] }] },
          {
            accessKey: EXP_ONLY.accessKeyId,
            secretKey: EXP_ONLY.secretAccessKey,
            grants: [{ repositories: ['lake'], branches: ['team/*'], actions: ['read', 'write', 'commit'] }],
          },
          { accessKey: REVIEWER.accessKeyId, secretKey: REVIEWER.secretAccessKey, grants: [{ repositories: ['lake'], actions: ['read', 'approve'] }] },
          { accessKey: FLAT.accessKeyId, secretKey: FLAT.secretAccessKey, grants: [{ repositories: ['lake'], branches: ['exp-*'], actions: ['read'] }] },
          {
            accessKey: EXP_ADMIN.accessKeyId,
            secretKey: EXP_ADMIN.secretAccessKey,
            grants: [{ repositories: ['lake'], branches: ['team/*'], actions: ['read', 'write', 'commit', 'admin'] }],
          },
        ],
      }),
    )
  })
  afterAll(async () => {
    await server?.close()
    await repo?.close()
    await t?.cleanup()
  })

  it('the AWS SDK for JavaScript (default checksums: aws-chunked with a trailer) puts, copies and lists; a branch with / in its name is addressed whole', async () => {
    const s3 = client()
    const put = await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'team/exp/data/x.bin', Body: Buffer.alloc(300_000, 7) }))
    const entry = await repo.stat('team/exp', 'data/x.bin')
    expect(put.ETag).toBe(`"${entry.address}"`)
    await s3.send(new CopyObjectCommand({ Bucket: 'lake', Key: 'team/exp/data/y.bin', CopySource: 'lake/team/exp/data/x.bin' }))
    expect((await repo.stat('team/exp', 'data/y.bin')).address).toBe(entry.address)
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'team/exp/data/' }))
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['team/exp/data/x.bin', 'team/exp/data/y.bin'])
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Delimiter: '/' }))
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['main/', 'team/', 'v1/'])
    const team = await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'team/', Delimiter: '/' }))
    expect(team.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['team/exp/'])
    // a tag, a commit id and main~0 read the same bytes; If-None-Match with the ETag is 304
    const head = await repo.resolve('main')
    for (const ref of ['v1', head, 'main~0']) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: `${ref}/train/a.csv` }))
      expect(await got.Body!.transformToString()).toBe('id\n1\n')
    }
    const etag = (await s3.send(new HeadObjectCommand({ Bucket: 'lake', Key: 'main/train/a.csv' }))).ETag!
    expect((await raw('GET', '/lake/main/train/a.csv', { ...(await signedHeaders('GET', '/lake/main/train/a.csv')), 'If-None-Match': etag })).status).toBe(304)
    const cond = async (h: Record<string, string>) =>
      (await raw('GET', '/lake/main/train/a.csv', { ...(await signedHeaders('GET', '/lake/main/train/a.csv')), ...h })).status
    expect(await cond({ 'If-Match': etag })).toBe(200)
    expect(await cond({ 'If-Match': '"0000"' })).toBe(412)
    expect(await cond({ 'If-Modified-Since': new Date(Date.now() + 3_600_000).toUTCString() })).toBe(304)
    expect(await cond({ 'If-Modified-Since': new Date(0).toUTCString() })).toBe(200)
    expect(await cond({ 'If-Unmodified-Since': new Date(0).toUTCString() })).toBe(412)
  })

  it('multipart: parts out of order, a part uploaded again after it was read, a Complete listing a subset, an Abort: the object is always the parts listed', async () => {
    const s3 = client()
    const part = (i: number) => Buffer.alloc(5 * 1024 * 1024 + i, i) // 5 MiB and a bit: S3's smallest part
    const replacement = (i: number) => Buffer.alloc(5 * 1024 * 1024 + 7, 200 + i)
    const upload = async (key: string, order: number[], again: number[] = []) => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: key, Metadata: { via: 'multipart' } }))
      const etags = new Map<number, string>()
      const send = async (n: number, body: Buffer) =>
        etags.set(n, (await s3.send(new UploadPartCommand({ Bucket: 'lake', Key: key, UploadId, PartNumber: n, Body: body }))).ETag!)
      for (const n of order) await send(n, part(n))
      await new Promise((r) => setTimeout(r, 200)) // the assembly reads what it has meanwhile
      for (const n of again) await send(n, replacement(n))
      return { UploadId: UploadId!, etags }
    }
    const complete = (key: string, u: { UploadId: string; etags: Map<number, string> }, listed: number[]) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'lake',
          Key: key,
          UploadId: u.UploadId,
          MultipartUpload: { Parts: listed.map((n) => ({ PartNumber: n, ETag: u.etags.get(n)! })) },
        }),
      )
    const bytesOf = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: key }))).Body!.transformToByteArray())
    const expected = (ns: number[]) => Buffer.concat(ns.map(part))

    const a = await upload('team/exp/mp/out-of-order.bin', [3, 1, 2])
    await complete('team/exp/mp/out-of-order.bin', a, [1, 2, 3])
    expect((await bytesOf('team/exp/mp/out-of-order.bin')).equals(expected([1, 2, 3]))).toBe(true)
    expect((await repo.stat('team/exp', 'mp/out-of-order.bin')).metadata).toEqual({ via: 'multipart' })

    const b = await upload('team/exp/mp/again.bin', [1, 2, 3], [1]) // part 1 replaced after the assembly read it
    await complete('team/exp/mp/again.bin', b, [1, 2, 3])
    expect((await bytesOf('team/exp/mp/again.bin')).equals(Buffer.concat([replacement(1), part(2), part(3)]))).toBe(true)

    const c = await upload('team/exp/mp/subset.bin', [1, 2, 3])
    await complete('team/exp/mp/subset.bin', c, [1, 3])
    expect((await bytesOf('team/exp/mp/subset.bin')).equals(expected([1, 3]))).toBe(true)

    const d = await upload('team/exp/mp/aborted.bin', [1, 2])
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'lake', Key: 'team/exp/mp/aborted.bin', UploadId: d.UploadId }))
    await expect(complete('team/exp/mp/aborted.bin', d, [1, 2])).rejects.toMatchObject({ name: 'NoSuchUpload' })
    await expect(repo.stat('team/exp', 'mp/aborted.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(complete('team/exp/mp/x.bin', { UploadId: c.UploadId, etags: c.etags }, [1])).rejects.toMatchObject({ name: 'NoSuchUpload' })
  })

  it('multipart: parts of one size land in place, in any order and at once, and the object is that file (its bytes written once)', async () => {
    const s3 = client()
    const SIZE = 5 * 1024 * 1024
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    const start = async (key: string) => (await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lake', Key: key }))).UploadId!
    const send = async (key: string, UploadId: string, n: number, body: Buffer) =>
      (await s3.send(new UploadPartCommand({ Bucket: 'lake', Key: key, UploadId, PartNumber: n, Body: body }))).ETag!
    const complete = (key: string, UploadId: string, parts: [number, string][]) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'lake',
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts.map(([n, ETag]) => ({ PartNumber: n, ETag })) },
        }),
      )
    const stored = (address: string) => path.join(t.dir, 'lake', 'blocks', 'data', address.slice(0, 2), address.slice(2, 4), address)

    const key = 'team/exp/mp/in-place.bin'
    const bodies = [randomBytes(SIZE), randomBytes(SIZE), randomBytes(SIZE), randomBytes(1234)] // the last part is shorter
    const id = await start(key)
    const etags = await Promise.all([3, 1, 4, 2].map(async (n) => [n, await send(key, id, n, bodies[n - 1]!)] as [number, string]))
    const data = path.join(t.dir, 'uploads', id, 'data')
    const ino = (await fsp.stat(data)).ino
    await complete(
      key,
      id,
      etags.sort((a, b) => a[0] - b[0]),
    )
    const whole = Buffer.concat(bodies)
    const entry = await repo.stat('team/exp', 'mp/in-place.bin')
    expect(entry).toMatchObject({ address: sha(whole), size: whole.length })
    expect((await fsp.stat(stored(entry.address))).ino).toBe(ino) // the upload's file became the object
    expect(Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: key }))).Body!.transformToByteArray()).equals(whole)).toBe(true)

    // the short last part first: it waits in a file until Complete appends it to the data file
    const keyShortFirst = 'team/exp/mp/short-first.bin'
    const idShort = await start(keyShortFirst)
    const parts = [randomBytes(SIZE), randomBytes(SIZE), randomBytes(99)]
    const eShort: [number, string][] = []
    for (const n of [3, 1, 2]) eShort.push([n, await send(keyShortFirst, idShort, n, parts[n - 1]!)])
    const inoShort = (await fsp.stat(path.join(t.dir, 'uploads', idShort, 'data'))).ino
    await complete(
      keyShortFirst,
      idShort,
      eShort.sort((a, b) => a[0] - b[0]),
    )
    const shortEntry = await repo.stat('team/exp', 'mp/short-first.bin')
    expect(shortEntry.address).toBe(sha(Buffer.concat(parts)))
    expect((await fsp.stat(stored(shortEntry.address))).ino).toBe(inoShort)

    // a part whose body is longer than its headers say is refused before it writes into the next part's place
    const keyLong = 'team/exp/mp/too-long.bin'
    const idLong = await start(keyLong)
    const p1 = randomBytes(SIZE)
    const p2 = randomBytes(SIZE)
    const e2 = await send(keyLong, idLong, 2, p2) // part 2 in place first: part 1's place comes before it
    const { SignatureV4 } = await import('@smithy/signature-v4')
    const { Hash } = await import('@smithy/hash-node')
    const signer = new SignatureV4({ credentials: ADMIN, region: 'us-east-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
    const longBody = randomBytes(2 * SIZE) // declared SIZE, sent twice that, unsigned chunks
    const chunked = Buffer.concat([Buffer.from(`${longBody.length.toString(16)}\r\n`), longBody, Buffer.from('\r\n0\r\n\r\n')])
    const partPath = `/lake/${keyLong}`
    const signedPart = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: server.port,
      path: partPath,
      query: { partNumber: '1', uploadId: idLong },
      headers: {
        host: `127.0.0.1:${server.port}`,
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': String(SIZE),
        'content-encoding': 'aws-chunked',
        'content-length': String(chunked.length),
      },
    })
    const refused = await raw(
      'PUT',
      `${partPath}?partNumber=1&uploadId=${idLong}`,
      Object.fromEntries(Object.entries(signedPart.headers).filter(([k]) => k !== 'host')),
      chunked,
    )
    expect(refused.status).toBe(400)
    const e1 = await send(keyLong, idLong, 1, p1)
    await complete(keyLong, idLong, [
      [1, e1],
      [2, e2],
    ])
    expect(Buffer.from(await repo.get('team/exp', 'mp/too-long.bin')).equals(Buffer.concat([p1, p2]))).toBe(true)

    // a part uploaded again after it landed goes to a file of its own; the object is what was listed
    const key2 = 'team/exp/mp/in-place-again.bin'
    const id2 = await start(key2)
    const first = [randomBytes(SIZE), randomBytes(SIZE), randomBytes(SIZE)]
    const e = [await send(key2, id2, 1, first[0]!), await send(key2, id2, 2, first[1]!), await send(key2, id2, 3, first[2]!)]
    await new Promise((r) => setTimeout(r, 200)) // the assembly reads what it has meanwhile
    const again = randomBytes(SIZE)
    e[1] = await send(key2, id2, 2, again)
    await complete(key2, id2, [
      [1, e[0]!],
      [2, e[1]!],
      [3, e[2]!],
    ])
    const expected = Buffer.concat([first[0]!, again, first[2]!])
    expect((await repo.stat('team/exp', 'mp/in-place-again.bin')).address).toBe(sha(expected))
    expect(Buffer.from(await repo.get('team/exp', 'mp/in-place-again.bin')).equals(expected)).toBe(true)
    // the earlier upload of part 2 is not an ETag Complete accepts any more
    const id3 = await start(key2)
    const old = await send(key2, id3, 1, first[0]!)
    await send(key2, id3, 1, again)
    await expect(complete(key2, id3, [[1, old]])).rejects.toMatchObject({ name: 'InvalidPart' })
    expect(fs.readdirSync(path.join(t.dir, 'uploads'))).toEqual([id3]) // completed uploads leave nothing behind
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'lake', Key: key2, UploadId: id3 }))
  })

  it('a large PutObject lands in a file beside the repository and becomes the object: exact bytes; a wrong checksum, a cut body and a failed condition stage nothing and leave nothing', async () => {
    const s3 = client()
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
    const big = randomBytes(20 * 1024 * 1024 + 3) // past the 8 MiB below which a body is put from memory
    await s3.send(
      new PutObjectCommand({ Bucket: 'lake', Key: 'team/exp/landed/big.bin', Body: big, ContentType: 'application/x-big', Metadata: { origin: 'landed' } }),
    )
    const entry = await repo.stat('team/exp', 'landed/big.bin')
    expect(entry).toMatchObject({ address: sha(big), size: big.byteLength, contentType: 'application/x-big', metadata: { origin: 'landed' } })
    expect(sha(await repo.get('team/exp', 'landed/big.bin'))).toBe(sha(big))
    // a checksum the body does not have: refused at the end of the body, nothing staged
    const other = randomBytes(9 * 1024 * 1024)
    await expect(
      s3.send(
        new PutObjectCommand({
          Bucket: 'lake',
          Key: 'team/exp/landed/bad.bin',
          Body: other,
          ChecksumSHA256: createHash('sha256').update('something else').digest('base64'),
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } })
    await expect(repo.stat('team/exp', 'landed/bad.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    // If-None-Match: * on a path that exists: 412 after the body, nothing changed
    await expect(s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'team/exp/landed/big.bin', Body: other, IfNoneMatch: '*' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    })
    expect((await repo.stat('team/exp', 'landed/big.bin')).address).toBe(sha(big))
    // a body cut off half way (the client goes away): nothing staged
    const { SignatureV4 } = await import('@smithy/signature-v4')
    const { Hash } = await import('@smithy/hash-node')
    const signer = new SignatureV4({ credentials: ADMIN, region: 'us-east-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
    const cutPath = '/lake/team/exp/landed/cut.bin'
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: server.port,
      path: cutPath,
      headers: { host: `127.0.0.1:${server.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(other.length) },
    })
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, path: cutPath, method: 'PUT', headers: signed.headers })
      req.on('error', () => resolve())
      req.write(other.subarray(0, 5 * 1024 * 1024), () => setTimeout(() => (req.destroy(), resolve()), 300))
    })
    for (let i = 0; i < 50 && fs.readdirSync(path.join(t.dir, 'uploads')).length; i++) await new Promise((r) => setTimeout(r, 100))
    await expect(repo.stat('team/exp', 'landed/cut.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(fs.readdirSync(path.join(t.dir, 'uploads'))).toEqual([]) // no landing file stays behind
  })

  it('permissions: per repository, branch pattern and action; tags and commits are read-only; protected branches refuse', async () => {
    const reader = client(READER)
    await expect(reader.send(new PutObjectCommand({ Bucket: 'lake', Key: 'main/x', Body: 'x' }))).rejects.toMatchObject({ name: 'AccessDenied' })
    const exp = client(EXP_ONLY)
    await exp.send(new PutObjectCommand({ Bucket: 'lake', Key: 'team/exp/ok.txt', Body: 'ok' }))
    await expect(exp.send(new PutObjectCommand({ Bucket: 'lake', Key: 'main/no.txt', Body: 'x' }))).rejects.toMatchObject({ name: 'AccessDenied' })
    await expect(exp.send(new GetObjectCommand({ Bucket: 'lake', Key: 'main/train/a.csv' }))).rejects.toMatchObject({ name: 'AccessDenied' })
    const admin = client()
    await expect(admin.send(new PutObjectCommand({ Bucket: 'lake', Key: 'v1/x', Body: 'x' }))).rejects.toMatchObject({ name: 'AccessDenied' })
    await expect(admin.send(new PutObjectCommand({ Bucket: 'lake', Key: `${await repo.resolve('main')}/x`, Body: 'x' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    })
    await repo.protectBranch('main')
    try {
      await expect(admin.send(new PutObjectCommand({ Bucket: 'lake', Key: 'main/x', Body: 'x' }))).rejects.toMatchObject({ name: 'AccessDenied' })
    } finally {
      await repo.unprotectBranch('main')
    }
    await expect(
      client({ accessKeyId: 'nobody', secretAccessKey: 'x' }).send(new GetObjectCommand({ Bucket: 'lake', Key: 'main/train/a.csv' })),
    ).rejects.toMatchObject({ name: 'InvalidAccessKeyId' })
    expect((await raw('GET', '/lake/main/train/a.csv')).body).toContain('<Code>AccessDenied</Code>') // anonymous: not configured
  })

  it('routes that read one ref and write another check both (issue 23: N1 reset, N2 revert, branch creation, N5 pins)', async () => {
    await repo.createBranch('secret-br', { from: 'main' })
    await repo.put('secret-br', 'secret.txt', 'not for team keys')
    const mainHead = (await repo.commit('secret-br', { message: 'secret' })).id
    await repo.merge('secret-br', 'main')
    const code = async (r: Promise<{ status: number; body: string }>) => {
      const x = await r
      return x.status >= 400 ? `${x.status} ${JSON.parse(x.body).error.code}` : x.status
    }
    // branch creation reads its start: the default branch when the body names none
    expect(await code(api('POST', '/repositories/lake/branches', { name: 'team/leak' }, EXP_ONLY))).toBe('403 PERMISSION_DENIED')
    expect(await code(api('POST', '/repositories/lake/branches', { name: 'team/leak', from: 'main' }, EXP_ONLY))).toBe('403 PERMISSION_DENIED')
    expect(await code(api('POST', '/repositories/lake/branches', { name: 'team/leak', from: 'team/exp' }, EXP_ONLY))).toBe(201)
    // N1: a reset to a ref the key cannot read (a branch, a commit id, a tag) is refused; the branch has not moved
    const before = await repo.resolve('team/leak')
    for (const to of ['main', mainHead, 'secret-br', 'secret-br~0'])
      expect(await code(api('POST', '/repositories/lake/branches/team/leak/reset', { to }, EXP_ONLY)), to).toBe('403 PERMISSION_DENIED')
    expect(await repo.resolve('team/leak')).toBe(before)
    // but the key's own history, by id, is its to roll back to
    await repo.put('team/leak', 'leak/1.txt', '1')
    const later = await repo.commit('team/leak', { message: 'later' })
    expect(await code(api('POST', '/repositories/lake/branches/team/leak/reset', { to: before }, EXP_ONLY))).toBe(200)
    expect(await code(api('POST', '/repositories/lake/branches/team/leak/reset', { to: later.id }, EXP_ONLY))).toBe('403 PERMISSION_DENIED') // no longer in its history
    // N2: a revert of a commit the key cannot read is refused
    expect(await code(api('POST', '/repositories/lake/branches/team/leak/reverts', { commit: mainHead }, EXP_ONLY))).toBe('403 PERMISSION_DENIED')
    expect(await code(api('POST', '/repositories/lake/branches/team/leak/reverts', { commit: 'main' }, EXP_ONLY))).toBe('403 PERMISSION_DENIED')
    // N5: pins belong to the refs they pin
    expect(await code(api('POST', '/repositories/lake/pins', { name: 'protects-main', ref: 'main' }))).toBe(201)
    const listed = JSON.parse((await api('GET', '/repositories/lake/pins', undefined, EXP_ADMIN)).body).pins.map((x: { name: string }) => x.name)
    expect(listed).not.toContain('protects-main')
    expect(await code(api('DELETE', '/repositories/lake/pins/protects-main', undefined, EXP_ADMIN))).toBe('404 NOT_FOUND')
    expect(await code(api('POST', '/repositories/lake/pins', { name: 'protects-main', ref: 'team/exp' }, EXP_ADMIN))).toBe('403 PERMISSION_DENIED')
    expect((await repo.getPin('protects-main')).ref).toBe('main')
    expect(await code(api('POST', '/repositories/lake/pins', { name: 'team-pin', ref: 'team/exp' }, EXP_ADMIN))).toBe(201)
    expect(JSON.parse((await api('GET', '/repositories/lake/pins', undefined, EXP_ADMIN)).body).pins.map((x: { name: string }) => x.name)).toContain('team-pin')
    expect(await code(api('DELETE', '/repositories/lake/pins/team-pin', undefined, EXP_ADMIN))).toBe(200)
    await repo.unpin('protects-main')
    await repo.deleteBranch('team/leak')

    // N3: a listing checks the ref it lists (exp-1/hidden), not the prefix's first segment (exp-1)
    await repo.createBranch('exp-1', { from: 'v1' })
    await repo.createBranch('exp-1/hidden', { from: 'secret-br' })
    await new Promise((resolve) => setTimeout(resolve, 1100)) // the gateway's ref-name cache lives 1 s
    const flat = client(FLAT)
    try {
      await expect(flat.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'exp-1/hidden/' }))).rejects.toMatchObject({ name: 'AccessDenied' })
      await expect(flat.send(new GetObjectCommand({ Bucket: 'lake', Key: 'exp-1/hidden/secret.txt' }))).rejects.toMatchObject({ name: 'AccessDenied' })
      const top = await flat.send(new ListObjectsV2Command({ Bucket: 'lake', Delimiter: '/' }))
      expect(top.CommonPrefixes?.map((x) => x.Prefix)).toEqual(['exp-1/'])
      const all = await flat.send(new ListObjectsV2Command({ Bucket: 'lake' }))
      expect((all.Contents ?? []).map((o) => o.Key).filter((k) => k!.includes('secret'))).toEqual([])
      expect((all.Contents ?? []).every((o) => o.Key!.startsWith('exp-1/') && !o.Key!.startsWith('exp-1/hidden/'))).toBe(true)
    } finally {
      flat.destroy()
      await repo.deleteBranch('exp-1/hidden')
      await repo.deleteBranch('exp-1')
    }
  })

  it('the JSON API: branches, commit, merge with conflicts (409) and gate failures (422), log, diff, tags, pins, OpenAPI', async () => {
    expect((await api('POST', '/repositories/lake/branches', { name: 'feature', from: 'main' })).status).toBe(201)
    await repo.put('feature', 'train/a.csv', 'id\n2\n')
    const c = await api('POST', '/repositories/lake/branches/feature/commits', { message: 'feature change', metadata: { ticket: 7 } })
    expect(c.status).toBe(201)
    expect(JSON.parse(c.body)).toMatchObject({ message: 'feature change', author: 'admin', metadata: { ticket: 7 } })
    await repo.put('main', 'train/a.csv', 'id\n3\n')
    await repo.commit('main', { message: 'main change' })
    const conflict = await api('POST', '/repositories/lake/merges', { source: 'feature', dest: 'main' })
    expect(conflict.status).toBe(409)
    expect(JSON.parse(conflict.body).error).toMatchObject({ code: 'MERGE_CONFLICT', details: { conflicts: [{ path: 'train/a.csv' }], source: 'feature' } })
    const merged = await api('POST', '/repositories/lake/merges', { source: 'feature', dest: 'main', strategy: 'source-wins' })
    expect(JSON.parse(merged.body)).toMatchObject({ merged: true, commit: { parents: [expect.any(String), expect.any(String)] } })
    await repo.put(
      'main',
      '_varve/hooks/ok.yaml',
      'id: need-ok\non: [pre-merge]\nbranches: [main]\nchecks:\n  - { type: required-files, files: "gated/**", require: OK }\n',
    )
    await repo.commit('main', { message: 'rules' })
    await repo.createBranch('gated-src')
    await repo.put('gated-src', 'gated/x.txt', 'x')
    await repo.commit('gated-src', { message: 'no OK file' })
    const refused = await api('POST', '/repositories/lake/merges', { source: 'gated-src', dest: 'main' })
    expect(refused.status).toBe(422)
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'HOOK_FAILED', details: { failures: [{ hookId: 'need-ok' }] } })
    expect(JSON.parse((await api('POST', '/repositories/lake/hooks/check', { source: 'gated-src', dest: 'main' })).body)).toMatchObject({ ok: false })
    const log = JSON.parse((await api('GET', '/repositories/lake/log?ref=main&limit=2')).body)
    expect(log.commits.map((x: { message: string }) => x.message)).toEqual(['rules', 'Merge feature into main'])
    const diff = JSON.parse((await api('GET', '/repositories/lake/diff?left=v1&right=main&prefix=train/')).body)
    expect(diff.changes.map((x: { path: string; type: string }) => [x.type, x.path])).toEqual([['changed', 'train/a.csv']])
    expect((await api('POST', '/repositories/lake/tags', { name: 'v2', ref: 'main' })).status).toBe(201)
    expect((await api('POST', '/repositories/lake/pins', { name: 'train', ref: 'v2' })).status).toBe(201)
    expect(JSON.parse((await api('GET', '/repositories/lake/pins')).body).pins.map((p: { name: string }) => p.name)).toEqual(['train'])
    expect(JSON.parse((await api('GET', '/repositories/lake/branches/team/exp')).body)).toMatchObject({ name: 'team/exp' })
    const reverted = await api('POST', '/repositories/lake/branches/main/reverts', { commit: 'main' })
    expect(JSON.parse(reverted.body).message).toBe('Revert "rules"')
    // who may do what, and errors in one shape
    expect((await api('POST', '/repositories/lake/branches/main/commits', { message: 'x' }, READER)).status).toBe(403)
    expect((await api('GET', '/repositories/lake/log?ref=main', undefined, { accessKeyId: 'admin', secretAccessKey: 'wrong' })).status).toBe(401)
    expect(JSON.parse((await api('GET', '/repositories/nope/branches')).body).error.code).toBe('NOT_FOUND')
    expect((await api('POST', '/repositories/lake/branches/main/commits', { message: '' })).status).toBe(400)
    // SigV4 on the API too: a signed body hash binds the body
    const sigPath = '/api/v1/repositories/lake/tags'
    const tagBody = JSON.stringify({ name: 'v-signed', ref: 'main' })
    const sha = (t: string) => createHash('sha256').update(t).digest('hex')
    const signed = await signedHeaders('POST', sigPath, { 'x-amz-content-sha256': sha(tagBody), 'content-type': 'application/json' })
    expect((await raw('POST', sigPath, signed, tagBody)).status).toBe(201)
    const forged = await raw('POST', sigPath, signed, JSON.stringify({ name: 'v-forged', ref: 'main' }))
    expect(forged.status).toBe(400)
    expect(JSON.parse(forged.body).error.message).toContain('x-amz-content-sha256')
    const spec = JSON.parse((await raw('GET', '/api/openapi.json')).body)
    expect(spec.openapi).toBe('3.0.3')
    expect(Object.keys(spec.paths)).toContain('/repositories/{repo}/merges')
  })

  it('merge requests over the JSON API: identities are access keys, approvals need the approve action, protected resets need admin', async () => {
    await repo.createBranch('mr-src', { from: 'main' })
    await repo.put('mr-src', 'mr/file.txt', 'hello')
    await repo.commit('mr-src', { message: 'for review' })
    await repo.protectBranch('mr-dest*', { requiredApprovals: 1, dismissStaleApprovals: true, reset: true })
    await repo.createBranch('mr-dest', { from: 'main' })
    const plain = await api('POST', '/repositories/lake/merges', { source: 'mr-src', dest: 'mr-dest' })
    expect(plain.status).toBe(403)
    expect(JSON.parse(plain.body).error.code).toBe('APPROVAL_REQUIRED')
    const opened = await api('POST', '/repositories/lake/merge-requests', { source: 'mr-src', dest: 'mr-dest', title: 'Add a file', author: 'someone-else' })
    expect(opened.status).toBe(201)
    const mr = JSON.parse(opened.body)
    expect(mr).toMatchObject({ author: 'admin', state: 'open', gates: { status: 'passed' }, approval: { required: 1, satisfied: false } })
    expect((await api('POST', `/repositories/lake/merge-requests/${mr.id}/approvals`, {})).status).toBe(403) // admin lacks approve
    expect((await api('POST', `/repositories/lake/merge-requests/${mr.id}/approvals`, {}, READER)).status).toBe(403)
    const stale = await api('POST', `/repositories/lake/merge-requests/${mr.id}/approvals`, { head: 'f'.repeat(64) }, REVIEWER)
    expect(JSON.parse(stale.body).error.code).toBe('CONFLICT')
    const approved = await api('POST', `/repositories/lake/merge-requests/${mr.id}/approvals`, { reviewer: 'admin' }, REVIEWER)
    expect(approved.status).toBe(201)
    expect(JSON.parse(approved.body).approvals.map((a: { reviewer: string }) => a.reviewer)).toEqual(['reviewer'])
    expect((await api('POST', `/repositories/lake/merge-requests/${mr.id}/comments`, { text: 'fine', path: 'mr/file.txt' }, REVIEWER)).status).toBe(201)
    expect((await api('POST', `/repositories/lake/merge-requests/${mr.id}/merge`, {}, REVIEWER)).status).toBe(403) // no commit on mr-dest
    const merged = await api('POST', `/repositories/lake/merge-requests/${mr.id}/merge`, {})
    expect(merged.status).toBe(200)
    const m = JSON.parse(merged.body)
    expect(m.commit.metadata).toMatchObject({ 'varve.merge-request': mr.id, 'varve.merge-request.approvers': ['reviewer'] })
    const shown = JSON.parse((await api('GET', `/repositories/lake/merge-requests/${mr.id}`, undefined, READER)).body)
    expect(shown.state).toBe('merged')
    expect(shown.history.map((e: { operation: string; author: string }) => `${e.operation}:${e.author}`)).toEqual([
      'mr-merge:admin',
      'mr-merging:admin',
      'mr-comment:reviewer',
      'mr-approve:reviewer',
      'mr-open:admin',
    ])
    expect(JSON.parse((await api('GET', '/repositories/lake/merge-requests?state=merged')).body).mergeRequests.map((r: { id: number }) => r.id)).toEqual([
      mr.id,
    ])
    expect((await api('POST', `/repositories/lake/merge-requests/${mr.id}/close`, {})).status).toBe(409)
    // A protected branch's reset is for admins: commit is not enough.
    await repo.protectBranch('team/exp', { reset: true, directCommits: true })
    try {
      const reset = await api('POST', '/repositories/lake/branches/team/exp/reset', { to: 'main' }, EXP_ONLY)
      expect(reset.status).toBe(403)
      expect(JSON.parse(reset.body).error.code).toBe('PERMISSION_DENIED')
    } finally {
      await repo.unprotectBranch('team/exp')
    }
    const spec = JSON.parse((await raw('GET', '/api/openapi.json')).body)
    expect(Object.keys(spec.paths)).toContain('/repositories/{repo}/merge-requests/{id}/approvals')
  })

  it('identity (issue 22): the access key is the committer and the ref log actor; a body names only the author', async () => {
    await repo.createBranch('team/who', { from: 'main' })
    await repo.put('team/who', 'who/a.txt', 'a')
    const c = JSON.parse((await api('POST', '/repositories/lake/branches/team/who/commits', { message: 'for bob', author: 'bob' }, EXP_ONLY)).body)
    expect(c).toMatchObject({ author: 'bob', committer: 'exp-writer' })
    const moves = await collect(repo.refLog('team/who', { limit: 1 }))
    expect(moves[0]).toMatchObject({ operation: 'commit', author: 'exp-writer', new: c.id })
    // A client cannot write what Varve records itself (forged approvals in history)
    await repo.put('team/who', 'who/forged.txt', 'f')
    const forged = await api(
      'POST',
      '/repositories/lake/branches/team/who/commits',
      { message: 'x', metadata: { 'varve.merge-request.approvers': ['alice'] } },
      EXP_ONLY,
    )
    expect(forged.status).toBe(400)
    expect(JSON.parse(forged.body).error.message).toContain('reserved')
    await repo.delete('team/who', 'who/forged.txt')
    // Without a body author, the key is both, and the commit is encoded as any other (no committer field).
    await repo.put('team/who', 'who/b.txt', 'b')
    const plain = JSON.parse((await api('POST', '/repositories/lake/branches/team/who/commits', { message: 'mine' }, EXP_ONLY)).body)
    expect(plain.author).toBe('exp-writer')
    expect(plain.committer).toBeUndefined()
    // Reverts and merges split the same way; branch creation, resets and deletions record the key.
    const reverted = JSON.parse((await api('POST', '/repositories/lake/branches/team/who/reverts', { commit: plain.id, author: 'carol' }, EXP_ONLY)).body)
    expect(reverted).toMatchObject({ author: 'carol', committer: 'exp-writer' })
    expect((await api('POST', '/repositories/lake/branches', { name: 'team/who2', from: 'team/who', author: 'mallory' }, EXP_ONLY)).status).toBe(201)
    expect((await collect(repo.refLog('team/who2')))[0]).toMatchObject({ operation: 'create', author: 'exp-writer' })
    await repo.put('team/who2', 'who/c.txt', 'c')
    await repo.commit('team/who2', { message: 'c' })
    const merged = JSON.parse((await api('POST', '/repositories/lake/merges', { source: 'team/who2', dest: 'team/who', author: 'dave' }, EXP_ONLY)).body)
    expect(merged.commit).toMatchObject({ author: 'dave', committer: 'exp-writer' })
    expect((await collect(repo.refLog('team/who', { limit: 1 })))[0]).toMatchObject({ operation: 'merge', author: 'exp-writer' })
    const reset = await api('POST', '/repositories/lake/branches/team/who/reset', { to: c.id, author: 'mallory' }, EXP_ONLY)
    expect(reset.status).toBe(200)
    expect((await collect(repo.refLog('team/who', { limit: 1 })))[0]).toMatchObject({ operation: 'reset', author: 'exp-writer' })
    // log shows both
    const log = JSON.parse((await api('GET', `/repositories/lake/log?ref=${encodeURIComponent(merged.commit.id)}&limit=1`)).body)
    expect(JSON.stringify(log)).toContain('"committer":"exp-writer"')
    // Signed approvals over the API: the key signs the text the server gives it; unsigned is refused.
    await repo.createBranch('signed-dest', { from: 'main' })
    await repo.protectBranch('signed-dest', { requiredApprovals: 1, signedApprovals: true })
    const mr = JSON.parse((await api('POST', '/repositories/lake/merge-requests', { source: 'team/who', dest: 'signed-dest', title: 'signed' })).body)
    const text = JSON.parse((await api('GET', `/repositories/lake/merge-requests/${mr.id}/signing-text`, undefined, REVIEWER)).body)
    expect(text.text).toContain('\nreviewer reviewer\n')
    expect(text.text).toContain(`\nsource-head ${(await repo.getBranch('team/who')).head}\n`)
    const unsigned = await api('POST', `/repositories/lake/merge-requests/${mr.id}/approvals`, {}, REVIEWER)
    expect(unsigned.status).toBe(403)
    expect(JSON.parse(unsigned.body).error).toMatchObject({ code: 'PERMISSION_DENIED', details: { reason: 'signature' } })
    const garbage = await api('POST', `/repositories/lake/merge-requests/${mr.id}/approvals`, { signature: 'not a signature' }, REVIEWER)
    expect(garbage.status).toBe(403)
  })

  it('objects a browser would run are served inert: nosniff, a sandbox CSP, HTML and SVG as downloads (issue 23: N6)', async () => {
    const s3 = client()
    await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'team/exp/x.html', Body: '<script>alert(1)</script>', ContentType: 'text/html' }))
    await s3.send(
      new PutObjectCommand({ Bucket: 'lake', Key: 'team/exp/x.svg', Body: '<svg onload="alert(1)"/>', ContentType: 'image/svg+xml; charset=utf-8' }),
    )
    await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'team/exp/x.csv', Body: 'a,b\n', ContentType: 'text/csv' }))
    for (const [key, attachment] of [
      ['x.html', true],
      ['x.svg', true],
      ['x.csv', false],
    ] as const) {
      const o = await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: `team/exp/${key}` }))
      expect(o.ContentDisposition, key).toBe(attachment ? 'attachment' : undefined)
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'lake', Key: `team/exp/${key}` }))
      expect(head.ContentDisposition, key).toBe(attachment ? 'attachment' : undefined)
    }
    // A client asking for text/html inline still gets the sandbox: no script runs on this origin.
    const inline = await s3.send(
      new GetObjectCommand({ Bucket: 'lake', Key: 'team/exp/x.csv', ResponseContentType: 'text/html', ResponseContentDisposition: 'inline' }),
    )
    expect(inline.ContentType).toBe('text/html')
    expect(inline.ContentDisposition).toBe('inline')
    const probe = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      // The SDK does not surface these headers: a signed V2 URL read with plain HTTP shows them.
      const expires = Math.floor(Date.now() / 1000) + 600
      const sig = createHmac('sha1', ADMIN.secretAccessKey).update(`GET\n\n\n${expires}\n/lake/team/exp/x.html`).digest('base64')
      http
        .get(
          {
            host: '127.0.0.1',
            port: server.port,
            path: `/lake/team/exp/x.html?AWSAccessKeyId=${ADMIN.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`,
          },
          (res) => {
            res.resume()
            resolve(res.headers)
          },
        )
        .on('error', reject)
    })
    expect(probe['x-content-type-options']).toBe('nosniff')
    expect(probe['content-security-policy']).toBe("default-src 'none'; sandbox")
    expect(probe['content-disposition']).toBe('attachment')
    s3.destroy()
  })

  it('an upload refused while it is read answers 4xx, not a retryable 503 (issue 23: N11)', async () => {
    const { SignatureV4 } = await import('@smithy/signature-v4')
    const { Hash } = await import('@smithy/hash-node')
    const signer = new SignatureV4({ credentials: ADMIN, region: 'us-east-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
    const put = async (p: string, body: Buffer, claimed: string) => {
      const signed = await signer.sign({
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: server.port,
        path: p,
        query: {},
        headers: { host: `127.0.0.1:${server.port}`, 'x-amz-content-sha256': claimed, 'content-length': String(body.length) },
      })
      return raw('PUT', p, Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host')), body)
    }
    for (const size of [100, 3 * 1024 * 1024]) {
      const body = randomBytes(size)
      const lie = createHash('sha256').update('other bytes').digest('hex')
      const r = await put(`/lake/team/exp/n11-${size}.bin`, body, lie)
      expect(r.status, `${size} bytes: ${r.body}`).toBe(400)
      expect(r.body).toContain('<Code>XAmzContentSHA256Mismatch</Code>')
      await expect(repo.stat('team/exp', `n11-${size}.bin`)).rejects.toMatchObject({ code: 'NOT_FOUND' })
      const ok = await put(`/lake/team/exp/n11-${size}.bin`, body, createHash('sha256').update(body).digest('hex'))
      expect(ok.status).toBe(200)
    }
  })

  it('checksums are verified: a wrong trailer or header value is BadDigest and stages nothing; every SDK algorithm passes (issue 23: N9)', async () => {
    const s3 = client()
    const body = randomBytes(200_000)
    for (const ChecksumAlgorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const key = `team/exp/n9/${ChecksumAlgorithm}.bin`
      await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: body, ChecksumAlgorithm }))
      expect(Buffer.from(await repo.get('team/exp', `n9/${ChecksumAlgorithm}.bin`)).equals(body), ChecksumAlgorithm).toBe(true)
    }
    s3.destroy()
    const { SignatureV4 } = await import('@smithy/signature-v4')
    const { Hash } = await import('@smithy/hash-node')
    const signer = new SignatureV4({ credentials: ADMIN, region: 'us-east-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
    const crc32 = (b: Buffer) => {
      const x = Buffer.alloc(4)
      x.writeUInt32BE(zlib.crc32(b))
      return x.toString('base64')
    }
    const send = async (p: string, raw_: Buffer, headers: Record<string, string>) => {
      const signed = await signer.sign({
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: server.port,
        path: p,
        query: {},
        headers: { host: `127.0.0.1:${server.port}`, 'content-length': String(raw_.length), ...headers },
      })
      return raw('PUT', p, Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host')), raw_)
    }
    const trailed = (data: Buffer, value: string) =>
      Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${value}\r\n\r\n`)])
    const trailerHeaders = {
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(body.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
    }
    const bad = await send('/lake/team/exp/n9/trailer.bin', trailed(body, crc32(Buffer.from('other'))), trailerHeaders)
    expect(bad.status, bad.body).toBe(400)
    expect(bad.body).toContain('<Code>BadDigest</Code>')
    await expect(repo.stat('team/exp', 'n9/trailer.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect((await send('/lake/team/exp/n9/trailer.bin', trailed(body, crc32(body)), trailerHeaders)).status).toBe(200)
    const missing = await send(
      '/lake/team/exp/n9/no-trailer.bin',
      Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]),
      trailerHeaders,
    )
    expect(missing.body).toContain('<Code>InvalidRequest</Code>')
    const header = await send('/lake/team/exp/n9/header.bin', body, {
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-checksum-sha256': createHash('sha256').update('other').digest('base64'),
    })
    expect(header.body).toContain('<Code>BadDigest</Code>')
    expect(
      (
        await send('/lake/team/exp/n9/header.bin', body, {
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
          'x-amz-checksum-sha256': createHash('sha256').update(body).digest('base64'),
        })
      ).status,
    ).toBe(200)
    const unknown = await send('/lake/team/exp/n9/md5.bin', body, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-checksum-md7': 'abc' })
    expect(unknown.body).toContain('<Code>InvalidRequest</Code>')
  })

  it('conditional PutObject (If-None-Match: *, If-Match) is atomic across two gateway instances over one repository (issue 23)', async () => {
    const second = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        repositories: [{ name: 'lake', location: path.join(t.dir, 'lake') }],
        uploadDir: path.join(t.dir, 'uploads-2'),
        keys: [{ accessKey: ADMIN.accessKeyId, secretKey: ADMIN.secretAccessKey, grants: [{ actions: ['read', 'write', 'commit', 'admin'] }] }],
      }),
    )
    const clients = [client(), new S3Client({ endpoint: second.url, region: 'us-east-1', forcePathStyle: true, credentials: ADMIN, maxAttempts: 1 })]
    try {
      const key = 'team/exp/_delta_log/00000000000000000007.json'
      const tries = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          clients[i % 2]!.send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: `{"writer":${i}}`, IfNoneMatch: '*' })),
        ),
      )
      const won = tries.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ ETag?: string }>[]
      expect(won).toHaveLength(1)
      for (const r of tries) if (r.status === 'rejected') expect((r.reason as { name: string }).name).toBe('PreconditionFailed')
      const etag = won[0]!.value.ETag!
      const updates = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => clients[i % 2]!.send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: `{"update":${i}}`, IfMatch: etag }))),
      )
      expect(updates.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      await expect(clients[1]!.send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: 'x', IfMatch: etag }))).rejects.toMatchObject({
        name: 'PreconditionFailed',
      })
    } finally {
      for (const c of clients) c.destroy()
      await second.close()
    }
  })

  it('a SigV4 scope naming another region is refused, naming the right one (issue 23: N10)', async () => {
    const wrong = client(ADMIN, { region: 'eu-west-3' })
    const err = await wrong.send(new GetObjectCommand({ Bucket: 'lake', Key: 'main/train/a.csv' })).then(
      () => undefined,
      (e: unknown) => e as { name: string; message: string; Region?: string },
    )
    expect(err?.name).toBe('AuthorizationHeaderMalformed')
    expect(err?.message).toContain("the region 'eu-west-3' is wrong; expecting 'us-east-1'")
    wrong.destroy()
    const right = client()
    expect((await right.send(new GetObjectCommand({ Bucket: 'lake', Key: 'main/train/a.csv' }))).$metadata.httpStatusCode).toBe(200)
    right.destroy()
  })

  it('SigV2 presigned URLs live at most 7 days, as V4 ones (issue 23: N4)', async () => {
    const presignV2 = (expires: number) => {
      const sig = createHmac('sha1', ADMIN.secretAccessKey).update(`GET\n\n\n${expires}\n/lake/main/train/a.csv`).digest('base64')
      return `/lake/main/train/a.csv?AWSAccessKeyId=${ADMIN.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`
    }
    const now = Math.floor(Date.now() / 1000)
    expect((await raw('GET', presignV2(now + 3600))).status).toBe(200)
    const forever = await raw('GET', presignV2(Date.UTC(2099, 0, 1) / 1000))
    expect(forever.status).toBe(403)
    expect(forever.body).toContain('more than 7 days away')
    expect((await raw('GET', presignV2(now + 8 * 24 * 3600))).status).toBe(403)
    expect((await raw('GET', presignV2(now - 10))).status).toBe(403)
  })

  it('idle connections, stalled uploads and silent clients are closed; one client holds a bounded number of connections (issue 23: N7)', async () => {
    const t2 = await tempDir('gateway-timeouts')
    const small = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        repositories: [{ name: 'lake', location: path.join(t.dir, 'lake') }],
        uploadDir: path.join(t2.dir, 'uploads'),
        keys: [{ accessKey: ADMIN.accessKeyId, secretKey: ADMIN.secretAccessKey, grants: [{ actions: ['read', 'write', 'commit', 'admin'] }] }],
        idleTimeoutSeconds: 1,
        headersTimeoutSeconds: 1,
        maxConnectionsPerClient: 12,
      }),
    )
    const open = (first?: string) =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(small.port, '127.0.0.1', () => {
          if (first) s.write(first)
          resolve(s)
        })
        s.resume() // read whatever the server answers, so its close is seen
        s.on('error', reject)
      })
    const closedWithin = (s: net.Socket, ms: number) =>
      new Promise<boolean>((resolve) => {
        if (s.destroyed || s.readableEnded) return resolve(true)
        const timer = setTimeout(() => resolve(false), ms)
        s.once('close', () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
    try {
      // 10 connections that never say anything, and 1 upload that stalls after 10 of 1,000 bytes
      const silent = await Promise.all(Array.from({ length: 10 }, () => open()))
      const stalled = await open(
        `PUT /lake/team/exp/stalled.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic ${Buffer.from('admin:admin-secret').toString('base64')}\r\nContent-Length: 1000\r\n\r\n0123456789`,
      )
      // generous: a busy machine may be slow to run the timers, but they must run
      const closed = await Promise.all([...silent, stalled].map((s) => closedWithin(s, 30_000)))
      expect(closed.filter(Boolean)).toHaveLength(11)
      // the cap: 12 at once from one address; the 13th and later are closed at once
      const many = await Promise.all(Array.from({ length: 20 }, () => open().catch(() => undefined)))
      const alive = await Promise.all(many.map(async (s) => (s ? !(await closedWithin(s, 300)) : false)))
      expect(alive.filter(Boolean).length).toBeLessThanOrEqual(12)
      for (const s of many) s?.destroy()
      // and once they are gone, requests are served again
      await new Promise((resolve) => setTimeout(resolve, 200))
      const res = await fetch(`${small.url}/api/v1/repositories`, {
        headers: { Authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` },
      })
      expect(res.status).toBe(200)
    } finally {
      await small.close()
      await t2.cleanup()
    }
  })

  it('hostile input: bad signatures, expired presigned URLs, bad keys, huge headers, a client gone mid-upload, 1,000 requests at once', async () => {
    const bad = await raw('GET', '/lake/main/train/a.csv', { Authorization: 'AWS4-HMAC-SHA256 Credential=garbage', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })
    expect(bad.status).toBe(400)
    expect(bad.body).toContain('<Code>InvalidArgument</Code>')
    const expired = await raw(
      'GET',
      '/lake/main/train/a.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=admin%2F20200101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20200101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=' +
        '0'.repeat(64),
    )
    expect(expired.status).toBe(403)
    expect(expired.body).toContain('Request has expired')
    for (const key of ['main/../etc/passwd', 'main/a%00b', 'main/%0a', 'nosuchref/train/a.csv', 'main']) {
      const p = `/lake/${key}`
      const r = await raw('GET', p, await signedHeaders('GET', p))
      expect([400, 404], `${key}: ${r.body}`).toContain(r.status)
      expect(r.body).toMatch(/<Code>(InvalidArgument|NoSuchKey)<\/Code>/)
    }
    const huge = await raw('GET', '/lake/main/train/a.csv', { 'x-big': 'a'.repeat(64 * 1024) }).catch(() => ({ status: 431 }))
    expect(huge.status).toBe(431)

    // a client that disconnects mid-upload: nothing is staged
    const p = '/lake/main/cut/half.bin'
    const headers = await signedHeaders('PUT', p, { 'Content-Length': '10000000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })
    await new Promise<void>((resolve) => {
      const sock = net.connect(server.port, '127.0.0.1', () => {
        sock.write(
          `PUT ${p} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\r\n')}\r\n\r\n`,
        )
        sock.write(Buffer.alloc(1_000_000, 1), () => setTimeout(() => (sock.destroy(), resolve()), 200))
      })
    })
    await new Promise((r) => setTimeout(r, 300))
    expect((await collect(repo.uncommitted('main', { prefix: 'cut/' }))).length).toBe(0)
    // (the same request sent whole is staged: the cut one was refused for being cut, not for its signature)
    const whole = await raw('PUT', p, headers, Buffer.alloc(10_000_000, 1))
    expect(whole.status, whole.body).toBe(200)
    expect((await collect(repo.uncommitted('main', { prefix: 'cut/' }))).map((c) => c.path)).toEqual(['cut/half.bin'])

    // a refused 64 MiB upload is answered without reading its body, and the connection closes
    const refusedPath = '/lake/v1/refused.bin'
    const refused = await raw(
      'PUT',
      refusedPath,
      await signedHeaders('PUT', refusedPath, { 'Content-Length': String(64 * 1024 * 1024) }),
      Buffer.alloc(64 * 1024 * 1024),
    ).catch((e: Error) => ({ status: -1, body: e.message, headers: {} }))
    expect([403, -1]).toContain(refused.status) // -1: the client saw the close before it finished sending
    if (refused.status === 403) expect(refused.headers.connection).toBe('close')

    // many requests at once: all answered, the server still serves
    const s3 = client(ADMIN, { requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: 200 }) } })
    const results = await Promise.allSettled(
      Array.from({ length: 1000 }, () => s3.send(new GetObjectCommand({ Bucket: 'lake', Key: 'v1/train/a.csv' })).then((r) => r.Body!.transformToString())),
    )
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === 'id\n1\n').length).toBe(1000)
  })

  /** SigV4 headers for a raw request, made by the SDK's own signer. */
  async function signedHeaders(method: string, p: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const { SignatureV4 } = await import('@smithy/signature-v4')
    const { Hash } = await import('@smithy/hash-node')
    const signer = new SignatureV4({ credentials: ADMIN, region: 'us-east-1', service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false })
    const host = `127.0.0.1:${server.port}`
    const signed = await signer.sign({
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: server.port,
      path: p,
      query: {},
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extra },
    })
    return Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host'))
  }
})

describe('varve serve: an s3:// repository, TLS, virtual-host style, anonymous grants (issue 12)', () => {
  it('serves a repository stored in S3 (MinIO), over TLS, addressed virtual-host style, with anonymous reads where granted', async () => {
    const { startTestS3 } = await import('@varve/s3-adapter/testing')
    await import('@varve/s3-adapter')
    const s3server = await startTestS3()
    const t = await tempDir('gateway-s3')
    try {
      const bucket = `gw-${Date.now().toString(36)}`
      await s3server.createBucket(bucket)
      const s3opts = { s3: s3server.options }
      const location = `s3://${bucket}/lake`
      const repo = await Repository.init(location, { ...s3opts, author: 'setup' })
      await repo.put('main', 'd/x.txt', 'in s3')
      await repo.commit('main', { message: 'x' })
      await repo.createTag('v1', 'main')
      await repo.close()
      // a self-signed certificate, as a user's own would be
      const { execFileSync } = await import('node:child_process')
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          path.join(t.dir, 'key.pem'),
          '-out',
          path.join(t.dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
        ],
        { stdio: 'ignore' },
      )
      const server = await startServer(
        validateServeConfig({
          listen: '127.0.0.1:0',
          repositories: [{ name: 'lake', location }],
          keys: [{ accessKey: ADMIN.accessKeyId, secretKey: ADMIN.secretAccessKey, grants: [{ actions: ['read', 'write'] }] }],
          anonymous: { grants: [{ repositories: ['lake'], branches: ['v*'], actions: ['read'] }] },
          tls: { cert: path.join(t.dir, 'cert.pem'), key: path.join(t.dir, 'key.pem') },
        }),
        { repositoryOptions: s3opts },
      )
      try {
        expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
        const https = await import('node:https')
        const agent = new https.Agent({ rejectUnauthorized: false })
        const client = new S3Client({
          endpoint: server.url,
          region: 'us-east-1',
          forcePathStyle: true,
          credentials: ADMIN,
          maxAttempts: 1,
          requestHandler: { httpsAgent: agent },
        })
        await client.send(new PutObjectCommand({ Bucket: 'lake', Key: 'main/d/y.txt', Body: 'put over tls' }))
        expect(await (await client.send(new GetObjectCommand({ Bucket: 'lake', Key: 'main/d/x.txt' }))).Body!.transformToString()).toBe('in s3')
        const get = (p: string, host: string) =>
          new Promise<{ status: number; body: string }>((resolve, reject) => {
            https
              .get({ host: '127.0.0.1', port: server.port, path: p, headers: { host }, agent }, (res) => {
                let b = ''
                res.on('data', (d) => (b += d))
                res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }))
              })
              .on('error', reject)
          })
        // anonymous: the tag is granted, main is not; virtual-host style names the bucket in the Host
        expect(await get('/v1/d/x.txt', `lake.s3.example:${server.port}`)).toEqual({ status: 200, body: 'in s3' })
        expect((await get('/lake/v1/d/x.txt', `127.0.0.1:${server.port}`)).body).toBe('in s3')
        expect((await get('/lake/main/d/x.txt', `127.0.0.1:${server.port}`)).status).toBe(403)
      } finally {
        await server.close()
      }
    } finally {
      await s3server.stop()
      await t.cleanup()
    }
  }, 120_000)
})
