import fsCb from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { systemRandom, type RandomSource } from '../util/clock.js'
import type { FileHandle } from 'node:fs/promises'
import { LocalFiles } from './local-files.js'
import type { BlockStore, ByteSource, ObjectInfo, PutOptions, StreamOptions } from './block-store.js'

export interface LocalBlockStoreOptions {
  /** fsync every object before it becomes visible (default true). Off only for throwaway data. */
  readonly durable?: boolean
  readonly random?: RandomSource
}

const KEY_RE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/
const TMP_DIR = '.tmp'

export function validateBlockKey(key: string): string {
  if (!KEY_RE.test(key) || key.split('/').some((s) => s === '.' || s === '..') || key.startsWith(TMP_DIR))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `invalid block key ${JSON.stringify(key)}`)
  return key
}

/** A callback-style fs call as a promise (its first result only). */
/** A durable stream write starts flushing what it wrote every this many bytes. */
const FLUSH_EVERY = 32 * 1024 * 1024

function fdCall<T>(call: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))))
}

/** Range reads up to this size are not clamped by a stat first. */
const SMALL_RANGE = 4 * 1024 * 1024

/**
 * A block store in a directory: one file per key. Every write goes to a temp file, is fsynced and is
 * then renamed (or hard-linked, for put-if-absent) into place, so a crash never leaves a partial
 * object under its final name.
 */
export class LocalBlockStore implements BlockStore {
  readonly root: string
  readonly #durable: boolean
  readonly #random: RandomSource
  readonly #knownDirs = new Set<string>()

  /** Every read is a fresh buffer (see BlockStore.ownedReads). */
  readonly ownedReads = true

  constructor(root: string, options: LocalBlockStoreOptions = {}) {
    this.root = path.resolve(root)
    this.#durable = options.durable ?? true
    this.#random = options.random ?? systemRandom
  }

  #file(key: string): string {
    return path.join(this.root, validateBlockKey(key))
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#knownDirs.has(dir)) return
    await fs.mkdir(dir, { recursive: true })
    this.#knownDirs.add(dir)
  }

  async #writeTemp(data: ByteSource): Promise<string> {
    const dir = path.join(this.root, TMP_DIR)
    await this.#ensureDir(dir)
    const tmp = path.join(dir, `${Date.now()}-${this.#random.hex(8)}`)
    if (data instanceof Uint8Array) {
      await this.#writeBytes(tmp, data)
      return tmp
    }
    if (data instanceof LocalFiles) {
      await this.#copyFiles(tmp, data)
      return tmp
    }
    const fh = await fs.open(tmp, 'wx')
    let flushing: Promise<void> | undefined
    try {
      // Durable streams flush as they go: a datasync starts every FLUSH_EVERY bytes (one at a time,
      // not awaited), so the disk writes while the stream still arrives and the final sync finds
      // little left. Without it a 1 GiB object waited ~2 s here for its whole flush after the last byte.
      let unflushed = 0
      for await (const chunk of data) {
        await fh.write(chunk)
        unflushed += chunk.byteLength
        if (this.#durable && unflushed >= FLUSH_EVERY && !flushing) {
          unflushed = 0
          flushing = fh.datasync().finally(() => (flushing = undefined))
        }
      }
      await flushing
      if (this.#durable) await fh.sync()
    } catch (err) {
      await flushing?.catch(() => {})
      await fh.close().catch(() => {})
      await fs.rm(tmp, { force: true })
      throw err
    }
    await fh.close()
    return tmp
  }

  /** Local files copied (or adopted) into a new file on the hashing thread, flushed as it grows (see #writeTemp). */
  async #copyFiles(file: string, data: LocalFiles): Promise<void> {
    let flushedAt = 0
    try {
      await data.writeTo(file, (fd, size) => {
        if (!this.#durable || size - flushedAt < FLUSH_EVERY) return undefined
        flushedAt = size
        return fdCall<void>((cb) => fsCb.fdatasync(fd, cb))
      })
      if (this.#durable) {
        const fd = await fdCall<number>((cb) => fsCb.open(file, 'r', cb))
        try {
          await fdCall<void>((cb) => fsCb.fsync(fd, cb))
        } finally {
          await fdCall<void>((cb) => fsCb.close(fd, cb))
        }
      }
    } catch (err) {
      await fs.rm(file, { force: true })
      throw err
    }
  }

  /**
   * Writes (and, when durable, fsyncs) a new file from one buffer through plain file descriptors: a
   * commit or a tree pack waits for this before its ref moves, and FileHandle objects add main-thread
   * work to every step.
   */
  async #writeBytes(file: string, data: Uint8Array): Promise<void> {
    const fd = await fdCall<number>((cb) => fsCb.open(file, 'wx', cb))
    try {
      for (let done = 0; done < data.byteLength; ) done += await fdCall<number>((cb) => fsCb.write(fd, data, done, data.byteLength - done, null, cb))
      if (this.#durable) await fdCall<void>((cb) => fsCb.fsync(fd, cb))
    } catch (err) {
      await fdCall<void>((cb) => fsCb.close(fd, cb)).catch(() => {})
      await fs.unlink(file).catch(() => {})
      throw err
    }
    await fdCall<void>((cb) => fsCb.close(fd, cb))
  }

  async put(key: string, data: ByteSource, options: PutOptions = {}): Promise<boolean> {
    const file = this.#file(key)
    if (options.ifAbsent && (await exists(file))) return false
    const tmp = await this.#writeTemp(data)
    try {
      await this.#ensureDir(path.dirname(file))
      if (options.ifAbsent) {
        try {
          await fs.link(tmp, file) // atomic create-if-absent
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
          throw err
        }
      } else {
        await fs.rename(tmp, file)
      }
      return true
    } finally {
      // unlink, not rm: rm stats first, one more call per object on the hot path. After a rename the
      // temp name is gone already (ENOENT).
      await fs.unlink(tmp).catch(() => {})
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await fs.readFile(this.#file(key))
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
  }

  /** The object's file opened for reading, or undefined when there is none. */
  async #open(key: string): Promise<fs.FileHandle | undefined> {
    try {
      return await fs.open(this.#file(key), 'r')
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
  }

  /**
   * Bytes [start, end), through plain file descriptors: a range read is what reading a packed tree
   * node costs, and FileHandle objects cost ~3x the main-thread CPU of the callback API per read.
   */
  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    let fd: number
    try {
      fd = await fdCall<number>((cb) => fsCb.open(this.#file(key), 'r', cb))
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
    try {
      // Small ranges skip the stat: a read past the end returns fewer bytes, which is the clamp.
      // Large ones are clamped first, not allocated blind.
      const from = Math.max(0, start)
      let want = Math.max(0, end - from)
      if (want > SMALL_RANGE) want = Math.max(0, Math.min(end, (await fdCall<fsCb.Stats>((cb) => fsCb.fstat(fd, cb))).size) - from)
      const buf = Buffer.allocUnsafe(want)
      let read = 0
      while (read < buf.length) {
        const n = await fdCall<number>((cb) => fsCb.read(fd, buf, read, buf.length - read, from + read, cb))
        if (n === 0) break
        read += n
      }
      return buf.subarray(0, read)
    } finally {
      await fdCall<void>((cb) => fsCb.close(fd, cb)).catch(() => {})
    }
  }

  async getStream(key: string, options: StreamOptions = {}): Promise<AsyncIterable<Uint8Array> | undefined> {
    const fh = await this.#open(key)
    if (!fh || !options.reuseBuffers) return fh?.createReadStream({ highWaterMark: 1 << 20 }) // closes the handle when done or destroyed
    return readReusing(fh)
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const st = await fs.stat(this.#file(key))
      return { key, size: st.size, lastModified: st.mtimeMs }
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.#file(key), { force: true })
  }

  async touch(key: string): Promise<boolean> {
    const now = new Date()
    try {
      await fs.utimes(this.#file(key), now, now)
      return true
    } catch (err) {
      if (isMissing(err)) return false
      throw err
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const dest = this.#file(to)
    await this.#ensureDir(path.dirname(dest))
    await fs.rename(this.#file(from), dest)
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf('/')
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash)
    yield* this.#walk(dirKey, prefix)
  }

  async *#walk(dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
    let names: import('node:fs').Dirent[]
    try {
      names = await fs.readdir(path.join(this.root, dirKey), { withFileTypes: true })
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return
      throw err
    }
    // Sort as keys sort: a directory "a" holds keys "a/...", which come after "a.b" ('.' < '/').
    const items = names
      .filter((d) => !(dirKey === '' && d.name === TMP_DIR))
      .map((d) => ({ d, sortKey: d.isDirectory() ? `${d.name}/` : d.name }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
    // Files of one directory are stat'ed in concurrent batches (a GC sweep lists millions of them).
    let files: string[] = []
    const flush = async function* (this: LocalBlockStore): AsyncGenerator<ObjectInfo> {
      const stats = await Promise.all(files.map((key) => fs.stat(path.join(this.root, key)).catch(() => undefined)))
      for (let i = 0; i < files.length; i++) {
        const st = stats[i]
        if (st) yield { key: files[i]!, size: st.size, lastModified: st.mtimeMs }
      }
      files = []
    }
    for (const { d } of items) {
      const key = dirKey ? `${dirKey}/${d.name}` : d.name
      if (d.isDirectory()) {
        yield* flush.call(this)
        const asDir = `${key}/`
        if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) yield* this.#walk(key, prefix)
      } else if (key.startsWith(prefix)) {
        files.push(key)
        if (files.length >= 64) yield* flush.call(this)
      }
    }
    yield* flush.call(this)
  }

  /** Removes temp files older than `olderThanMs` left by crashed writers. */
  async sweepTemporary(olderThanMs: number, now = Date.now()): Promise<number> {
    const dir = path.join(this.root, TMP_DIR)
    let removed = 0
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      const st = await fs.stat(path.join(dir, name)).catch(() => undefined)
      if (st && now - st.mtimeMs > olderThanMs) {
        await fs.rm(path.join(dir, name), { force: true })
        removed++
      }
    }
    return removed
  }
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT'

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file)
    return true
  } catch {
    return false
  }
}

/** Pieces of reads through reused buffers: fewer, larger pieces cost less per byte (two per stream). */
const READ_PIECE = 4 << 20

/**
 * Reads into two buffers of shared memory in turn: a gigabyte read as fresh 1 MiB chunks provokes a
 * full collection every ~64 MiB of them (V8 counts the external memory), ~0.4 s per GiB on a reader.
 */
async function* readReusing(fh: FileHandle): AsyncGenerator<Uint8Array> {
  try {
    const buffers = [new Uint8Array(new SharedArrayBuffer(READ_PIECE)), new Uint8Array(new SharedArrayBuffer(READ_PIECE))]
    for (let i = 0, at = 0; ; i++) {
      const buffer = buffers[i & 1]!
      const { bytesRead } = await fh.read(buffer, 0, READ_PIECE, at)
      if (bytesRead === 0) return
      at += bytesRead
      yield buffer.subarray(0, bytesRead)
    }
  } finally {
    await fh.close()
  }
}
