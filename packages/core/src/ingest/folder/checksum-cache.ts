import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'

interface Row { path: string; size: number; mtime_ms: number; ctime_ms: number; ino: number; cached_at: number; sha256: string }

/**
 * A file whose mtime is this close to (or after) the moment its row was written may have changed
 * again within the file system's timestamp granularity: "racily clean", as git calls it.
 */
const RACY_MS = 2000

/** The stat fields a row is compared on. */
export interface FileStat {
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly ino: number | bigint
}

/** What the cache knows of a file: its address, and whether its stat alone proves it unchanged. */
export interface Known {
  readonly sha256: string
  /** False when the file was touched, copied or is racily clean: its bytes must be hashed to tell. */
  readonly trusted: boolean
}

/**
 * Remembers, per local file, its stat (size, mtime, ctime, inode) and the SHA-256 address it was
 * staged with, so the next `put` of a folder neither reads nor hashes unchanged files. A row is
 * trusted only when all of its stat matches and the mtime is safely older than the row (as git's
 * index): `cp -p` and `rsync -a` keep size and mtime but not ctime or inode, and a file changed twice
 * within one timestamp tick looks clean to mtime alone. An untrusted row still names the address the
 * file had, so hashing it (no upload) tells whether it changed.
 */
export class ChecksumCache {
  readonly #db: Database.Database
  readonly #select: Database.Statement
  readonly #upsert: Database.Statement

  constructor(file = path.join(process.env.VARVE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'varve'), 'checksums.sqlite3')) {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('synchronous = NORMAL')
    this.#db.pragma('busy_timeout = 10000')
    // files_v3: rows of earlier versions are not trusted; they are simply rebuilt.
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS files_v3 (path TEXT PRIMARY KEY, size INTEGER, mtime_ms REAL, ctime_ms REAL, ino INTEGER, cached_at REAL, sha256 TEXT) WITHOUT ROWID',
    )
    this.#select = this.#db.prepare('SELECT * FROM files_v3 WHERE path = ?')
    this.#upsert = this.#db.prepare('INSERT OR REPLACE INTO files_v3 (path, size, mtime_ms, ctime_ms, ino, cached_at, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)')
  }

  /** What is known of a file with this stat, or undefined (never seen, or its size changed). */
  lookup(file: string, stat: FileStat): Known | undefined {
    const row = this.#select.get(file) as Row | undefined
    if (!row || row.size !== stat.size) return undefined
    const sameStat = row.mtime_ms === stat.mtimeMs && row.ctime_ms === stat.ctimeMs && row.ino === Number(stat.ino)
    const racy = Math.max(stat.mtimeMs, stat.ctimeMs) >= row.cached_at - RACY_MS
    return { sha256: row.sha256, trusted: sameStat && !racy }
  }

  /**
   * Records the address staged for files, in one transaction. `stat` is from before the file was
   * read: if it changed while it was read, its stat no longer matches next time.
   */
  rememberMany(rows: readonly { file: string; stat: FileStat; sha256: string }[]): void {
    const now = Date.now()
    this.#db.transaction(() => {
      for (const r of rows) this.#upsert.run(r.file, r.stat.size, r.stat.mtimeMs, r.stat.ctimeMs, Number(r.stat.ino), now, r.sha256)
    })()
  }

  close(): void {
    this.#db.close()
  }
}
