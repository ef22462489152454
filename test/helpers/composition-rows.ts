import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
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
import type { Repository } from '@varve/core'
import { expectBytes, expectedAddresses, sha256, type CompositionFixture, type MatrixCell, type ReadPath, type WritePath } from '@varve/core/testing'
import { startServer, validateServeConfig, type RunningServer } from '@varve/server'
import { expect } from 'vitest'
import { ndjson, varve } from './varve-cli.js'
import { remoteReads, remoteWrites } from './composition-remotes.js'

// Issue 22: the composition matrix's rows beyond the library's: the CLI (the built binary, spawned)
// and the gateway (in process, spoken to with the AWS SDK for JavaScript). The matrix runs on the
// embedded store (test/composition-local.test.ts) and on MinIO (test/composition-s3.test.ts).

const KEY = { accessKeyId: 'matrix', secretAccessKey: 'matrix-secret' }
const REPO_NAME = 'lake'

interface Services {
  readonly gateway: RunningServer
  /** Environment for a spawned CLI to reach the store. */
  readonly cliEnv: NodeJS.ProcessEnv
}

const services = (c: MatrixCell) => c.services as unknown as Services
const s3Of = (c: MatrixCell) => new S3Client({ endpoint: services(c).gateway.url, region: 'us-east-1', forcePathStyle: true, credentials: KEY, maxAttempts: 1 })
const cli = async (c: MatrixCell, args: string[]) => {
  const r = await varve(['--repo', c.location, ...args], { cwd: c.tmp, env: services(c).cliEnv, timeoutMs: 120_000 })
  if (r.code !== 0) throw new Error(`varve ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r
}
const api = async (c: MatrixCell, method: string, p: string, body?: unknown) => {
  const res = await fetch(`${services(c).gateway.url}/api/v1/repositories/${REPO_NAME}${p}`, {
    method,
    headers: { Authorization: `Basic ${Buffer.from(`${KEY.accessKeyId}:${KEY.secretAccessKey}`).toString('base64')}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`)
  return JSON.parse(text) as Record<string, unknown>
}
const commitThroughApi = (c: MatrixCell, message: string) => api(c, 'POST', `/branches/${encodeURIComponent(c.branch)}/commits`, { message })

/** The gateway's key for a path of the row's branch. */
const keyOf = (c: MatrixCell, p: string) => `${c.branch}/${p}`

export const cliAndGatewayWrites: WritePath[] = [
  {
    name: 'varve put <folder> (CLI: packs, reader threads)',
    async write(c) {
      const folder = path.join(c.tmp, 'upload')
      for (const f of c.dataset.files) {
        await fs.mkdir(path.dirname(path.join(folder, f.path)), { recursive: true })
        await fs.writeFile(path.join(folder, f.path), f.bytes)
      }
      await cli(c, ['put', `${folder}/${c.dataset.prefix}`, `${c.branch}:${c.dataset.prefix}`])
      await cli(c, ['commit', c.branch, '-m', 'matrix: varve put'])
    },
  },
  {
    name: 'gateway PutObject',
    async write(c) {
      const s3 = s3Of(c)
      for (const f of c.dataset.files) await s3.send(new PutObjectCommand({ Bucket: REPO_NAME, Key: keyOf(c, f.path), Body: f.bytes }))
      s3.destroy()
      await commitThroughApi(c, 'matrix: PutObject')
    },
  },
  {
    name: 'gateway PutObject with If-None-Match: *',
    async write(c) {
      const s3 = s3Of(c)
      for (const f of c.dataset.files) await s3.send(new PutObjectCommand({ Bucket: REPO_NAME, Key: keyOf(c, f.path), Body: f.bytes, IfNoneMatch: '*' }))
      s3.destroy()
      await commitThroughApi(c, 'matrix: conditional PutObject')
    },
  },
  {
    name: 'gateway multipart upload',
    async write(c) {
      const s3 = s3Of(c)
      for (const f of c.dataset.files) {
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: REPO_NAME, Key: keyOf(c, f.path) }))
        const part = await s3.send(new UploadPartCommand({ Bucket: REPO_NAME, Key: keyOf(c, f.path), UploadId, PartNumber: 1, Body: f.bytes }))
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: REPO_NAME,
            Key: keyOf(c, f.path),
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        )
      }
      s3.destroy()
      await commitThroughApi(c, 'matrix: multipart')
    },
  },
  {
    name: 'gateway CopyObject (from packed data on another branch)',
    async write(c) {
      const side = `${c.branch}-src`
      await c.repo.createBranch(side, { from: c.base })
      await c.repo.putMany(
        side,
        c.dataset.files.map((f) => ({ path: f.path, data: f.bytes })),
      )
      await c.repo.commit(side, { message: 'copy source' })
      const s3 = s3Of(c)
      for (const f of c.dataset.files)
        await s3.send(
          new CopyObjectCommand({ Bucket: REPO_NAME, Key: keyOf(c, f.path), CopySource: encodeURI(`${REPO_NAME}/${side}/${f.path}`).replace(/\+/g, '%2B') }),
        )
      s3.destroy()
      await commitThroughApi(c, 'matrix: CopyObject')
    },
  },
]

/** Spawning the CLI costs ~0.3 s: per-file CLI cells take a packed Parquet file, the large loose file and the odd name. */
const oneOfEachKind = (c: MatrixCell) => c.dataset.files.filter((f) => f === c.dataset.parquet[0] || f.bytes.byteLength > 1024 * 1024 || f.path.includes(' '))

export const cliAndGatewayReads: ReadPath[] = [
  {
    name: 'varve cat',
    async read(c) {
      // Text files (the output is read as text here; binary content is compared through `varve get`).
      for (const f of c.dataset.files.filter((x) => /\.(txt|json)$/.test(x.path))) {
        const r = await varve(['--repo', c.location, 'cat', `${c.ref}:${f.path}`], { cwd: c.tmp, env: services(c).cliEnv })
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toBe(Buffer.from(f.bytes).toString('utf8'))
      }
    },
  },
  {
    name: 'varve get (a file and a prefix)',
    async read(c) {
      const one = path.join(c.tmp, `get-one-${randomBytes(3).toString('hex')}`)
      await fs.mkdir(one)
      // One file of each kind (packed Parquet, loose and large, an odd name); the prefix has them all.
      for (const f of oneOfEachKind(c)) {
        const to = path.join(one, path.basename(f.path))
        await cli(c, ['get', `${c.ref}:${f.path}`, to])
        expectBytes(f, await fs.readFile(to), 'varve get of the file')
      }
      const all = path.join(c.tmp, `get-prefix-${randomBytes(3).toString('hex')}`)
      await cli(c, ['get', `${c.branch}:${c.dataset.prefix}`, all])
      for (const f of c.dataset.files) expectBytes(f, await fs.readFile(path.join(all, f.path.slice(c.dataset.prefix.length))), 'varve get of the prefix')
    },
  },
  {
    name: 'varve ls -r and stat',
    async read(c) {
      const ls = ndjson((await cli(c, ['ls', '-r', `${c.ref}:${c.dataset.prefix}`, '--json'])).stdout)
      const addresses = await expectedAddresses(c.repo, c.ref, c.dataset.files)
      expect(ls.map((e) => [e.path, e.size, e.address])).toEqual(c.dataset.files.map((f, i) => [f.path, f.bytes.byteLength, addresses[i]]))
      for (const f of oneOfEachKind(c)) {
        const st = JSON.parse((await cli(c, ['stat', `${c.branch}:${f.path}`, '--json'])).stdout) as Record<string, unknown>
        expect(st).toMatchObject({ path: f.path, size: f.bytes.byteLength, address: addresses[c.dataset.files.indexOf(f)] })
      }
    },
  },
  {
    name: 'varve diff --rows on a folder',
    async read(c) {
      const out = ndjson((await cli(c, ['diff', c.base, c.ref, '--rows', '--key', 'id', '--json', '--', c.dataset.table])).stdout)
      expect(
        out
          .filter((r) => r.type === 'added')
          .map((r) => Number((r.after as Record<string, unknown>).id))
          .sort((a, b) => a - b),
      ).toEqual(c.dataset.rows.map((r) => r.id).sort((a, b) => a - b))
    },
  },
  {
    name: 'gateway GET, Range and HEAD',
    async read(c) {
      const s3 = s3Of(c)
      const addresses = await expectedAddresses(c.repo, c.ref, c.dataset.files)
      try {
        for (const [i, f] of c.dataset.files.entries()) {
          for (const ref of [c.ref, c.branch]) {
            const got = await s3.send(new GetObjectCommand({ Bucket: REPO_NAME, Key: `${ref}/${f.path}` }))
            expectBytes(f, await got.Body!.transformToByteArray(), `gateway GET at ${ref}`)
            expect(got.ETag).toBe(`"${addresses[i]}"`)
          }
          const head = await s3.send(new HeadObjectCommand({ Bucket: REPO_NAME, Key: `${c.ref}/${f.path}` }))
          expect(head.ContentLength).toBe(f.bytes.byteLength)
          if (f.bytes.byteLength > 10) {
            const [start, end] = [Math.floor(f.bytes.byteLength / 3), Math.floor(f.bytes.byteLength / 2)]
            const part = await s3.send(new GetObjectCommand({ Bucket: REPO_NAME, Key: `${c.ref}/${f.path}`, Range: `bytes=${start}-${end}` }))
            expect(sha256(await part.Body!.transformToByteArray()), `range of ${f.path}`).toBe(sha256(f.bytes.subarray(start, end + 1)))
          }
        }
      } finally {
        s3.destroy()
      }
    },
  },
  {
    name: 'gateway ListObjectsV2',
    async read(c) {
      const s3 = s3Of(c)
      try {
        const keys: [string, number, string][] = []
        let token: string | undefined
        do {
          const page = await s3.send(
            new ListObjectsV2Command({ Bucket: REPO_NAME, Prefix: `${c.ref}/${c.dataset.prefix}`, MaxKeys: 2, ContinuationToken: token }),
          )
          for (const o of page.Contents ?? []) keys.push([o.Key!, o.Size!, o.ETag!])
          token = page.NextContinuationToken
        } while (token)
        const addresses = await expectedAddresses(c.repo, c.ref, c.dataset.files)
        expect(keys).toEqual(c.dataset.files.map((f, i) => [`${c.ref}/${f.path}`, f.bytes.byteLength, `"${addresses[i]}"`]))
      } finally {
        s3.destroy()
      }
    },
  },
  {
    // Issue 26: what the web UI reads through the JSON API (a browser cannot sign S3 requests).
    name: 'web UI routes: objects pages, stat, content with Range, presigned link',
    async read(c) {
      const base = `${services(c).gateway.url}/api/v1/repositories/${REPO_NAME}`
      const auth = { Authorization: `Basic ${Buffer.from(`${KEY.accessKeyId}:${KEY.secretAccessKey}`).toString('base64')}` }
      const addresses = await expectedAddresses(c.repo, c.ref, c.dataset.files)
      // The listing, a page of 2 at a time, as the object browser pages a folder.
      const listed: [string, number, string][] = []
      let after: string | undefined
      for (let pages = 0; pages < 1000; pages++) {
        const q = new URLSearchParams({ ref: c.ref, prefix: c.dataset.prefix, limit: '2', ...(after ? { after } : {}) })
        const page = (await (await fetch(`${base}/objects?${q}`, { headers: auth })).json()) as {
          objects: { path: string; size: number; address: string }[]
          truncated: boolean
          next?: string
        }
        for (const o of page.objects) listed.push([o.path, o.size, o.address])
        if (!page.truncated) break
        after = page.next
      }
      expect(listed).toEqual(c.dataset.files.map((f, i) => [f.path, f.bytes.byteLength, addresses[i]]))
      for (const [i, f] of c.dataset.files.entries()) {
        for (const ref of [c.ref, c.branch]) {
          const q = new URLSearchParams({ ref, path: f.path })
          const stat = (await (await fetch(`${base}/objects/stat?${q}`, { headers: auth })).json()) as { size: number; address: string }
          expect(stat).toMatchObject({ size: f.bytes.byteLength, address: addresses[i] })
          const got = await fetch(`${base}/objects/content?${q}`, { headers: auth })
          expect(got.headers.get('content-disposition')).toMatch(/^attachment/)
          expectBytes(f, new Uint8Array(await got.arrayBuffer()), `web UI content at ${ref}`)
        }
        if (f.bytes.byteLength > 10) {
          const [start, end] = [Math.floor(f.bytes.byteLength / 3), Math.floor(f.bytes.byteLength / 2)]
          const part = await fetch(`${base}/objects/content?${new URLSearchParams({ ref: c.ref, path: f.path })}`, {
            headers: { ...auth, Range: `bytes=${start}-${end}` },
          })
          expect(part.status).toBe(206)
          expect(sha256(new Uint8Array(await part.arrayBuffer())), `web UI range of ${f.path}`).toBe(sha256(f.bytes.subarray(start, end + 1)))
        }
      }
      const first = c.dataset.files[0]!
      const link = (await (await fetch(`${base}/objects/presign?${new URLSearchParams({ ref: c.ref, path: first.path })}`, { headers: auth })).json()) as {
        url: string
      }
      expectBytes(first, new Uint8Array(await (await fetch(link.url)).arrayBuffer()), 'presigned link')
    },
  },
]

/** The fixture: the repository, with a gateway serving it and the CLI's environment for its store. */
export async function withGateway(
  repo: Repository,
  location: string,
  options: Record<string, unknown>,
  cliEnv: NodeJS.ProcessEnv,
  cleanupStore: () => Promise<void>,
): Promise<CompositionFixture> {
  const uploads = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-matrix-uploads-'))
  const gateway = await startServer(
    validateServeConfig({
      listen: '127.0.0.1:0',
      repositories: [{ name: REPO_NAME, location }],
      uploadDir: uploads,
      keys: [{ accessKey: KEY.accessKeyId, secretKey: KEY.secretAccessKey, grants: [{ actions: ['read', 'write', 'commit', 'admin'] }] }],
    }),
    { repositoryOptions: options },
  )
  return {
    repo,
    location,
    options,
    services: { gateway, cliEnv } satisfies Services,
    async cleanup() {
      await gateway.close()
      await repo.close()
      await fs.rm(uploads, { recursive: true, force: true })
      await cleanupStore()
    },
  }
}

export const cliAndGatewayRows = { writePaths: [...cliAndGatewayWrites, ...remoteWrites], readPaths: [...cliAndGatewayReads, ...remoteReads] }
