import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository, type VarveError } from '@varve/core'
import { createS3Client } from '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { collect, tempDir } from './helpers/processes.js'
import { pythonVenv, runPython } from './helpers/serve.js'
import { s3CliEnv, varve } from './helpers/varve-cli.js'

// Issue 25: `import --inventory` reads a bucket's objects from an S3 Inventory report instead of LIST.
// MinIO makes no inventory reports, so the reports here are written as AWS documents them (a
// manifest.json, gzipped CSV with URL-encoded keys; Parquet written by pyarrow) from the bucket's
// real listing: a fake of AWS's report generator, never of the bucket or the reads.

let s3: TestS3
let client: S3Client
let t: Awaited<ReturnType<typeof tempDir>>
const fails = async (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('resolved'),
    (e: unknown) => e as VarveError,
  )

beforeAll(async () => {
  s3 = await startTestS3()
  client = createS3Client(s3.options)
  t = await tempDir('inventory')
}, 120_000)
afterAll(async () => {
  client?.destroy()
  await s3?.stop()
  await t?.cleanup()
})

const put = (bucket: string, key: string, body: string | Uint8Array) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
const KEYS = ['raw/a.txt', 'raw/with space.txt', 'raw/plus+sign.txt', 'raw/ünï/cödé.txt', 'raw/sub/b.json', 'raw/sub/c.json', 'rawish/x.txt', 'other/y.txt']

async function listing(bucket: string) {
  const r = await client.send(new ListObjectsV2Command({ Bucket: bucket }))
  return (r.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size!, etag: o.ETag!.replace(/"/g, ''), modified: o.LastModified!.toISOString() }))
}

/** AWS's CSV encoding of a key: form-URL-encoded (a space is `+`). */
const formEncode = (key: string) => encodeURIComponent(key).replace(/%20/g, '+')

async function csvInventory(source: string, inv: string, rows: string[][], schema: string, split = 2): Promise<string> {
  const base = `reports/${source}/daily/2026-12-06T01-00Z`
  const files: { key: string; size: number }[] = []
  const per = Math.ceil(rows.length / split)
  for (let i = 0; i < split; i++) {
    // Later rows in earlier files: the report's files are in no order.
    const part = rows.slice((split - 1 - i) * per, (split - i) * per)
    const body = gzipSync(part.map((r) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')).join('\n') + '\n')
    const key = `reports/${source}/daily/data/part-${i}.csv.gz`
    await put(inv, key, body)
    files.push({ key, size: body.length })
  }
  const manifest = {
    sourceBucket: source,
    destinationBucket: `arn:aws:s3:::${inv}`,
    version: '2016-11-30',
    creationTimestamp: '1765000000000',
    fileFormat: 'CSV',
    fileSchema: schema,
    files: files.map((f) => ({ ...f, MD5checksum: 'unused' })),
  }
  await put(inv, `${base}/manifest.json`, JSON.stringify(manifest))
  return `s3://${inv}/${base}/manifest.json`
}

describe('varve import --inventory: the objects from an S3 Inventory report instead of LIST', () => {
  it('a CSV report gives the tree a LIST import gives; a re-import by LIST writes nothing', async () => {
    const source = `lake-${randomBytes(4).toString('hex')}`
    const inv = `inv-${randomBytes(4).toString('hex')}`
    await s3.createBucket(source)
    await s3.createBucket(inv)
    for (const k of KEYS) await put(source, k, `bytes of ${k}`)
    const objects = await listing(source)
    // A folder marker and a row of another bucket are in real reports too.
    const rows = [
      ...objects.map((o) => [source, formEncode(o.key), String(o.size), o.modified, o.etag, 'STANDARD']),
      [source, 'raw/folder/', '0', objects[0]!.modified, 'd41d8cd98f00b204e9800998ecf8427e', 'STANDARD'],
    ]
    const manifest = await csvInventory(source, inv, rows, 'Bucket, Key, Size, LastModifiedDate, ETag, StorageClass')
    const byList = await Repository.init(path.join(t.dir, `list-${source}`), { author: 'test', s3: s3.options })
    const byInventory = await Repository.init(path.join(t.dir, `inv-${source}`), { author: 'test', s3: s3.options })
    try {
      await byList.importObjects('main', { source: `s3://${source}/raw/`, path: 'lake/' })
      const r = await byInventory.importObjects('main', { source: `s3://${source}/raw/`, path: 'lake/', inventory: manifest })
      expect(r).toMatchObject({ listed: 7, added: 6, skipped: 1, skippedExamples: ['raw/folder/'] })
      expect((await byInventory.getCommit('main')).root).toBe((await byList.getCommit('main')).root)
      expect(Buffer.from(await byInventory.get('main', 'lake/ünï/cödé.txt')).toString()).toBe('bytes of raw/ünï/cödé.txt')
      expect(Buffer.from(await byInventory.get('main', 'lake/plus+sign.txt')).toString()).toBe('bytes of raw/plus+sign.txt')
      expect((await fails(byInventory.importObjects('main', { source: `s3://${source}/raw/`, path: 'lake/' }))).code).toBe('NOTHING_TO_COMMIT')
      // The report is a day old: an object changed since is refused on read, and verify finds it.
      await put(source, 'raw/a.txt', 'changed after the report')
      expect((await fails(byInventory.get('main', 'lake/a.txt'))).code).toBe('IMPORTED_OBJECT_CHANGED')
      expect((await byInventory.verify()).problems.map((p) => p.path)).toEqual(['lake/a.txt'])
    } finally {
      await byList.close()
      await byInventory.close()
    }
  })

  it('a Parquet report of a versioned bucket: old versions and delete markers are left out, versions pinned', async () => {
    const source = `ver-${randomBytes(4).toString('hex')}`
    const inv = `inv-${randomBytes(4).toString('hex')}`
    await s3.createBucket(source)
    await s3.createBucket(inv)
    await client.send(new PutBucketVersioningCommand({ Bucket: source, VersioningConfiguration: { Status: 'Enabled' } }))
    await put(source, 'raw/a.txt', 'a v1')
    await put(source, 'raw/a.txt', 'a v2')
    await put(source, 'raw/gone.txt', 'deleted')
    await client.send(new DeleteObjectCommand({ Bucket: source, Key: 'raw/gone.txt' }))
    for (let i = 0; i < 5; i++) await put(source, `raw/part-${i}.bin`, randomBytes(10 + i))
    const v = await client.send(new ListObjectVersionsCommand({ Bucket: source }))
    const rows = [
      ...(v.Versions ?? []).map((o) => ({
        bucket: source,
        key: o.Key,
        version_id: o.VersionId,
        is_latest: o.IsLatest,
        is_delete_marker: false,
        size: o.Size,
        last_modified_date: o.LastModified!.getTime(),
        e_tag: o.ETag!.replace(/"/g, ''),
      })),
      ...(v.DeleteMarkers ?? []).map((o) => ({
        bucket: source,
        key: o.Key,
        version_id: o.VersionId,
        is_latest: o.IsLatest,
        is_delete_marker: true,
        size: null,
        last_modified_date: o.LastModified!.getTime(),
        e_tag: null,
      })),
    ].reverse()
    const file = path.join(t.dir, `${source}.parquet`)
    await runPython(await pythonVenv(), 'inventory_parquet.py', { ROWS: JSON.stringify(rows), OUT: file, GROUP: '3' })
    const body = await fs.readFile(file)
    await put(inv, 'r/data/one.parquet', body)
    const manifest = {
      sourceBucket: source,
      destinationBucket: `arn:aws:s3:::${inv}`,
      fileFormat: 'Parquet',
      fileSchema: 'message s3.inventory { required binary bucket (STRING); required binary key (STRING); … }',
      files: [{ key: 'r/data/one.parquet', size: body.length }],
    }
    // A manifest read from a local file this time.
    const local = path.join(t.dir, `${source}-manifest.json`)
    await fs.writeFile(local, JSON.stringify(manifest))
    const byList = await Repository.init(path.join(t.dir, `list-${source}`), { author: 'test', s3: s3.options })
    const byInventory = await Repository.init(path.join(t.dir, `inv-${source}`), { author: 'test', s3: s3.options })
    try {
      await byList.importObjects('main', { source: `s3://${source}/raw/` })
      const r = await byInventory.importObjects('main', { source: `s3://${source}`, prefix: 'raw/', inventory: local })
      expect(r).toMatchObject({ listed: 6, added: 6 })
      expect((await byInventory.getCommit('main')).root).toBe((await byList.getCommit('main')).root)
      expect((await byInventory.stat('main', 'a.txt')).external?.versionId).toBeTruthy()
      await put(source, 'raw/a.txt', 'a v3')
      expect(Buffer.from(await byInventory.get('main', 'a.txt')).toString()).toBe('a v2')
      expect((await collect(byInventory.list('main'))).map((e) => e.path)).not.toContain('gone.txt')
    } finally {
      await byList.close()
      await byInventory.close()
    }
  })

  it('refuses a report of another bucket, ORC, a missing manifest, a bad key encoding, a schema without sizes, a gzip bomb, a huge manifest: typed, nothing written', async () => {
    const source = `bad-${randomBytes(4).toString('hex')}`
    const inv = `inv-${randomBytes(4).toString('hex')}`
    await s3.createBucket(source)
    await s3.createBucket(inv)
    await put(source, 'raw/a.txt', 'a')
    const repo = await Repository.init(path.join(t.dir, `bad-${source}`), { author: 'test', s3: s3.options })
    try {
      const head = await repo.resolve('main')
      const tryWith = async (inventory: string) => fails(repo.importObjects('main', { source: `s3://${source}/raw/`, inventory }))
      const other = await csvInventory(
        'some-other-bucket',
        inv,
        [['some-other-bucket', 'raw/a.txt', '1', '2026-12-06T00:00:00.000Z', 'x']],
        'Bucket, Key, Size, LastModifiedDate, ETag',
      )
      expect(await tryWith(other)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('lists bucket some-other-bucket') })
      await put(
        inv,
        'orc/manifest.json',
        JSON.stringify({ sourceBucket: source, destinationBucket: inv, fileFormat: 'ORC', fileSchema: 'struct<>', files: [] }),
      )
      expect(await tryWith(`s3://${inv}/orc/manifest.json`)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('ORC') })
      expect((await tryWith(`s3://${inv}/nothing/manifest.json`)).code).toBe('NOT_FOUND')
      expect((await tryWith(path.join(t.dir, 'no-such-manifest.json'))).code).toBe('NOT_FOUND')
      await put(inv, 'junk/manifest.json', '{ not json')
      expect((await tryWith(`s3://${inv}/junk/manifest.json`)).code).toBe('INVALID_ARGUMENT')
      const badKey = await csvInventory(
        source,
        inv,
        [[source, 'raw/%E0%A4%A.txt', '1', '2026-12-06T00:00:00.000Z', 'x']],
        'Bucket, Key, Size, LastModifiedDate, ETag',
        1,
      )
      expect(await tryWith(badKey)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('not URL-encoded') })
      const noSize = await csvInventory(source, inv, [[source, 'raw/a.txt', 'x']], 'Bucket, Key, ETag', 1)
      expect(await tryWith(noSize)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('Size') })
      const badSize = await csvInventory(
        source,
        inv,
        [[source, 'raw/a.txt', '-4', '2026-12-06T00:00:00.000Z', 'x']],
        'Bucket, Key, Size, LastModifiedDate, ETag',
        1,
      )
      expect((await tryWith(badSize)).code).toBe('INVALID_ARGUMENT')
      // A gzip bomb of one endless line is refused at the first 64 KiB, not inflated into memory.
      const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024, 'a'))
      await put(inv, 'bomb/data/one.csv.gz', bomb)
      const bombManifest = {
        sourceBucket: source,
        destinationBucket: inv,
        fileFormat: 'CSV',
        fileSchema: 'Bucket, Key, Size, ETag',
        files: [{ key: 'bomb/data/one.csv.gz' }],
      }
      await put(inv, 'bomb/manifest.json', JSON.stringify(bombManifest))
      const rssBefore = process.memoryUsage().rss
      expect(await tryWith(`s3://${inv}/bomb/manifest.json`)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('longer than') })
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(128 * 1024 * 1024)
      // A manifest too large to be one is refused before it is read.
      await put(inv, 'huge/manifest.json', Buffer.alloc(17 * 1024 * 1024, 32))
      expect(await tryWith(`s3://${inv}/huge/manifest.json`)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('larger than') })
      expect(await repo.resolve('main')).toBe(head)
      expect(await collect(repo.uncommitted('main'))).toEqual([])
    } finally {
      await repo.close()
    }
  })

  it('the CLI: varve import --inventory, spawned', async () => {
    const source = `cli-${randomBytes(4).toString('hex')}`
    const inv = `inv-${randomBytes(4).toString('hex')}`
    await s3.createBucket(source)
    await s3.createBucket(inv)
    for (const k of ['raw/a.txt', 'raw/b/c.txt']) await put(source, k, k)
    const rows = (await listing(source)).map((o) => [source, formEncode(o.key), String(o.size), o.modified, o.etag])
    const manifest = await csvInventory(source, inv, rows, 'Bucket, Key, Size, LastModifiedDate, ETag', 1)
    const env = s3CliEnv(s3.options)
    const cwd = path.join(t.dir, source)
    await fs.mkdir(cwd)
    expect((await varve(['init'], { cwd, env })).code).toBe(0)
    const r = await varve(['import', `s3://${source}/raw/`, 'main:lake/', '--inventory', manifest], { cwd, env })
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/Imported into main:lake\/ as [0-9a-f]{12}: 2 added/)
    expect((await varve(['cat', 'main:lake/b/c.txt'], { cwd, env })).stdout).toBe('raw/b/c.txt')
  })
})
