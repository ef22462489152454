import { createReadStream } from 'node:fs'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import xxhash from 'xxhash-wasm'

interface Row { size: number; mtime_ms: number; ctime_ms: number; ino: number; cached_at: number; xxh64: string; sha256: string }

/**
 * A file whose mtime is this close to (or after) the moment its row was written may have changed
 * again within the file system's timestamp granularity: "racily clean", as git calls it.
 */
const RACY_MS = 2000

/**
 * Remembers, per local file, its stat (size, mtime, ctime, inode), its xxh64 and the SHA-256 address
 * it had, so the next `put` of a folder does not re-hash unchanged files. A file is trusted unchanged
 * only when all of its stat matches and its mtime is safely older than the row (as git's index):
 * `cp -p` and `rsync -a` keep size and mtime but not ctime or inode, and a file changed twice within
 * one timestamp tick looks clean to mtime alone. Anything else gets the fast xxh64 check; only new or
 * changed files are SHA-256'd (while they upload).
 */
export class ChecksumCache {
  readonly #db: Database.Database
  #hasher: Awaited<ReturnType<typeof xxhash>> | undefined

  constructor(file = path.join(process.env.VARVE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'varve'), 'checksums.sqlite3')) {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('busy_timeout = 10000')
    // files_v2: rows of the first version (no ctime, inode) are not trusted; they are simply rebuilt.
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS files_v2 (path TEXT PRIMARY KEY, size INTEGER, mtime_ms REAL, ctime_ms REAL, ino INTEGER, cached_at REAL, xxh64 TEXT, sha256 TEXT) WITHOUT ROWID',
    )
  }

  /** The SHA-256 address of an unchanged file, or undefined when it must be hashed. */
  async knownAddress(file: string, stat: fs.Stats): Promise<string | undefined> {
    const row = this.#db.prepare('SELECT * FROM files_v2 WHERE path = ?').get(file) as Row | undefined
    if (!row || row.size !== stat.size) return undefined
    const sameStat = row.mtime_ms === stat.mtimeMs && row.ctime_ms === stat.ctimeMs && row.ino === Number(stat.ino)
    const racy = Math.max(stat.mtimeMs, stat.ctimeMs) >= row.cached_at - RACY_MS
    if (sameStat && !racy) return row.sha256
    const xxh = await this.xxh64(file) // touched, copied or racily clean: a fast checksum tells
    if (xxh !== row.xxh64) return undefined
    this.#write(file, stat, xxh, row.sha256)
    return row.sha256
  }

  #write(file: string, stat: fs.Stats, xxh: string, sha256: string): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO files_v2 (path, size, mtime_ms, ctime_ms, ino, cached_at, xxh64, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(file, stat.size, stat.mtimeMs, stat.ctimeMs, Number(stat.ino), Date.now(), xxh, sha256)
  }

  /**
   * The file's bytes as a stream that also computes their xxh64, so what is remembered is the checksum
   * of exactly the bytes that were uploaded (the file may change while it uploads).
   */
  async reading(file: string): Promise<{ stream: AsyncIterable<Uint8Array>; xxh64: () => string }> {
    this.#hasher ??= await xxhash()
    const h = this.#hasher.create64()
    async function* tee() {
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
        h.update(chunk as Uint8Array)
        yield chunk as Uint8Array
      }
    }
    return { stream: tee(), xxh64: () => h.digest().toString(16).padStart(16, '0') }
  }

  /**
   * Records the address uploaded for a file, with the xxh64 of the uploaded bytes. `stat` is from
   * before the upload: if the file changed during it, its stat no longer matches next time.
   */
  remember(file: string, stat: fs.Stats, xxh64: string, sha256: string): void {
    this.#write(file, stat, xxh64, sha256)
  }

  async xxh64(file: string): Promise<string> {
    this.#hasher ??= await xxhash()
    const h = this.#hasher.create64()
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Uint8Array)
    return h.digest().toString(16).padStart(16, '0')
  }

  close(): void {
    this.#db.close()
  }
}
