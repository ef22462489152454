import { createHash, randomBytes } from 'node:crypto'
import path from 'node:path'
import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest'
import { Repository, type VarveError } from '@varve/core'
import { createS3Client, S3BlockStore, S3RefStore } from '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { collect, tempDir } from './helpers/processes.js'
import { s3CliEnv, varve } from './helpers/varve-cli.js'
import { spawnServe } from './helpers/serve.js'

// Issue 25: zero-copy import from a real MinIO bucket (versioned and not) into a local repository and
// into one on the same MinIO; every read of an imported entry is pinned to the source identity.

let s3: TestS3
let client: S3Client
const fails = async (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('resolved'),
    (e: unknown) => e as VarveError,
  )

beforeAll(async () => {
  s3 = await startTestS3()
  client = createS3Client(s3.options)
}, 120_000)
afterAll(async () => {
  client?.destroy()
  await s3?.stop()
})

const putObject = (bucket: string, key: string, body: string | Uint8Array) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
const deleteObject = (bucket: string, key: string) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
async function listKeys(bucket: string): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }))
    for (const o of r.Contents ?? []) keys.push(`${o.Key}:${o.ETag}`)
    token = r.IsTruncated ? r.NextContinuationToken : undefined
  } while (token)
  return keys
}
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8')

for (const versioned of [false, true]) {
  describe(`varve import from a${versioned ? ' versioned' : 'n unversioned'} MinIO bucket into a local repository`, () => {
    let t: Awaited<ReturnType<typeof tempDir>>
    let repo: Repository
    let bucket: string

    beforeEach(async () => {
      t = await tempDir('import')
      bucket = `lake-${randomBytes(4).toString('hex')}`
      await s3.createBucket(bucket)
      if (versioned) await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }))
      await putObject(bucket, 'raw/events/day=1/part-0.json', '{"day":1}')
      await putObject(bucket, 'raw/events/day=2/part-0.json', '{"day":2}')
      await putObject(bucket, 'raw/notes.txt', 'notes v1')
      await putObject(bucket, 'other/x.txt', 'not under raw/')
      repo = await Repository.init(path.join(t.dir, 'repo'), { author: 'test', s3: s3.options })
    })
    afterEach(async () => {
      await repo.close()
      await t.cleanup()
    })

    it('imports a prefix without copying: the branch lists and reads the bucket objects, pinned', async () => {
      const r = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/', message: 'adopt raw' })
      expect(r).toMatchObject({ listed: 3, added: 3, changed: 0, removed: 0, bytes: 9 + 9 + 8, dryRun: false })
      expect(r.commit?.message).toBe('adopt raw')
      const paths = (await collect(repo.list('main', { prefix: 'lake/' }))).map((i) => i.path)
      expect(paths).toEqual(['lake/events/day=1/part-0.json', 'lake/events/day=2/part-0.json', 'lake/notes.txt'])
      expect(text(await repo.get('main', 'lake/notes.txt'))).toBe('notes v1')
      const entry = await repo.stat('main', 'lake/notes.txt')
      expect(entry.external).toMatchObject({ source: `s3://${bucket}`, key: 'raw/notes.txt' })
      if (versioned) expect(entry.external?.versionId).toBeTruthy()
      expect(text(Buffer.concat(await collect(repo.readEntry(entry, { start: 2, end: 5 }))))).toBe('tes')
      // Nothing was written to the repository's store for the bytes.
      expect(await repo.verify({ full: true })).toMatchObject({ problems: [] })
    })

    it('a re-import of an unchanged prefix writes nothing; one changed object commits exactly that', async () => {
      await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/' })
      const head = await repo.resolve('main')
      const again = await fails(repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/' }))
      expect(again.code).toBe('NOTHING_TO_COMMIT')
      expect(await repo.resolve('main')).toBe(head)
      await putObject(bucket, 'raw/notes.txt', 'notes v2')
      const r = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/' })
      expect(r).toMatchObject({ listed: 3, added: 0, changed: 1, unchanged: 2 })
      const changes = await collect(repo.diff(head, 'main'))
      expect(changes.map((c) => [c.path, c.type])).toEqual([['lake/notes.txt', 'changed']])
      expect(text(await repo.get('main', 'lake/notes.txt'))).toBe('notes v2')
    })

    it('a source object overwritten after import is refused on every read (or, versioned, still the imported bytes)', async () => {
      await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/' })
      const entry = await repo.stat('main', 'lake/notes.txt')
      await putObject(bucket, 'raw/notes.txt', 'overwritten!')
      if (versioned) {
        expect(text(await repo.get('main', 'lake/notes.txt'))).toBe('notes v1')
        expect(text(Buffer.concat(await collect(repo.readEntry(entry))))).toBe('notes v1')
        expect(await repo.verify()).toMatchObject({ problems: [] })
        return
      }
      for (const read of [
        () => repo.get('main', 'lake/notes.txt'),
        () => collect(repo.readEntry(entry)),
        () => collect(repo.readEntry(entry, { start: 0, end: 3 })),
        async () => collect(await repo.getStream('main', 'lake/notes.txt')),
      ]) {
        const err = await fails(read())
        expect(err.code).toBe('IMPORTED_OBJECT_CHANGED')
        expect(err.message).toContain('lake/notes.txt')
        expect(err.details).toMatchObject({ path: 'lake/notes.txt', key: 'raw/notes.txt' })
      }
      const v = await repo.verify()
      expect(v.problems.map((p) => p.path)).toEqual(['lake/notes.txt'])
    })

    it('a deleted source object is NOT_FOUND naming the source key', async () => {
      await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/' })
      await deleteObject(bucket, 'raw/notes.txt')
      if (versioned) {
        // The version is still there: a delete marker does not remove the imported bytes.
        expect(text(await repo.get('main', 'lake/notes.txt'))).toBe('notes v1')
        return
      }
      const err = await fails(repo.get('main', 'lake/notes.txt'))
      expect(err.code).toBe('NOT_FOUND')
      expect(err.message).toContain(`s3://${bucket}/raw/notes.txt`)
      expect(err.details).toMatchObject({ path: 'lake/notes.txt', key: 'raw/notes.txt' })
    })

    it('replace mirrors the source (removes what it lost); merge never deletes; dry-run writes nothing', async () => {
      await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/' })
      await deleteObject(bucket, 'raw/events/day=1/part-0.json')
      await putObject(bucket, 'raw/events/day=3/part-0.json', '{"day":3}')
      const head = await repo.resolve('main')
      const dry = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/', mode: 'replace', dryRun: true })
      expect(dry).toMatchObject({ added: 1, removed: 1, changed: 0, unchanged: 2, dryRun: true })
      expect(dry.commit).toBeUndefined()
      expect(await repo.resolve('main')).toBe(head)
      const merged = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/' })
      expect(merged).toMatchObject({ added: 1, removed: 0 })
      expect(await repo.stat('main', 'lake/events/day=1/part-0.json')).toBeDefined()
      const replaced = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/', mode: 'replace' })
      expect(replaced).toMatchObject({ added: 0, removed: 1 })
      expect((await collect(repo.list('main', { prefix: 'lake/events/' }))).map((i) => i.path)).toEqual([
        'lake/events/day=2/part-0.json',
        'lake/events/day=3/part-0.json',
      ])
    })

    it('commit: false stages the import for a later commit with other changes', async () => {
      await repo.put('main', 'readme.md', 'hello')
      const r = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/', commit: false })
      expect(r).toMatchObject({ added: 3, staged: true })
      expect(r.commit).toBeUndefined()
      // Committing over uncommitted changes is refused: they would be hidden.
      expect((await fails(repo.importObjects('main', { source: `s3://${bucket}/other/`, path: 'o/' }))).code).toBe('DIRTY_BRANCH')
      const c = await repo.commit('main', { message: 'import and readme' })
      expect((await collect(repo.diff(c.parents[0]!, c.id))).map((d) => d.path)).toEqual([
        'lake/events/day=1/part-0.json',
        'lake/events/day=2/part-0.json',
        'lake/notes.txt',
        'readme.md',
      ])
      expect(text(await repo.get('main', 'lake/events/day=2/part-0.json'))).toBe('{"day":2}')
    })

    it('copy: the bytes land in the repository (the source may then go); a re-import copies only what changed', async () => {
      const r = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/', copy: true })
      expect(r).toMatchObject({ listed: 3, added: 3, copied: true, bytes: 26 })
      const entry = await repo.stat('main', 'lake/notes.txt')
      expect(entry.external).toBeUndefined()
      expect(entry.metadata).toMatchObject({ 'imported-from': `s3://${bucket}/raw/notes.txt`, 'imported-etag': expect.any(String) })
      if (versioned) expect(entry.metadata?.['imported-version-id']).toBeTruthy()
      expect(entry.address).toBe(createHash('sha256').update('notes v1').digest('hex'))
      expect((await fails(repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/', copy: true }))).code).toBe('NOTHING_TO_COMMIT')
      await putObject(bucket, 'raw/notes.txt', 'notes v2')
      const again = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/', copy: true })
      expect(again).toMatchObject({ listed: 3, added: 0, changed: 1, unchanged: 2 })
      for (const key of ['raw/notes.txt', 'raw/events/day=1/part-0.json', 'raw/events/day=2/part-0.json']) await deleteObject(bucket, key)
      expect(text(await repo.get('main', 'lake/notes.txt'))).toBe('notes v2')
      expect(text(await repo.get('main', 'lake/events/day=1/part-0.json'))).toBe('{"day":1}')
      expect(await repo.verify({ full: true })).toMatchObject({ problems: [] })
    })

    it('prefix: a key prefix under the source, the same as naming it after the source', async () => {
      const r = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, prefix: 'events/', path: 'ev/' })
      expect(r).toMatchObject({ listed: 2, added: 2 })
      expect((await collect(repo.list('main', { prefix: 'ev/' }))).map((i) => i.path)).toEqual(['ev/day=1/part-0.json', 'ev/day=2/part-0.json'])
      const one = await repo.importObjects('main', { source: `s3://${bucket}/raw/`, prefix: 'notes.txt', path: 'n.txt' })
      expect(one).toMatchObject({ listed: 1, added: 1 })
      const bad = await fails(repo.importObjects('main', { source: `s3://${bucket}/raw/notes.txt`, prefix: 'x/' }))
      expect(bad.code).toBe('INVALID_ARGUMENT')
    })

    it('prefix boundaries: a single object imports exactly that key; odd keys map or are skipped, never escape', async () => {
      await putObject(bucket, 'a/b', 'just b')
      await putObject(bucket, 'a/b2', 'b2')
      await putObject(bucket, 'a/b/inside', 'inside')
      const one = await repo.importObjects('main', { source: `s3://${bucket}/a/b`, path: 'one/' })
      expect(one).toMatchObject({ listed: 1, added: 1 })
      expect((await collect(repo.list('main', { prefix: 'one/' }))).map((i) => i.path)).toEqual(['one/b'])
      const renamed = await repo.importObjects('main', { source: `s3://${bucket}/a/b`, path: 'exact/name.txt' })
      expect(renamed).toMatchObject({ added: 1 })
      expect(text(await repo.get('main', 'exact/name.txt'))).toBe('just b')
      // Keys with spaces, unicode and 1,024 bytes map as they are; a folder marker is skipped (MinIO
      // refuses `..` segments itself; the path check that skips them is the one the marker meets).
      // 1,024 bytes in segments MinIO accepts (a file system's 255 per name)
      const long = `odd/${['a', 'b', 'c', 'd'].map((c) => c.repeat(200)).join('/')}/${'e'.repeat(216)}`
      expect(Buffer.byteLength(long)).toBe(1024)
      for (const k of ['odd/with space+plus=.txt', 'odd/ünï©ødé/ß.txt', long, 'odd/dir/']) await putObject(bucket, k, 'odd')
      const odd = await repo.importObjects('main', { source: `s3://${bucket}/odd/`, path: 'odd/' })
      expect(odd).toMatchObject({ listed: 4, added: 3, skipped: 1 })
      expect(odd.skippedExamples).toEqual(['odd/dir/'])
      expect((await fails(repo.importObjects('main', { source: `s3://${bucket}/odd/../raw/` }))).code).toBe('INVALID_PATH')
      expect(text(await repo.get('main', 'odd/ünï©ødé/ß.txt'))).toBe('odd')
      expect(text(await repo.get('main', long))).toBe('odd')
      expect((await collect(repo.list('main'))).some((i) => i.path.includes('escape'))).toBe(false)
    })

    it('an empty source and an empty prefix; bad credentials are a typed error with nothing staged', async () => {
      expect((await fails(repo.importObjects('main', { source: `s3://${bucket}/nothing-here/` }))).code).toBe('NOTHING_TO_COMMIT')
      const root = await repo.importObjects('main', { source: `s3://${bucket}` })
      expect(root).toMatchObject({ listed: 4, added: 4 })
      const bad = await Repository.open(path.join(t.dir, 'repo'), {
        s3: { ...s3.options, credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong-secret-key' } },
      })
      try {
        const err = await fails(bad.importObjects('main', { source: `s3://${bucket}/other/`, path: 'again/', commit: false }))
        expect(err.code).toBe('PERMISSION_DENIED')
        expect(await collect(bad.uncommitted('main'))).toEqual([])
      } finally {
        await bad.close()
      }
    })

    it('runs the pre-commit gates on the import commit: a refusal moves nothing; the gate reads the imported bytes', async () => {
      let seen = ''
      repo.hooks.register({
        id: 'no-notes',
        events: ['pre-commit'],
        run: async (ctx) => {
          seen = text(await ctx.candidate.get('lake/notes.txt'))
          return { ok: false, message: 'notes are not data' }
        },
      })
      const head = await repo.resolve('main')
      const err = await fails(repo.importObjects('main', { source: `s3://${bucket}/raw/`, path: 'lake/' }))
      expect(err.code).toBe('HOOK_FAILED')
      expect(seen).toBe('notes v1')
      expect(await repo.resolve('main')).toBe(head)
    })

    it('a named source keeps its endpoint in the repository (never credentials); entries name it', async () => {
      const src = await repo.addSource('raw', `s3://${bucket}/raw`, { endpoint: s3.options.endpoint, region: 'us-east-1', forcePathStyle: true })
      expect(src).toEqual({ name: 'raw', url: `s3://${bucket}/raw/`, endpoint: s3.options.endpoint, region: 'us-east-1', forcePathStyle: true })
      expect(JSON.stringify(await repo.listSources())).not.toContain(s3.options.credentials.secretAccessKey)
      const env = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY }
      process.env.AWS_ACCESS_KEY_ID = s3.options.credentials.accessKeyId
      process.env.AWS_SECRET_ACCESS_KEY = s3.options.credentials.secretAccessKey
      try {
        const r = await repo.importObjects('main', { source: 'raw/events/', path: 'events/' })
        expect(r).toMatchObject({ added: 2 })
        expect((await repo.stat('main', 'events/day=1/part-0.json')).external).toMatchObject({ source: 'raw', key: 'raw/events/day=1/part-0.json' })
        expect(text(await repo.get('main', 'events/day=1/part-0.json'))).toBe('{"day":1}')
      } finally {
        for (const [k, v] of Object.entries(env))
          if (v === undefined) delete process.env[k]
          else process.env[k] = v
      }
      expect((await fails(repo.importObjects('main', { source: 'nope/' }))).code).toBe('NOT_FOUND')
    })
  })
}

describe('varve import into a repository on the same MinIO', () => {
  it('imports from another prefix of the bucket, refuses its own storage, and gc deletes no source object', async () => {
    const bucket = `shared-${randomBytes(4).toString('hex')}`
    await s3.createBucket(bucket)
    for (let i = 0; i < 30; i++) await putObject(bucket, `lake/part-${String(i).padStart(3, '0')}.bin`, randomBytes(100 + i))
    const repo = await Repository.init(`s3://${bucket}/repo`, { author: 'test', s3: s3.options })
    try {
      expect((await fails(repo.importObjects('main', { source: `s3://${bucket}/repo/` }))).code).toBe('INVALID_ARGUMENT')
      expect((await fails(repo.importObjects('main', { source: `s3://${bucket}` }))).code).toBe('INVALID_ARGUMENT')
      const before = (await listKeys(bucket)).filter((k) => k.startsWith('lake/'))
      const r = await repo.importObjects('main', { source: `s3://${bucket}/lake/`, path: 'data/' })
      expect(r).toMatchObject({ listed: 30, added: 30 })
      // An unchanged re-import sends no write to the repository's store, checkpoints included: four
      // folders are listed as four pages, each past `checkpointEvery`.
      for (let i = 0; i < 12; i++) await putObject(bucket, `multi/d${i % 4}/part-${i}.bin`, randomBytes(10))
      await repo.importObjects('main', { source: `s3://${bucket}/multi/`, path: 'multi/', checkpointEvery: 2 })
      const counting = createS3Client(s3.options)
      const writes: string[] = []
      counting.middlewareStack.add(
        (next, context) => async (args) => {
          if (/^(Put|Copy|Delete|Upload|Create|Complete)/.test(context.commandName ?? '')) writes.push(context.commandName!)
          return next(args)
        },
        { step: 'initialize', name: 'countWrites' },
      )
      const where = { bucket, prefix: 'repo/' }
      const watched = await Repository.open(
        { blocks: new S3BlockStore({ client: counting, ...where }), refs: new S3RefStore({ client: counting, ...where }) },
        { s3: s3.options },
      )
      try {
        const again = await fails(watched.importObjects('main', { source: `s3://${bucket}/multi/`, path: 'multi/', checkpointEvery: 2 }))
        expect(again.code).toBe('NOTHING_TO_COMMIT')
        expect(writes).toEqual([])
      } finally {
        await watched.close()
        counting.destroy()
      }
      await repo.createBranch('exp', 'main')
      await repo.delete('exp', 'data/part-000.bin')
      await repo.commit('exp', { message: 'drop one' })
      await repo.deleteBranch('exp')
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      expect((await listKeys(bucket)).filter((k) => k.startsWith('lake/'))).toEqual(before)
      expect(await repo.verify({ full: true })).toMatchObject({ problems: [] })
      expect((await repo.get('main', 'data/part-007.bin')).byteLength).toBe(107)
      // Copied bytes are the repository's own: gc right after keeps them, and they outlive the source.
      await putObject(bucket, 'copied/a.bin', randomBytes(5000))
      await repo.importObjects('main', { source: `s3://${bucket}/copied/`, path: 'copied/', copy: true })
      const copied = await repo.get('main', 'copied/a.bin')
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      await deleteObject(bucket, 'copied/a.bin')
      expect(Buffer.compare(await repo.get('main', 'copied/a.bin'), copied)).toBe(0)
      expect(await repo.verify({ full: true })).toMatchObject({ problems: [] })
    } finally {
      await repo.close()
    }
  })
})

describe('the CLI: varve import, varve source, and every read of what they import', () => {
  it('imports, re-imports (nothing to commit), reads with get/cat, and refuses a changed object', async () => {
    const t = await tempDir('import-cli')
    try {
      const bucket = `cli-${randomBytes(4).toString('hex')}`
      await s3.createBucket(bucket)
      await putObject(bucket, 'raw/a.txt', 'alpha')
      await putObject(bucket, 'raw/sub/b.txt', 'beta')
      const env = { ...s3CliEnv(s3.options), VARVE_AUTHOR: 'cli-test' }
      const run = (...args: string[]) => varve(args, { cwd: t.dir, env })
      expect((await run('init')).code).toBe(0)
      const first = await run('import', `s3://${bucket}/raw/`, 'main:lake/', '-m', 'adopt raw')
      expect(first.stderr).toBe('')
      expect(first.code).toBe(0)
      expect(first.stdout).toMatch(/^Imported into main:lake\/ as [0-9a-f]{12}: 2 added, 0 changed, 0 removed, 0 unchanged \(9 B referenced, none copied\)/)
      const again = await run('import', `s3://${bucket}/raw/`, 'main:lake/')
      expect(again.code).toBe(1)
      expect(again.stderr).toContain('NOTHING_TO_COMMIT')
      expect((await run('cat', 'main:lake/sub/b.txt')).stdout).toBe('beta')
      const dry = await run('import', `s3://${bucket}/raw/`, 'main:lake/', '--replace', '--dry-run', '--json')
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, added: 0, removed: 0, unchanged: 2 })
      await putObject(bucket, 'raw/a.txt', 'ALPHA, rewritten')
      const changed = await run('cat', 'main:lake/a.txt')
      expect(changed.code).toBe(1)
      expect(changed.stderr).toContain('IMPORTED_OBJECT_CHANGED')
      expect(changed.stderr).toContain('lake/a.txt')
      expect((await run('get', 'main:lake/', path.join(t.dir, 'out'))).stderr).toContain('IMPORTED_OBJECT_CHANGED')
      const verify = await run('verify')
      expect(verify.code).not.toBe(0)
      expect(verify.stdout + verify.stderr).toContain('lake/a.txt')
      expect((await run('source', 'add', 'raw', `s3://${bucket}/raw/`, '--endpoint', s3.options.endpoint, '--path-style')).code).toBe(0)
      const named = await run('import', 'raw/sub/', 'main:named/')
      expect(named.code).toBe(0)
      expect((await run('cat', 'main:named/b.txt')).stdout).toBe('beta')
      expect((await run('source', 'list')).stdout).toContain(`s3://${bucket}/raw/`)
    } finally {
      await t.cleanup()
    }
  })
})

describe('varve serve: the imports route, its grants, and the gateway reading imported objects', () => {
  it('imports with an admin key, refuses a commit-only key, serves the bytes over S3 and refuses a changed object', async () => {
    const t = await tempDir('import-serve')
    const bucket = `srv-${randomBytes(4).toString('hex')}`
    await s3.createBucket(bucket)
    await putObject(bucket, 'raw/a.txt', 'alpha')
    const env = s3CliEnv(s3.options)
    const repoDir = path.join(t.dir, 'repo')
    expect((await varve(['init', '--repo', repoDir], { cwd: t.dir, env })).code).toBe(0)
    const admin = { accessKey: 'AKIAADMINIMPORT00001', secretKey: 'admin-secret-for-import-tests-0001' }
    const writer = { accessKey: 'AKIAWRITERIMPORT0001', secretKey: 'writer-secret-for-import-tests-001' }
    const config = path.join(t.dir, 'serve.json')
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(
        config,
        JSON.stringify({
          listen: '127.0.0.1:0',
          repositories: [{ name: 'lake', location: repoDir }],
          keys: [
            { ...admin, grants: [{ repositories: ['*'], branches: ['*'], actions: ['read', 'write', 'commit', 'admin'] }] },
            { ...writer, grants: [{ repositories: ['lake'], branches: ['*'], actions: ['read', 'write', 'commit'] }] },
          ],
        }),
      ),
    )
    const server = await spawnServe(['--config', config], { cwd: t.dir, env })
    const api = (key: typeof admin, body: unknown) =>
      fetch(`${server.url}/api/v1/repositories/lake/branches/main/imports`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${key.accessKey}:${key.secretKey}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const gateway = createS3Client({
      endpoint: server.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: admin.accessKey, secretAccessKey: admin.secretKey },
    })
    try {
      const refused = await api(writer, { source: `s3://${bucket}/raw/`, path: 'lake/' })
      expect(refused.status).toBe(403)
      expect((await refused.json()).error.code).toBe('PERMISSION_DENIED')
      // Named sources say where the server reads from: admin only, to list and to change.
      const basic = (key: typeof admin) => `Basic ${Buffer.from(`${key.accessKey}:${key.secretKey}`).toString('base64')}`
      expect((await fetch(`${server.url}/api/v1/repositories/lake/sources`, { headers: { authorization: basic(writer) } })).status).toBe(403)
      const put = (key: typeof admin) =>
        fetch(`${server.url}/api/v1/repositories/lake/sources/raw`, {
          method: 'PUT',
          headers: { authorization: basic(key), 'content-type': 'application/json' },
          body: JSON.stringify({ url: `s3://${bucket}/raw/`, endpoint: s3.options.endpoint, forcePathStyle: true }),
        })
      expect((await put(writer)).status).toBe(403)
      expect((await put(admin)).status).toBe(200)
      const listed = await fetch(`${server.url}/api/v1/repositories/lake/sources`, { headers: { authorization: basic(admin) } })
      expect(await listed.json()).toMatchObject({ sources: [{ name: 'raw', url: `s3://${bucket}/raw/` }] })
      // An inventory manifest over HTTP is a URL only: a path would have the server read its own files.
      for (const inventory of ['/etc/passwd', '../manifest.json', 'file:///etc/passwd']) {
        const local = await api(admin, { source: `s3://${bucket}/raw/`, path: 'lake/', inventory })
        expect(local.status).toBe(400)
        expect((await local.json()).error.code).toBe('INVALID_ARGUMENT')
      }
      const done = await api(admin, { source: `s3://${bucket}/raw/`, path: 'lake/', message: 'over the API' })
      expect(done.status).toBe(201)
      expect(await done.json()).toMatchObject({ added: 1, commit: { message: 'over the API', author: admin.accessKey } })
      const { GetObjectCommand } = await import('@aws-sdk/client-s3')
      const got = await gateway.send(new GetObjectCommand({ Bucket: 'lake', Key: 'main/lake/a.txt' }))
      expect(await got.Body!.transformToString()).toBe('alpha')
      await putObject(bucket, 'raw/a.txt', 'changed under the import')
      const err = await gateway.send(new GetObjectCommand({ Bucket: 'lake', Key: 'main/lake/a.txt' })).then(
        () => expect.fail('served changed bytes'),
        (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e,
      )
      expect(err.$metadata?.httpStatusCode).toBe(412)
    } finally {
      gateway.destroy()
      await server.stop()
      await t.cleanup()
    }
  })
})

describe("the README's 'Adopt an existing bucket' commands", () => {
  it('run as written (the bucket and endpoint are this MinIO)', async () => {
    const readme = await import('node:fs/promises').then((fs) => fs.readFile(path.join(import.meta.dirname, '..', 'README.md'), 'utf8'))
    const block = /## Adopt an existing bucket[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!
    const t = await tempDir('import-readme')
    try {
      await s3.createBucket('lake')
      await putObject('lake', 'raw/events/day=1/a.json', '{"a":1}')
      const env = {
        AWS_REGION: s3.options.region,
        AWS_ACCESS_KEY_ID: s3.options.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.options.credentials.secretAccessKey,
      }
      const lines = block.trim().split('\n')
      expect(lines).toHaveLength(3)
      for (const line of lines) {
        const args = line
          .replace('http://127.0.0.1:9000', s3.options.endpoint)
          .match(/"[^"]*"|\S+/g)!
          .slice(1)
          .map((a) => a.replace(/^"|"$/g, ''))
        const r = await varve(args, { cwd: t.dir, env })
        expect(r.stderr, line).toBe('')
        expect(r.code, line).toBe(0)
      }
      expect((await varve(['cat', 'main:events/day=1/a.json'], { cwd: t.dir, env })).stdout).toBe('{"a":1}')
    } finally {
      await t.cleanup()
    }
  })
})

describe('an import killed at random points (SIGKILL), then run again', () => {
  it('ends with the tree of an uninterrupted import; verify is clean; gc deletes no source object', async () => {
    const t = await tempDir('import-crash')
    const bucket = `crash-${randomBytes(4).toString('hex')}`
    await s3.createBucket(bucket)
    const N = 3000
    const keys = Array.from({ length: N }, (_, i) => `raw/day=${Math.floor(i / 500)}/part-${String(i).padStart(5, '0')}.json`)
    for (let i = 0; i < N; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => putObject(bucket, k, `{"k":"${k}"}`)))
    const worker = path.join(import.meta.dirname, 'workers', 'import-worker.mjs')
    // A checkpoint every 500 objects (a page is 1,000): a killed run leaves one, and the next continues from it.
    const env = { ...process.env, TEST_S3: JSON.stringify(s3.options), CHECKPOINT_EVERY: '500' }
    const { spawn } = await import('node:child_process')
    /** Runs the worker; kills it after `afterLines` progress lines (and a random delay) unless it finishes first. */
    const run = (location: string, afterLines = Infinity) =>
      new Promise<{ killed: boolean; root?: string; resumed?: boolean }>((resolve, reject) => {
        const child = spawn(process.execPath, [worker, location, `s3://${bucket}/raw/`], { env, stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        let err = ''
        let armed = false
        child.stdout.on('data', (d) => {
          out += d
          if (!armed && out.split('\n').filter((l) => l.startsWith('LISTED')).length >= afterLines) {
            armed = true
            // The first kill comes at once (the run must not finish first); later ones at a random moment.
            setTimeout(() => child.kill('SIGKILL'), afterLines === 1 ? 0 : Math.floor(Math.random() * 40))
          }
        })
        child.stderr.on('data', (d) => (err += d))
        child.on('exit', (code, signal) => {
          const root = /DONE (\S+)/.exec(out)?.[1]
          const resumed = out.includes('RESUMED ')
          if (signal === 'SIGKILL') resolve({ killed: !root, resumed, ...(root ? { root } : {}) })
          else if (code === 0) resolve({ killed: false, root: root!, resumed })
          else reject(new Error(`import worker failed (${code}): ${err.slice(-2000)}`))
        })
      })
    try {
      const reference = `s3://${bucket}/repo-reference`
      await (await Repository.init(reference, { s3: s3.options })).close()
      const expected = (await run(reference)).root!
      const location = `s3://${bucket}/repo-crashed`
      await (await Repository.init(location, { s3: s3.options })).close()
      let kills = 0
      let resumes = 0
      for (let attempt = 0; attempt < 4; attempt++) {
        const r = await run(location, 1 + (attempt % 3))
        if (r.killed) kills++
        if (r.resumed) resumes++
      }
      const final = await run(location)
      if (final.resumed) resumes++
      expect(final.root).toBe(expected)
      // Killed after at least one page, runs again continue from a checkpoint (not from the start).
      expect(resumes).toBeGreaterThan(0)
      const sourceBefore = (await listKeys(bucket)).filter((k) => k.startsWith('raw/'))
      expect(sourceBefore).toHaveLength(N)
      const repo = await Repository.open(location, { s3: s3.options })
      try {
        expect(await repo.verify()).toMatchObject({ problems: [] })
        await repo.gc({ retainDays: 0, graceSeconds: 0 })
        expect((await listKeys(bucket)).filter((k) => k.startsWith('raw/'))).toEqual(sourceBefore)
        expect(await repo.verify({ full: true })).toMatchObject({ problems: [] })
        expect((await repo.getCommit('main')).root).toBe(expected)
      } finally {
        await repo.close()
      }
      expect(kills).toBeGreaterThan(0)
    } finally {
      await t.cleanup()
    }
  }, 300_000)
})

describe('S3Source.list: many listers at once, the order of one walk', () => {
  it('gives exactly the keys and order of a sequential ListObjectsV2 walk (ListObjectVersions on a versioned bucket)', async () => {
    const { S3Source } = await import('@varve/s3-adapter')
    const bucket = `order-${randomBytes(4).toString('hex')}`
    await s3.createBucket(bucket)
    const odd = [
      'a.txt',
      'a/b',
      'a0',
      'a/c/d',
      'a-b',
      'a/',
      'b',
      'é/x',
      '😀',
      '\uE000/x',
      'z z/ä',
      'deep/1/2/3/4/5.txt',
      'x',
      'a&b/<c>',
      '"q"/\'s\'',
      'amp&amp;',
      'tab\tkey',
    ]
    const many = Array.from({ length: 2600 }, (_, i) => `big/${String(i % 7)}/f-${i}`)
    const flat = Array.from({ length: 1200 }, (_, i) => `flat-${String(i).padStart(5, '0')}`)
    const keys = [...odd, ...many, ...flat].map((k) => `p/${k}`)
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => putObject(bucket, k, 'x')))
    // The SDK's own walk and parse, field by field, against the listers' (which read the XML themselves).
    const sequentialObjects: string[] = []
    let token: string | undefined
    do {
      const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'p/', ...(token ? { ContinuationToken: token } : {}) }))
      for (const o of r.Contents ?? []) sequentialObjects.push(`${o.Key} ${o.Size} ${o.ETag?.replace(/"/g, '')} ${o.LastModified?.getTime()}`)
      token = r.IsTruncated ? r.NextContinuationToken : undefined
    } while (token)
    const sequential = sequentialObjects.map((l) => l.split(' ').slice(0, -3).join(' '))
    const source = new S3Source(`s3://${bucket}`, `s3://${bucket}/`, bucket, client)
    const parallel: string[] = []
    const parallelObjects: string[] = []
    for await (const page of source.list('p/'))
      for (const o of page) {
        parallel.push(o.key)
        parallelObjects.push(`${o.key} ${o.size} ${o.etag} ${o.lastModified}`)
      }
    expect(parallelObjects).toEqual(sequentialObjects)
    expect(parallel).toEqual(sequential)
    expect(parallel).toHaveLength(keys.length)
    // A listing stopped early stops its listers.
    for await (const page of source.list('p/')) if (page.length) break
    // A resumed listing (an import continuing from its checkpoint) starts after a key, wherever it falls.
    const points = (order: string[]) => [
      order[0]!,
      order[5]!,
      order[17]!,
      order[order.length - 1]!,
      'p/',
      'p/a/',
      'p/a/c/d0',
      'p/big/',
      'p/big/3/',
      'p/big/3/f-1000', // not a key: between two
      'p/big/6/f-1000',
      'p/flat-00500',
      'p/zzz',
    ]
    const isAfter = (key: string, at: string) => Buffer.compare(Buffer.from(key), Buffer.from(at)) > 0
    for (const at of points(sequential)) {
      const resumed: string[] = []
      for await (const page of source.list('p/', { startAfter: at })) for (const o of page) resumed.push(o.key)
      expect(resumed, `after ${at}`).toEqual(sequential.filter((k) => isAfter(k, at)))
    }

    // Versioned: the same walk on ListObjectVersions gives each key's current version; rewritten
    // keys have older versions, deleted ones a delete marker on top (and are not listed).
    await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }))
    const rewritten = keys.filter((_, i) => i % 5 === 0)
    for (let i = 0; i < rewritten.length; i += 100) await Promise.all(rewritten.slice(i, i + 100).map((k) => putObject(bucket, k, 'y')))
    const deleted = keys.filter((_, i) => i % 7 === 3)
    for (let i = 0; i < deleted.length; i += 100) await Promise.all(deleted.slice(i, i + 100).map((k) => deleteObject(bucket, k)))
    const expected: string[] = []
    let marker: { KeyMarker?: string; VersionIdMarker?: string } = {}
    for (;;) {
      const r = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'p/', ...marker }))
      for (const v of r.Versions ?? []) if (v.IsLatest) expected.push(`${v.Key} ${v.VersionId === 'null' ? '' : v.VersionId}`)
      if (!r.IsTruncated) break
      marker = { KeyMarker: r.NextKeyMarker!, VersionIdMarker: r.NextVersionIdMarker! }
    }
    const versioned = new S3Source(`s3://${bucket}`, `s3://${bucket}/`, bucket, client)
    const listed: string[] = []
    for await (const page of versioned.list('p/')) for (const o of page) listed.push(`${o.key} ${o.versionId ?? ''}`)
    expect(listed).toEqual(expected)
    expect(listed).toHaveLength(keys.length - deleted.length)
    for (const at of points(listed.map((l) => l.split(' ')[0]!))) {
      const resumed: string[] = []
      for await (const page of versioned.list('p/', { startAfter: at })) for (const o of page) resumed.push(`${o.key} ${o.versionId ?? ''}`)
      expect(resumed, `after ${at}`).toEqual(expected.filter((l) => isAfter(l.split(' ')[0]!, at)))
    }
    // (MinIO keeps no versions of a folder marker such as `p/a/`.)
    expect(listed.filter((l) => !l.endsWith(' ')).length).toBe(rewritten.filter((k) => !deleted.includes(k) && !k.endsWith('/')).length)
  })
})
