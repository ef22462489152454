import { createReadStream } from 'node:fs'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import xxhash from 'xxhash-wasm'

interface Row { size: number; mtime_ms: number; xxh64: string; sha256: string }

/**
 * Remembers, per local file, (size, mtime, xxh64) and the SHA-256 address it had, so the next `put`
 * of a folder does not re-hash unchanged files: same size and mtime means same content; a touched
 * file whose fast xxh64 still matches keeps its address; only new or changed files are SHA-256'd
 * (while they upload).
 */
export class ChecksumCache {
  readonly #db: Database.Database
  #hasher: Awaited<ReturnType<typeof xxhash>> | undefined

  constructor(file = path.join(process.env.VARVE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'varve'), 'checksums.sqlite3')) {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('busy_timeout = 10000')
    this.#db.exec('CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ms REAL, xxh64 TEXT, sha256 TEXT) WITHOUT ROWID')
  }

  /** The SHA-256 address of an unchanged file, or undefined when it must be hashed. */
  async knownAddress(file: string, stat: fs.Stats): Promise<string | undefined> {
    const row = this.#db.prepare('SELECT size, mtime_ms, xxh64, sha256 FROM files WHERE path = ?').get(file) as Row | undefined
    if (!row || row.size !== stat.size) return undefined
    if (row.mtime_ms === stat.mtimeMs) return row.sha256
    const xxh = await this.xxh64(file) // touched: a fast checksum tells whether the content changed
    if (xxh !== row.xxh64) return undefined
    this.#db.prepare('UPDATE files SET mtime_ms = ? WHERE path = ?').run(stat.mtimeMs, file)
    return row.sha256
  }

  async remember(file: string, stat: fs.Stats, sha256: string): Promise<void> {
    const xxh = await this.xxh64(file)
    this.#db.prepare('INSERT OR REPLACE INTO files (path, size, mtime_ms, xxh64, sha256) VALUES (?, ?, ?, ?, ?)').run(file, stat.size, stat.mtimeMs, xxh, sha256)
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
