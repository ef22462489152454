// Over 400 lines on purpose: one class, the RefStore contract on S3 (branches, tags, staging,
// settings and ref logs), whose methods share the conditional-write helpers and key layout.
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import {
  checkSettingLog,
  comparePaths,
  VarveError,
  ErrorCodes,
  type BranchRecord,
  type BranchState,
  type ListStagedOptions,
  type RefLogEntry,
  type RefLogRecord,
  type RefStore,
  type StagedChange,
  type TagRecord,
  mapInOrder,
} from '@varve/core'
import { createS3Client } from './s3-client.js'
import { isConditionalConflict, isNotFound, isPreconditionFailed, s3Error } from './s3-errors.js'
import type { S3Location, S3Options } from './s3-options.js'

export type S3RefStoreOptions = S3Options & S3Location

/** The newest ref-log entry travels inside the ref object, so it is written by the same conditional write. */
interface LastLog {
  readonly seq: number
  readonly entry: RefLogEntry
}
interface RefBody {
  readonly lastLog: LastLog | null
  readonly deleted?: true
}
type BranchBody = RefBody & Partial<BranchState>
type TagBody = RefBody & Partial<TagRecord>
interface SettingBody {
  readonly value: string
  readonly lastLog?: LastLog | null
}

const PARALLEL = 32
const MAX_KEY_BYTES = 1024
const SEQ_SPACE = 1e13
const BATCH_TAG = 'varve/staged-batch:v1'
/** Appended to a token's name for its batches' folder: `staging/<token>~b/` lists with `staging/<token>/`. */
const BATCH_SUFFIX = '~b'
/** Changes per staged-batch object (~2.5 MB of JSON). */
const BATCH_CHANGES = 10_000
/** Staged changes kept decoded in memory, across batches. */
const BATCH_CACHE_CHANGES = 1_000_000

/**
 * Branches, tags, staging and the ref log as objects under `s3://bucket/prefix`, safe for many
 * machines with no server and no lock: creating a ref is `If-None-Match: *`, moving one is
 * `If-Match: <etag>`, so of two writers from one version exactly one wins. Each ref object carries its
 * newest ref-log entry; every writer first copies the entry it replaces to its immutable log object,
 * so the log has an entry if and only if the move happened, even across crashes.
 */
export class S3RefStore implements RefStore {
  readonly client: S3Client
  readonly bucket: string
  readonly prefix: string
  readonly #ownsClient: boolean
  readonly #meta = new WeakMap<object, LastLog | null>()
  readonly #materialized = new Set<string>()

  constructor(options: S3RefStoreOptions) {
    this.client = createS3Client(options)
    this.#ownsClient = !options.client
    this.bucket = options.bucket
    this.prefix = options.prefix
  }

  // ---- keys ----------------------------------------------------------------------------------------
  #branchKey = (name: string) => `${this.prefix}refs/branches/${name}`
  #tagKey = (name: string) => `${this.prefix}refs/tags/${name}`
  #logPrefix = (ref: string) => `${this.prefix}reflog/${encodeURIComponent(ref)}/`
  #logKey = (ref: string, seq: number) => this.#logPrefix(ref) + String(SEQ_SPACE - seq).padStart(14, '0') // newest lists first
  #stagingPrefix = (token: string) => `${this.prefix}staging/${token}/`

  // ---- JSON objects with etags ---------------------------------------------------------------------
  async #get<T>(key: string): Promise<{ body: T; etag: string } | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))
      return { body: JSON.parse(await r.Body!.transformToString('utf8')) as T, etag: r.ETag! }
    } catch (err) {
      if (isNotFound(err)) return undefined
      if (err instanceof SyntaxError)
        throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `ref object s3://${this.bucket}/${key} is not valid JSON`, { cause: err, details: { key } })
      throw s3Error(err, 'get', this.bucket, key)
    }
  }

  /** A conditional put: returns the new etag, or undefined when the condition failed (a lost race). */
  async #put(key: string, body: unknown, condition: { IfMatch?: string; IfNoneMatch?: '*' } = {}): Promise<string | undefined> {
    try {
      const r = await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(body), ContentType: 'application/json', ...condition }),
      )
      return r.ETag ?? ''
    } catch (err) {
      if ((condition.IfMatch || condition.IfNoneMatch) && (isPreconditionFailed(err) || isConditionalConflict(err) || (condition.IfMatch && isNotFound(err))))
        return undefined
      throw s3Error(err, 'put', this.bucket, key)
    }
  }

  async *#keys(prefix: string, startAfter?: string): AsyncGenerator<string> {
    let token: string | undefined
    do {
      let page
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ContinuationToken: token,
            ...(startAfter && !token ? { StartAfter: startAfter } : {}),
          }),
        )
      } catch (err) {
        throw s3Error(err, 'list', this.bucket, prefix)
      }
      for (const o of page.Contents ?? []) yield o.Key!
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  /** Copies a ref's newest log entry to its own immutable object (idempotent). */
  async #materialize(ref: string, last: LastLog | null): Promise<void> {
    if (!last) return
    const id = `${ref}#${last.seq}`
    if (this.#materialized.has(id)) return
    await this.#put(this.#logKey(ref, last.seq), { ...last.entry, seq: last.seq }, { IfNoneMatch: '*' })
    this.#materialized.add(id)
  }

  #nextLog(prev: LastLog | null, entry: RefLogEntry | undefined): LastLog | null {
    return entry ? { seq: (prev?.seq ?? 0) + 1, entry } : prev
  }

  // ---- branches ------------------------------------------------------------------------------------
  #toBranch(body: BranchBody, etag: string): BranchRecord {
    const rec: BranchRecord = { name: body.name!, head: body.head!, stagingToken: body.stagingToken!, sealedTokens: body.sealedTokens!, version: etag }
    this.#meta.set(rec, body.lastLog)
    return rec
  }

  async getBranch(name: string): Promise<BranchRecord | undefined> {
    const r = await this.#get<BranchBody>(this.#branchKey(name))
    return r && !r.body.deleted ? this.#toBranch(r.body, r.etag) : undefined
  }

  async createBranch(state: BranchState, log: RefLogEntry): Promise<void> {
    const key = this.#branchKey(state.name)
    const ref = `branch:${state.name}`
    for (let attempt = 0; attempt < 10; attempt++) {
      const lastLog = { seq: 1, entry: log }
      if (await this.#put(key, { ...plain(state), lastLog }, { IfNoneMatch: '*' })) return this.#materialize(ref, lastLog)
      const cur = await this.#get<BranchBody>(key)
      if (!cur) continue
      if (!cur.body.deleted) throw exists('branch', state.name)
      // Re-creating a deleted branch: its log continues after the deletion's entry.
      await this.#materialize(ref, cur.body.lastLog)
      const next = this.#nextLog(cur.body.lastLog, log)
      if (await this.#put(key, { ...plain(state), lastLog: next }, { IfMatch: cur.etag })) return this.#materialize(ref, next)
    }
    throw new VarveError(ErrorCodes.CONFLICT, `creating branch ${state.name} kept racing`, { details: { branch: state.name } })
  }

  async #lastLogOf(expected: BranchRecord, key: string): Promise<LastLog | null | 'stale'> {
    if (this.#meta.has(expected)) return this.#meta.get(expected)!
    const cur = await this.#get<BranchBody>(key)
    return cur && cur.etag === expected.version && !cur.body.deleted ? cur.body.lastLog : 'stale'
  }

  /** Compare-and-swap of a branch object from `expected`, carrying the move's log entry. */
  async #swapBranch(expected: BranchRecord, body: (lastLog: LastLog | null) => BranchBody, log?: RefLogEntry): Promise<boolean> {
    const key = this.#branchKey(expected.name)
    const ref = `branch:${expected.name}`
    const prev = await this.#lastLogOf(expected, key)
    if (prev === 'stale') return false
    // A move with a log entry replaces the newest entry in the ref object: copy that one out first.
    // A move without one (sealing staging) carries it along unchanged, so nothing needs copying.
    if (log) await this.#materialize(ref, prev)
    const lastLog = this.#nextLog(prev, log)
    if (!(await this.#put(key, body(lastLog), { IfMatch: expected.version }))) return false
    if (log) await this.#materialize(ref, lastLog).catch(() => {}) // the ref object holds it anyway
    return true
  }

  async updateBranch(expected: BranchRecord, next: BranchState, log?: RefLogEntry): Promise<boolean> {
    return this.#swapBranch(expected, (lastLog) => ({ ...plain(next), lastLog }), log)
  }

  async deleteBranch(expected: BranchRecord, log: RefLogEntry): Promise<boolean> {
    return this.#swapBranch(expected, (lastLog) => ({ name: expected.name, deleted: true, lastLog }), log)
  }

  async *listBranches(): AsyncIterable<BranchRecord> {
    const base = `${this.prefix}refs/branches/`
    for await (const r of mapInOrder(this.#keys(base), PARALLEL, (k) => this.#get<BranchBody>(k)))
      if (r && !r.body.deleted) yield this.#toBranch(r.body, r.etag)
  }

  // ---- tags ----------------------------------------------------------------------------------------
  async getTag(name: string): Promise<TagRecord | undefined> {
    const r = await this.#get<TagBody>(this.#tagKey(name))
    return r && !r.body.deleted ? toTag(r.body) : undefined
  }

  async createTag(tag: TagRecord, log: RefLogEntry): Promise<void> {
    const key = this.#tagKey(tag.name)
    const ref = `tag:${tag.name}`
    for (let attempt = 0; attempt < 10; attempt++) {
      const lastLog = { seq: 1, entry: log }
      if (await this.#put(key, { ...tag, lastLog }, { IfNoneMatch: '*' })) return this.#materialize(ref, lastLog)
      const cur = await this.#get<TagBody>(key)
      if (!cur) continue
      if (!cur.body.deleted) throw exists('tag', tag.name)
      await this.#materialize(ref, cur.body.lastLog)
      const next = this.#nextLog(cur.body.lastLog, log)
      if (await this.#put(key, { ...tag, lastLog: next }, { IfMatch: cur.etag })) return this.#materialize(ref, next)
    }
    throw new VarveError(ErrorCodes.CONFLICT, `creating tag ${tag.name} kept racing`, { details: { tag: tag.name } })
  }

  async deleteTag(name: string, log: RefLogEntry): Promise<boolean> {
    const key = this.#tagKey(name)
    const ref = `tag:${name}`
    for (let attempt = 0; attempt < 10; attempt++) {
      const cur = await this.#get<TagBody>(key)
      if (!cur || cur.body.deleted) return false
      await this.#materialize(ref, cur.body.lastLog)
      const lastLog = this.#nextLog(cur.body.lastLog, log)
      if (await this.#put(key, { name, deleted: true, lastLog }, { IfMatch: cur.etag })) {
        await this.#materialize(ref, lastLog).catch(() => {})
        return true
      }
    }
    return false
  }

  async *listTags(): AsyncIterable<TagRecord> {
    for await (const r of mapInOrder(this.#keys(`${this.prefix}refs/tags/`), PARALLEL, (k) => this.#get<TagBody>(k)))
      if (r && !r.body.deleted) yield toTag(r.body)
  }

  // ---- staging ------------------------------------------------------------------------------------
  // A staging write is one object holding all of its changes (docs/decisions/0007-packs.md), under
  // `staging/<token>~b/<name>`, names sorting in write order: a commit of 1,000 staged changes reads a
  // listing and a few objects instead of 1,000. Staging written by earlier versions, one object per
  // path under `staging/<token>/<path>`, shares the listing prefix `staging/<token>`, so one LIST
  // finds both; it is read as older than any batch, and dropped with its token.
  #batchPrefix = (token: string) => `${this.prefix}staging/${token}${BATCH_SUFFIX}/`
  /** Staged batches never change once written: their changes are kept by key. */
  readonly #batches = new Map<string, readonly StagedChange[]>()
  #batchBytes = 0
  #batchSeq = 0

  #checkStagingKey(token: string, path: string): void {
    const key = this.#stagingPrefix(token) + path
    if (Buffer.byteLength(key) > MAX_KEY_BYTES)
      throw new VarveError(
        ErrorCodes.INVALID_PATH,
        `path ${JSON.stringify(path.slice(0, 60))}... is too long for S3 (keys are limited to ${MAX_KEY_BYTES} bytes)`,
        {
          details: { path },
        },
      )
  }

  /** Keys of a token's staging in one listing: batches, and per-path objects of earlier versions. */
  async #stagingKeys(token: string): Promise<{ batches: string[]; legacy: string[] }> {
    const batchBase = this.#batchPrefix(token)
    const legacyBase = this.#stagingPrefix(token)
    const out = { batches: [] as string[], legacy: [] as string[] }
    for await (const k of this.#keys(`${this.prefix}staging/${token}`)) {
      if (k.startsWith(batchBase)) out.batches.push(k)
      else if (k.startsWith(legacyBase)) out.legacy.push(k)
      // else: another token whose name starts with this one
    }
    return out
  }

  async putStaged(token: string, changes: readonly StagedChange[]): Promise<void> {
    for (const c of changes) this.#checkStagingKey(token, c.path)
    for (let i = 0; i < changes.length; i += BATCH_CHANGES) {
      const part = changes.slice(i, i + BATCH_CHANGES)
      // Time first, so batches list in write order; then a per-process sequence and a random tail.
      const name = `${String(Date.now()).padStart(15, '0')}-${String(++this.#batchSeq).padStart(9, '0')}-${Math.random().toString(36).slice(2, 10)}`
      await this.#put(this.#batchPrefix(token) + name, { t: BATCH_TAG, c: part.map((c) => [c.path, c.entry]) })
    }
  }

  /** Every staged change of a token, later writes of a path replacing earlier ones, in path order. */
  async #stagedOf(token: string): Promise<StagedChange[]> {
    const byPath = new Map<string, StagedChange>()
    const { batches, legacy } = await this.#stagingKeys(token)
    // Staging of earlier versions first: it is older than any batch.
    for await (const r of mapInOrder(legacy, PARALLEL, (k) => this.#get<StagedChange>(k))) if (r) byPath.set(r.body.path, r.body)
    for await (const changes of mapInOrder(batches, PARALLEL, (k) => this.#batch(k))) for (const c of changes) byPath.set(c.path, c)
    return [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path))
  }

  async #batch(key: string): Promise<readonly StagedChange[]> {
    const known = this.#batches.get(key)
    if (known) return known
    const r = await this.#get<{ t?: string; c?: [string, StagedChange['entry']][] }>(key)
    if (!r) return [] // dropped meanwhile (a commit took it)
    if (r.body.t !== BATCH_TAG || !Array.isArray(r.body.c))
      throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `staged batch s3://${this.bucket}/${key} is not a staged batch`, { details: { key } })
    const changes = r.body.c.map(([path, entry]) => ({ path, entry }))
    if (this.#batchBytes > BATCH_CACHE_CHANGES) {
      this.#batches.clear()
      this.#batchBytes = 0
    }
    this.#batches.set(key, changes)
    this.#batchBytes += changes.length
    return changes
  }

  async getStaged(token: string, path: string): Promise<StagedChange | undefined> {
    this.#checkStagingKey(token, path)
    return (await this.#stagedOf(token)).find((c) => c.path === path)
  }

  async *listStaged(token: string, options: ListStagedOptions = {}): AsyncIterable<StagedChange> {
    const prefix = options.prefix ?? ''
    const after = options.after
    for (const c of await this.#stagedOf(token)) {
      if (!c.path.startsWith(prefix)) continue
      if (after !== undefined && comparePaths(c.path, after) <= 0) continue
      yield c
    }
  }

  async dropStaged(token: string): Promise<void> {
    const { batches, legacy } = await this.#stagingKeys(token)
    const all = [...batches, ...legacy]
    for (const k of batches) this.#batches.delete(k)
    for (let i = 0; i < all.length; i += 1000) {
      try {
        await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: all.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
        )
      } catch (err) {
        throw s3Error(err, 'delete', this.bucket, this.#stagingPrefix(token))
      }
    }
  }

  async *listStagingTokens(): AsyncIterable<string> {
    const base = `${this.prefix}staging/`
    const tokens = new Set<string>()
    let token: string | undefined
    do {
      let page
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, Delimiter: '/', ContinuationToken: token }))
      } catch (err) {
        throw s3Error(err, 'list', this.bucket, base)
      }
      for (const p of page.CommonPrefixes ?? []) {
        const name = p.Prefix!.slice(base.length, -1)
        tokens.add(name.endsWith(BATCH_SUFFIX) ? name.slice(0, -BATCH_SUFFIX.length) : name)
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    yield* [...tokens].sort()
  }

  // ---- settings ------------------------------------------------------------------------------------
  #settingKey = (key: string) => `${this.prefix}settings/${key}`

  async getSetting(key: string): Promise<string | undefined> {
    return (await this.#get<{ value: string }>(this.#settingKey(key)))?.body.value
  }

  async setSetting(key: string, value: string | null): Promise<void> {
    if (value !== null) {
      await this.#put(this.#settingKey(key), { value })
      return
    }
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#settingKey(key) }))
    } catch (err) {
      throw s3Error(err, 'delete', this.bucket, this.#settingKey(key))
    }
  }

  async compareAndSetSetting(key: string, expected: string | undefined, next: string, log?: RefLogEntry): Promise<boolean> {
    if (log) checkSettingLog(key, log)
    const cur = await this.#get<SettingBody>(this.#settingKey(key))
    if (cur?.body.value !== expected) return false
    const condition = cur ? { IfMatch: cur.etag } : { IfNoneMatch: '*' as const }
    // As for a branch: the newest log entry travels in the object, the one it replaces is copied out first.
    const prev = cur?.body.lastLog ?? null
    if (log && prev) await this.#materialize(prev.entry.ref, prev)
    const lastLog = this.#nextLog(prev, log)
    const ok = (await this.#put(this.#settingKey(key), { value: next, ...(lastLog ? { lastLog } : {}) }, condition)) !== undefined
    if (ok && log) await this.#materialize(log.ref, lastLog).catch(() => {}) // the setting object holds it anyway
    return ok
  }

  async *listSettings(prefix: string): AsyncIterable<{ key: string; value: string }> {
    const base = this.#settingKey('')
    for await (const r of mapInOrder(this.#keys(base + prefix), PARALLEL, async (k) => ({ k, r: await this.#get<{ value: string }>(k) })))
      if (r.r) yield { key: r.k.slice(base.length), value: r.r.body.value }
  }

  // ---- ref log -------------------------------------------------------------------------------------
  async *listRefLogRefs(): AsyncIterable<string> {
    const base = `${this.prefix}reflog/`
    let last = ''
    for await (const key of this.#keys(base)) {
      const ref = decodeURIComponent(key.slice(base.length, key.indexOf('/', base.length)))
      if (ref !== last) yield (last = ref)
    }
  }

  async *listRefLog(ref: string, options: { limit?: number } = {}): AsyncIterable<RefLogRecord> {
    // The newest entry may still live only inside the ref object (a writer crashed before copying it).
    const [kind, ...rest] = ref.split(':')
    const name = rest.join(':')
    const key = kind === 'tag' ? this.#tagKey(name) : kind === 'setting' ? this.#settingKey(name) : this.#branchKey(name)
    const cur = await this.#get<RefBody>(key)
    if (cur) await this.#materialize(ref, cur.body.lastLog)
    let left = options.limit ?? Infinity
    if (left <= 0) return
    for await (const r of mapInOrder(this.#keys(this.#logPrefix(ref)), PARALLEL, (k) => this.#get<RefLogRecord>(k))) {
      if (!r) continue
      yield r.body
      if (--left <= 0) return
    }
  }

  async close(): Promise<void> {
    if (this.#ownsClient) this.client.destroy()
  }
}

const plain = (s: BranchState): BranchState => ({ name: s.name, head: s.head, stagingToken: s.stagingToken, sealedTokens: [...s.sealedTokens] })
const toTag = (b: TagBody): TagRecord => ({ name: b.name!, commit: b.commit!, createdAt: b.createdAt! })
const exists = (kind: 'branch' | 'tag', name: string) =>
  new VarveError(kind === 'branch' ? ErrorCodes.BRANCH_EXISTS : ErrorCodes.TAG_EXISTS, `${kind} ${name} already exists`, { details: { [kind]: name } })
