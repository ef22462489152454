import { createHash, randomBytes } from 'node:crypto'
import fsSync from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { localFiles, Repository } from '@varve/core'
import { OffThreadSha256 } from '@varve/core/internal'
import { tempDir } from './helpers.js'

// Hashing on the worker thread, local files copied or adopted by a local store, and reads through
// reused buffers: each must give exactly the bytes and the address a plain SHA-256 gives.

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const MiB = 1024 * 1024

/** `bytes` cut into pieces of the given sizes (repeating), as fresh, shared or reused buffers. */
function* pieces(bytes: Buffer, sizes: number[]): Generator<Buffer> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, bytes.length - at)
    yield bytes.subarray(at, at + n)
    at += n
  }
}

describe('OffThreadSha256', () => {
  it('gives the digest a plain hash gives, for any cut, for shared memory, and when the caller reuses its buffer', async () => {
    const data = randomBytes(5 * MiB + 12345)
    for (const sizes of [[1], [100, 7], [MiB - 1], [3 * MiB], [64 * 1024, 1, MiB + 3]]) {
      if (sizes[0] === 1) {
        // a short stream is hashed inline: never wakes the worker
        const h = new OffThreadSha256()
        for (const p of pieces(data.subarray(0, 5000), sizes)) await h.update(p)
        expect(await h.digest()).toBe(sha(data.subarray(0, 5000)))
        continue
      }
      const bytes = sizes[0]! < 1024 ? data.subarray(0, 1.5 * MiB) : data // tiny pieces: enough to cross a piece
      const plain = new OffThreadSha256()
      const shared = new OffThreadSha256()
      const reused = new OffThreadSha256()
      const scratch = Buffer.alloc(4 * MiB)
      for (const p of pieces(bytes, sizes)) {
        await plain.update(p)
        const s = new Uint8Array(new SharedArrayBuffer(p.length))
        s.set(p)
        await shared.update(s)
        p.copy(scratch)
        await reused.update(scratch.subarray(0, p.length))
        scratch.fill(0xee) // the caller writes over its buffer as soon as update resolved
      }
      expect(await plain.digest()).toBe(sha(bytes))
      expect(await shared.digest()).toBe(sha(bytes))
      expect(await reused.digest()).toBe(sha(bytes))
    }
  })

  it('many streams at once, some abandoned midway, each gets its own digest', async () => {
    const streams = Array.from({ length: 12 }, (_, i) => randomBytes(2 * MiB + i * 999))
    const results = await Promise.all(
      streams.map(async (bytes, i) => {
        const h = new OffThreadSha256()
        for (const p of pieces(bytes, [300 * 1024])) {
          await h.update(p)
          if (i % 4 === 3 && p.byteOffset > MiB) {
            h.abandon()
            return 'abandoned'
          }
        }
        return h.digest()
      }),
    )
    results.forEach((r, i) => expect(r).toBe(i % 4 === 3 ? 'abandoned' : sha(streams[i]!)))
    const after = new OffThreadSha256()
    await after.update(streams[0]!)
    expect(await after.digest()).toBe(sha(streams[0]!))
  })

  it('a process that hashed on the threads exits by itself, after a digest and after an abandoned stream', async () => {
    // Found by hand: `varve put` of a 100 MB file printed "Staged" and never exited (a 'message'
    // listener added after Worker.unref() references the worker again on Node 20).
    const { execFile } = await import('node:child_process')
    const program = `
      import { OffThreadSha256 } from '@varve/core/internal'
      const done = new OffThreadSha256()
      await done.update(new Uint8Array(3 * 1024 * 1024))
      const hex = await done.digest()
      const dropped = new OffThreadSha256()
      await dropped.update(new Uint8Array(3 * 1024 * 1024))
      dropped.abandon()
      console.log(hex)
    `
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--input-type=module', '-e', program],
        { cwd: path.dirname(new URL(import.meta.url).pathname), timeout: 60_000 },
        (_e, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
      )
    })
    expect(out.stderr).toBe('')
    expect(out.stdout.trim()).toBe(sha(new Uint8Array(3 * MiB)))
    expect(out.code).toBe(0) // a hang ends in the 60 s kill (code null)
  }, 90_000)
})

describe('local files', () => {
  it('a local repository copies the ranges on the hashing thread; the entry has the address of the bytes', () =>
    inLake(true, async (repo, t) => {
      const a = randomBytes(3 * MiB + 5)
      const b = randomBytes(2 * MiB)
      await fs.writeFile(path.join(t.dir, 'a'), a)
      await fs.writeFile(path.join(t.dir, 'b'), b)
      const ranges = [{ file: path.join(t.dir, 'a'), start: 10, end: MiB }, path.join(t.dir, 'b'), { file: path.join(t.dir, 'a'), start: 2 * MiB }]
      const expected = Buffer.concat([a.subarray(10, MiB), b, a.subarray(2 * MiB)])
      const entry = await repo.put('main', 'x.bin', localFiles(ranges))
      expect(entry).toMatchObject({ address: sha(expected), size: expected.length })
      expect(Buffer.concat(await collectBytes(repo.readEntry(entry, { reuseBuffers: true }))).equals(expected)).toBe(true)
      // the sources stay: they were not given up
      expect((await fs.stat(path.join(t.dir, 'a'))).size).toBe(a.length)
      // a range past a file's end fails the put, and nothing is staged
      await expect(repo.put('main', 'short.bin', localFiles([{ file: path.join(t.dir, 'b'), start: 0, end: 3 * MiB }]))).rejects.toThrow(/ends/)
      await expect(repo.stat('main', 'short.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    }))

  it('content given up as a prefix of one file is that file: cut to size and moved into the store, not copied', () =>
    inLake(true, async (repo, t, lake) => {
      const bytes = randomBytes(4 * MiB)
      const file = path.join(t.dir, 'upload-data')
      await fs.writeFile(file, Buffer.concat([bytes, Buffer.from('trailing bytes no range names')]))
      const ino = (await fs.stat(file)).ino
      const entry = await repo.put(
        'main',
        'adopted.bin',
        localFiles(
          [
            { file, start: 0, end: MiB },
            { file, start: MiB, end: 4 * MiB },
          ],
          { adopt: true },
        ),
      )
      expect(entry.address).toBe(sha(bytes))
      const stored = path.join(lake, 'blocks', 'data', entry.address.slice(0, 2), entry.address.slice(2, 4), entry.address)
      expect((await fs.stat(stored)).ino).toBe(ino)
      expect((await fs.stat(stored)).size).toBe(bytes.length)
      expect(fsSync.existsSync(file)).toBe(false)

      // a last range from another file (an upload's short last part) is written after the prefix
      const head = randomBytes(2 * MiB)
      const tail = randomBytes(777)
      await fs.writeFile(file, Buffer.concat([head, randomBytes(MiB)]))
      await fs.writeFile(path.join(t.dir, 'tail'), tail)
      const headIno = (await fs.stat(file)).ino
      const joined = await repo.put('main', 'joined.bin', localFiles([{ file, start: 0, end: 2 * MiB }, path.join(t.dir, 'tail')], { adopt: true }))
      expect(joined.address).toBe(sha(Buffer.concat([head, tail])))
      expect((await fs.stat(path.join(lake, 'blocks', 'data', joined.address.slice(0, 2), joined.address.slice(2, 4), joined.address))).ino).toBe(headIno)
      expect(Buffer.from(await repo.get('main', 'joined.bin')).equals(Buffer.concat([head, tail]))).toBe(true)

      // ranges out of order cannot be adopted: the prefix read so far is copied, then the rest
      const other = randomBytes(3 * MiB)
      await fs.writeFile(file, other)
      const swapped = await repo.put(
        'main',
        'swapped.bin',
        localFiles(
          [
            { file, start: 0, end: MiB },
            { file, start: 2 * MiB, end: 3 * MiB },
            { file, start: MiB, end: 2 * MiB },
          ],
          { adopt: true },
        ),
      )
      const expected = Buffer.concat([other.subarray(0, MiB), other.subarray(2 * MiB), other.subarray(MiB, 2 * MiB)])
      expect(swapped.address).toBe(sha(expected))
      expect(Buffer.from(await repo.get('main', 'swapped.bin')).equals(expected)).toBe(true)

      // on another file system (tmpfs) the file cannot be moved: it is copied
      if (fsSync.existsSync('/dev/shm')) {
        const far = path.join('/dev/shm', `varve-adopt-${process.pid}`)
        await fs.writeFile(far, other)
        try {
          const copied = await repo.put('main', 'far.bin', localFiles([far], { adopt: true }))
          expect(copied.address).toBe(sha(other))
          expect(Buffer.from(await repo.get('main', 'far.bin')).equals(other)).toBe(true)
        } finally {
          await fs.rm(far, { force: true })
        }
      }
    }))

  it('a read through reused buffers fails with CORRUPT_OBJECT at its end when the stored bytes changed', () =>
    inLake(false, async (repo, _t, lake) => {
      const bytes = randomBytes(6 * MiB)
      const entry = await repo.put('main', 'big.bin', bytes)
      const stored = path.join(lake, 'blocks', 'data', entry.address.slice(0, 2), entry.address.slice(2, 4), entry.address)
      const fh = await fs.open(stored, 'r+')
      await fh.write(Buffer.from([bytes[3 * MiB]! ^ 1]), 0, 1, 3 * MiB)
      await fh.close()
      let got = 0
      await expect(
        (async () => {
          for await (const c of repo.readEntry(entry, { reuseBuffers: true })) got += c.byteLength
        })(),
      ).rejects.toMatchObject({ code: 'CORRUPT_OBJECT' })
      expect(got).toBe(bytes.length)
    }))
})

/** A fresh local repository in a temp folder, closed and removed after `fn`. */
async function inLake(durable: boolean, fn: (repo: Repository, t: { dir: string }, lake: string) => Promise<void>): Promise<void> {
  const t = await tempDir('local-files')
  const lake = path.join(t.dir, 'lake')
  const repo = await Repository.init(lake, { durable })
  try {
    await fn(repo, t, lake)
  } finally {
    await repo.close()
    await t.cleanup()
  }
}

/** Chunks copied out as they come (they are only valid until the next is asked for). */
async function collectBytes(chunks: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const out: Buffer[] = []
  for await (const c of chunks) out.push(Buffer.from(c))
  return out
}
