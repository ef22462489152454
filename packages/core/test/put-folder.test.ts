import fs from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Repository, type VarveError } from '@varve/core'
import { collect, tempDir } from './helpers.js'

// repo.putFolder (issue 24): the folder ingest as a library call, and its folder index (the checksum
// cache as git's index): what it may trust, and what it must never trust.

describe('repo.putFolder', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let repo: Repository
  let dir: string
  let cache: string
  const write = async (rel: string, content: string) => {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true })
    await fs.writeFile(path.join(dir, rel), content)
  }
  const indexFile = async () => {
    const folders = path.join(cache, 'folders')
    const [name] = await fs.readdir(folders)
    return path.join(folders, name!)
  }

  beforeEach(async () => {
    t = await tempDir('put-folder')
    repo = await Repository.init(path.join(t.dir, 'repo'), { author: 'test' })
    dir = path.join(t.dir, 'data')
    cache = path.join(t.dir, 'cache')
    await write('a.txt', 'a1')
    await write('sub/b.txt', 'b1')
    await write('sub/deep/c.txt', 'c1')
  })
  afterEach(async () => {
    await repo.close()
    await t.cleanup()
  })

  it('stages a folder under a path, and an unchanged re-put reads nothing', async () => {
    const first = await repo.putFolder('main', dir, 'data', { checksumCache: cache })
    expect(first).toMatchObject({ files: 3, uploaded: 3, skipped: 0, interrupted: false })
    expect((await collect(repo.uncommitted('main'))).map((c) => c.path)).toEqual(['data/a.txt', 'data/sub/b.txt', 'data/sub/deep/c.txt'])
    await repo.commit('main', { message: 'folder' })
    // A record is trusted once the file's mtime and ctime are 2 s older than the index (git's racy
    // rule; a ctime is always "now" after a write): wait that long, then index the files again.
    await new Promise((r) => setTimeout(r, 2100))
    await fs.rm(path.join(cache, 'folders'), { recursive: true })
    expect(await repo.putFolder('main', dir, 'data/', { checksumCache: cache })).toMatchObject({ uploaded: 0, skipped: 3 })
    const written = (await fs.stat(await indexFile())).mtimeMs
    await new Promise((r) => setTimeout(r, 20))
    // Every file known by its stat: nothing read, and the index is not written again.
    expect(await repo.putFolder('main', dir, 'data/', { checksumCache: cache })).toMatchObject({ uploaded: 0, skipped: 3 })
    expect((await fs.stat(await indexFile())).mtimeMs).toBe(written)
    expect(await repo.getBranch('main')).toMatchObject({ dirty: false })
    // Another writer changes the branch: the re-put puts the folder back, though every file is known by its stat.
    await repo.put('main', 'data/sub/b.txt', 'someone else')
    await repo.delete('main', 'data/a.txt')
    expect(await repo.putFolder('main', dir, 'data/', { checksumCache: cache })).toMatchObject({ uploaded: 2, skipped: 1 })
    expect(await collect(repo.uncommitted('main'))).toEqual([])
  })

  it('a file changed within the racy window, keeping its size and mtime, is still seen as changed', async () => {
    await repo.putFolder('main', dir, '', { checksumCache: cache })
    await repo.commit('main', { message: 'one' })
    const before = await fs.stat(path.join(dir, 'a.txt'))
    await fs.writeFile(path.join(dir, 'a.txt'), 'a2') // same size
    await fs.utimes(path.join(dir, 'a.txt'), before.atime, before.mtime) // same mtime, as a fast second write would leave it
    const r = await repo.putFolder('main', dir, '', { checksumCache: cache })
    expect(r).toMatchObject({ uploaded: 1 })
    expect(Buffer.from(await repo.get('main', 'a.txt')).toString()).toBe('a2')
  })

  it('another writer changing the branch is undone by a re-put', async () => {
    await repo.putFolder('main', dir, '', { checksumCache: cache })
    await repo.commit('main', { message: 'one' })
    await repo.put('main', 'sub/b.txt', 'someone else')
    await repo.delete('main', 'a.txt')
    const r = await repo.putFolder('main', dir, '', { checksumCache: cache })
    expect(r).toMatchObject({ uploaded: 2, skipped: 1 })
    expect(await collect(repo.uncommitted('main'))).toEqual([])
  })

  it('a torn or foreign index is ignored: files are hashed, not trusted', async () => {
    await repo.putFolder('main', dir, '', { checksumCache: cache })
    await repo.commit('main', { message: 'one' })
    const file = await indexFile()
    const bytes = await fs.readFile(file)
    for (const broken of [bytes.subarray(0, bytes.length - 7), Buffer.from('VFI1 not an index at all'), Buffer.alloc(0)]) {
      await fs.writeFile(file, broken)
      await fs.writeFile(path.join(dir, 'sub/b.txt'), 'b2')
      const r = await repo.putFolder('main', dir, '', { checksumCache: cache })
      expect(r.uploaded).toBe(1)
      await repo.commit('main', { message: 'b2' })
      await fs.writeFile(path.join(dir, 'sub/b.txt'), 'b1')
      expect((await repo.putFolder('main', dir, '', { checksumCache: cache })).uploaded).toBe(1)
      await repo.commit('main', { message: 'b1' })
    }
  })

  it('with no index, a file whose path the branch has is hashed and skipped when unchanged', async () => {
    await repo.putFolder('main', dir, '', { checksumCache: false })
    await repo.commit('main', { message: 'one' })
    await write('sub/b.txt', 'b2')
    expect(await repo.putFolder('main', dir, '', { checksumCache: false })).toMatchObject({ uploaded: 1, skipped: 2 })
  })

  it('a large file (streamed, not packed) is hashed in place: unchanged is skipped, same size but other bytes is staged', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 1)
    await fs.writeFile(path.join(dir, 'big.bin'), big)
    await repo.putFolder('main', dir, '', { checksumCache: false })
    await repo.commit('main', { message: 'one' })
    expect(await repo.putFolder('main', dir, '', { checksumCache: false })).toMatchObject({ uploaded: 0, skipped: 4 })
    big[big.length - 1] = 2
    await fs.writeFile(path.join(dir, 'big.bin'), big)
    expect(await repo.putFolder('main', dir, '', { checksumCache: false })).toMatchObject({ uploaded: 1, skipped: 3 })
    expect(Buffer.from(await repo.get('main', 'big.bin')).equals(big)).toBe(true)
  })

  it('refuses, before reading a file: a tag, a missing branch, a missing folder, a file, a bad name, a bad concurrency', async () => {
    await repo.createTag('v1', 'main')
    const fails = async (p: Promise<unknown>) =>
      p.then(
        () => expect.fail('resolved'),
        (e: unknown) => e as VarveError,
      )
    expect(await fails(repo.putFolder('v1', dir))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('v1 is a tag') })
    expect(await fails(repo.putFolder('nope', dir))).toMatchObject({ code: 'NOT_FOUND', message: 'branch nope not found' })
    expect(await fails(repo.putFolder('main', path.join(t.dir, 'missing')))).toMatchObject({ code: 'NOT_FOUND' })
    expect(await fails(repo.putFolder('main', path.join(dir, 'a.txt')))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await fails(repo.putFolder('main', dir, '', { concurrency: 0 }))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await fails(repo.putFolder('main', dir, '../up'))).toMatchObject({ code: 'INVALID_PATH' })
    await write('bad\u0001name.txt', 'x')
    const bad = await fails(repo.putFolder('main', dir, '', { checksumCache: cache }))
    expect(bad).toMatchObject({ code: 'INVALID_PATH', details: { file: path.join(dir, 'bad\u0001name.txt') } })
    expect(await collect(repo.uncommitted('main'))).toEqual([])
  })

  it('an abort stages what was read, and the index keeps it: running again continues', async () => {
    for (let i = 0; i < 300; i++) await write(`many/f${String(i).padStart(3, '0')}.txt`, `file ${i}`)
    const abort = new AbortController()
    let seen = 0
    const r = await repo.putFolder('main', dir, '', {
      checksumCache: cache,
      signal: abort.signal,
      onFile: () => {
        if (++seen === 50) abort.abort()
      },
    })
    expect(r.interrupted).toBe(true)
    expect(r.uploaded).toBeLessThan(303)
    const rest = await repo.putFolder('main', dir, '', { checksumCache: cache })
    expect(rest.uploaded + rest.skipped).toBe(303)
    expect(rest.uploaded).toBe(303 - r.uploaded)
    expect((await collect(repo.uncommitted('main'))).length).toBe(303)
  })
})
