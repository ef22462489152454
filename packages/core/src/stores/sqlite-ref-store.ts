import fs from 'node:fs'
import Database from 'better-sqlite3'
import { checkSettingLog } from './setting-log.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import { prefixUpperBound } from '../util/paths.js'
import type { BranchRecord, BranchState, ListStagedOptions, RefLogEntry, RefLogRecord, RefStore, StagedChange, TagRecord } from './ref-store.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS branches (
  name TEXT PRIMARY KEY, head TEXT NOT NULL, staging_token TEXT NOT NULL,
  sealed TEXT NOT NULL, version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags (name TEXT PRIMARY KEY, commit_id TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS staging (token TEXT NOT NULL, path TEXT NOT NULL, entry TEXT, PRIMARY KEY (token, path)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reflog (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT NOT NULL, old TEXT, new TEXT, operation TEXT NOT NULL,
  author TEXT NOT NULL, message TEXT, at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reflog_by_ref ON reflog (ref, seq);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`

const PAGE = 1000

interface BranchRow {
  name: string
  head: string
  staging_token: string
  sealed: string
  version: number
}

export interface SqliteRefStoreOptions {
  /** 'normal' (default) survives any process crash; 'full' also survives power loss, at one fsync per write. */
  readonly synchronous?: 'normal' | 'full'
  /** How long a writer waits for another process's lock before failing (default 30 s). */
  readonly busyTimeoutMs?: number
  /** Fail with NOT_A_REPOSITORY instead of creating the file when it does not exist (opening, not init). */
  readonly mustExist?: boolean
}

/**
 * Refs, staging and the ref log in one SQLite file (WAL mode), safe for many processes: every
 * compare-and-swap is one `UPDATE ... WHERE version = ?` inside a transaction with its ref-log row.
 */
export class SqliteRefStore implements RefStore {
  readonly file: string
  readonly #db: Database.Database
  #closed = false

  constructor(file: string, options: SqliteRefStoreOptions = {}) {
    this.file = file
    if (options.mustExist && !fs.existsSync(file))
      throw new VarveError(
        ErrorCodes.NOT_A_REPOSITORY,
        `the ref store ${file} is missing: the repository's branches, tags and staging are gone (restore it from a backup; never run gc without it)`,
        {
          details: { refStore: file },
        },
      )
    try {
      this.#db = new Database(file, options.mustExist ? { fileMustExist: true } : {})
      this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 30_000}`)
      this.#db.pragma('journal_mode = WAL')
      this.#db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
      this.#db.exec(SCHEMA)
    } catch (cause) {
      throw new VarveError(ErrorCodes.UNAVAILABLE, `cannot open ref store ${file}: ${(cause as Error).message}`, { cause })
    }
  }

  /** Statements are prepared once per SQL text: preparing on every call cost more than running them. */
  readonly #statements = new Map<string, Database.Statement>()

  #sql(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql)
    if (!stmt) this.#statements.set(sql, (stmt = this.#db.prepare(sql)))
    return stmt
  }

  #run<T>(fn: () => T): T {
    if (this.#closed) throw new VarveError(ErrorCodes.CLOSED, 'the ref store is closed')
    try {
      return fn()
    } catch (cause) {
      if (cause instanceof VarveError) throw cause
      const code = (cause as { code?: string }).code
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw new VarveError(ErrorCodes.UNAVAILABLE, `ref store ${this.file} is busy`, { cause })
      throw cause
    }
  }

  #log(log: RefLogEntry): void {
    this.#sql('INSERT INTO reflog (ref, old, new, operation, author, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      log.ref,
      log.old,
      log.new,
      log.operation,
      log.author,
      log.message ?? null,
      log.at,
    )
  }

  async getBranch(name: string): Promise<BranchRecord | undefined> {
    return this.#run(() => {
      const row = this.#sql('SELECT * FROM branches WHERE name = ?').get(name) as BranchRow | undefined
      return row && toBranch(row)
    })
  }

  async createBranch(state: BranchState, log: RefLogEntry): Promise<void> {
    this.#run(() =>
      this.#db
        .transaction(() => {
          const r = this.#sql('INSERT OR IGNORE INTO branches (name, head, staging_token, sealed, version) VALUES (?, ?, ?, ?, 1)').run(
            state.name,
            state.head,
            state.stagingToken,
            JSON.stringify(state.sealedTokens),
          )
          if (r.changes === 0) throw new VarveError(ErrorCodes.BRANCH_EXISTS, `branch ${state.name} already exists`, { details: { branch: state.name } })
          this.#log(log)
        })
        .immediate(),
    )
  }

  async updateBranch(expected: BranchRecord, next: BranchState, log?: RefLogEntry): Promise<boolean> {
    return this.#run(() =>
      this.#db
        .transaction(() => {
          const r = this.#sql('UPDATE branches SET head = ?, staging_token = ?, sealed = ?, version = version + 1 WHERE name = ? AND version = ?').run(
            next.head,
            next.stagingToken,
            JSON.stringify(next.sealedTokens),
            expected.name,
            Number(expected.version),
          )
          if (r.changes === 0) return false
          if (log) this.#log(log)
          return true
        })
        .immediate(),
    )
  }

  async deleteBranch(expected: BranchRecord, log: RefLogEntry): Promise<boolean> {
    return this.#run(() =>
      this.#db
        .transaction(() => {
          const r = this.#sql('DELETE FROM branches WHERE name = ? AND version = ?').run(expected.name, Number(expected.version))
          if (r.changes === 0) return false
          this.#log(log)
          return true
        })
        .immediate(),
    )
  }

  /** Rows of a table keyed by name, in pages, so a long listing never holds the whole table. */
  async *#byName<R extends { name: string }>(table: 'branches' | 'tags'): AsyncGenerator<R> {
    let after = ''
    for (;;) {
      const rows = this.#run(() => this.#sql(`SELECT * FROM ${table} WHERE name > ? ORDER BY name LIMIT ?`).all(after, PAGE) as R[])
      yield* rows
      if (rows.length < PAGE) return
      after = rows[rows.length - 1]!.name
    }
  }

  async *listBranches(): AsyncIterable<BranchRecord> {
    for await (const row of this.#byName<BranchRow>('branches')) yield toBranch(row)
  }

  async getTag(name: string): Promise<TagRecord | undefined> {
    return this.#run(() => {
      const row = this.#sql('SELECT * FROM tags WHERE name = ?').get(name) as TagRow | undefined
      return row && toTag(row)
    })
  }

  async createTag(tag: TagRecord, log: RefLogEntry): Promise<void> {
    this.#run(() =>
      this.#db
        .transaction(() => {
          const r = this.#sql('INSERT OR IGNORE INTO tags (name, commit_id, created_at) VALUES (?, ?, ?)').run(tag.name, tag.commit, tag.createdAt)
          if (r.changes === 0) throw new VarveError(ErrorCodes.TAG_EXISTS, `tag ${tag.name} already exists`, { details: { tag: tag.name } })
          this.#log(log)
        })
        .immediate(),
    )
  }

  async deleteTag(name: string, log: RefLogEntry): Promise<boolean> {
    return this.#run(() =>
      this.#db
        .transaction(() => {
          const r = this.#sql('DELETE FROM tags WHERE name = ?').run(name)
          if (r.changes === 0) return false
          this.#log(log)
          return true
        })
        .immediate(),
    )
  }

  async *listTags(): AsyncIterable<TagRecord> {
    for await (const row of this.#byName<TagRow>('tags')) yield toTag(row)
  }

  async putStaged(token: string, changes: readonly StagedChange[]): Promise<void> {
    this.#run(() => {
      const stmt = this.#sql('INSERT OR REPLACE INTO staging (token, path, entry) VALUES (?, ?, ?)')
      this.#db
        .transaction(() => {
          for (const c of changes) stmt.run(token, c.path, c.entry === null ? null : JSON.stringify(c.entry))
        })
        .immediate()
    })
  }

  async getStaged(token: string, path: string): Promise<StagedChange | undefined> {
    return this.#run(() => {
      const row = this.#sql('SELECT path, entry FROM staging WHERE token = ? AND path = ?').get(token, path) as StagingRow | undefined
      return row && toStaged(row)
    })
  }

  async *listStaged(token: string, options: ListStagedOptions = {}): AsyncIterable<StagedChange> {
    const prefix = options.prefix ?? ''
    const upper = prefix ? prefixUpperBound(prefix) : null
    let after = options.after !== undefined && options.after >= prefix ? options.after : null
    let from = prefix
    for (;;) {
      const rows = this.#run(() => {
        const sql =
          'SELECT path, entry FROM staging WHERE token = ? AND path ' +
          (after === null ? '>= ?' : '> ?') +
          (upper === null ? '' : ' AND path < ?') +
          ' ORDER BY path LIMIT ?'
        const args: unknown[] = [token, after ?? from]
        if (upper !== null) args.push(upper)
        args.push(PAGE)
        return this.#sql(sql).all(...args) as StagingRow[]
      })
      for (const row of rows) yield toStaged(row)
      if (rows.length < PAGE) return
      after = rows[rows.length - 1]!.path
      from = after
    }
  }

  async dropStaged(token: string): Promise<void> {
    this.#run(() => this.#sql('DELETE FROM staging WHERE token = ?').run(token))
  }

  async *listStagingTokens(): AsyncIterable<string> {
    let after = ''
    for (;;) {
      const rows = this.#run(() => this.#sql('SELECT DISTINCT token FROM staging WHERE token > ? ORDER BY token LIMIT 1000').all(after) as { token: string }[])
      for (const r of rows) yield r.token
      if (rows.length < 1000) return
      after = rows[rows.length - 1]!.token
    }
  }

  async getSetting(key: string): Promise<string | undefined> {
    return this.#run(() => (this.#sql('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value)
  }

  async setSetting(key: string, value: string | null): Promise<void> {
    this.#run(() =>
      value === null
        ? this.#sql('DELETE FROM settings WHERE key = ?').run(key)
        : this.#sql('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(key, value),
    )
  }

  async compareAndSetSetting(key: string, expected: string | undefined, next: string, log?: RefLogEntry): Promise<boolean> {
    if (log) checkSettingLog(key, log)
    return this.#run(() =>
      this.#db
        .transaction(() => {
          const cur = (this.#sql('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value
          if (cur !== expected) return false
          this.#sql('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(key, next)
          if (log) this.#log(log)
          return true
        })
        .immediate(),
    )
  }

  async *listSettings(prefix: string): AsyncIterable<{ key: string; value: string }> {
    const rows = this.#run(
      () =>
        this.#sql('SELECT key, value FROM settings WHERE key >= ? AND key < ? ORDER BY key').all(prefix, prefixUpperBound(prefix)) as {
          key: string
          value: string
        }[],
    )
    yield* rows
  }

  async *listRefLogRefs(): AsyncIterable<string> {
    const rows = this.#run(() => this.#sql('SELECT DISTINCT ref FROM reflog ORDER BY ref').all() as { ref: string }[])
    for (const r of rows) yield r.ref
  }

  async *listRefLog(ref: string, options: { limit?: number } = {}): AsyncIterable<RefLogRecord> {
    let before = Number.MAX_SAFE_INTEGER
    let left = options.limit ?? Infinity
    while (left > 0) {
      const n = Math.min(PAGE, left)
      const rows = this.#run(() => this.#sql('SELECT * FROM reflog WHERE ref = ? AND seq < ? ORDER BY seq DESC LIMIT ?').all(ref, before, n) as RefLogRow[])
      for (const row of rows) yield toRefLog(row)
      left -= rows.length
      if (rows.length < n) return
      before = rows[rows.length - 1]!.seq
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#db.close()
  }
}

interface TagRow {
  name: string
  commit_id: string
  created_at: number
}
interface StagingRow {
  path: string
  entry: string | null
}
interface RefLogRow {
  seq: number
  ref: string
  old: string | null
  new: string | null
  operation: string
  author: string
  message: string | null
  at: number
}

const toBranch = (row: BranchRow): BranchRecord => ({
  name: row.name,
  head: row.head,
  stagingToken: row.staging_token,
  sealedTokens: JSON.parse(row.sealed) as string[],
  version: String(row.version),
})
const toTag = (row: TagRow): TagRecord => ({ name: row.name, commit: row.commit_id, createdAt: row.created_at })
const toStaged = (row: StagingRow): StagedChange => ({
  path: row.path,
  entry: row.entry === null ? null : (JSON.parse(row.entry) as Entry),
})
const toRefLog = (row: RefLogRow): RefLogRecord => {
  const rec: { -readonly [K in keyof RefLogRecord]: RefLogRecord[K] } = {
    seq: row.seq,
    ref: row.ref,
    old: row.old,
    new: row.new,
    operation: row.operation,
    author: row.author,
    at: row.at,
  }
  if (row.message !== null) rec.message = row.message
  return rec
}
