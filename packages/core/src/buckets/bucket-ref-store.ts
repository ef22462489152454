// Over 400 lines on purpose: one class, the RefStore contract over any object store (branches, tags,
// staging, settings and ref logs), whose methods share the conditional-write helpers and key layout.
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { BranchRecord, BranchState, ListStagedOptions, RefLogEntry, RefLogRecord, RefStore, StagedChange, TagRecord } from '../stores/ref-store.js'
import { checkSettingLog } from '../stores/setting-log.js'
import { mapInOrder } from '../util/map-in-order.js'
import { comparePaths } from '../util/paths.js'
import { listAll, listPrefixes, type Bucket, type PutMode } from './bucket.js'

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
 * Branches, tags, staging and the ref log as objects in a bucket, safe for many machines with no
 * server and no lock (decision 0020): creating a ref is a `create` put, moving one an `update` put from
 * the version read, so of two writers from one version exactly one wins. Each ref object carries its
 * newest ref-log entry; every writer first copies the entry it replaces to its immutable log object,
 * so the log has an entry if and only if the move happened, even across crashes.
 *
 * Every conditional write carries a random write id (`w`): when a store reports a lost precondition
 * for a write that in fact happened (an SDK retried it after a lost response, and the retry met the
 * first attempt's own object), the object read back carries this write's id and the write counts as won.
 */
export class BucketRefStore implements RefStore {
  readonly bucket: Bucket
  readonly #ownsBucket: boolean
  readonly #prefixBytes: number
  readonly #meta = new WeakMap<object, LastLog | null>()
  readonly #materialized = new Set<string>()

  /**
   * `ownsBucket`: close() closes the bucket too (default true). `prefixBytes`: the length of the
   * store's own key prefix, which counts against its 1,024-byte key limit.
   */
  constructor(bucket: Bucket, options: { readonly ownsBucket?: boolean; readonly prefixBytes?: number } = {}) {
    this.bucket = bucket
    this.#ownsBucket = options.ownsBucket ?? true
    this.#prefixBytes = options.prefixBytes ?? 0
  }

  // ---- keys ----------------------------------------------------------------------------------------
  #branchKey = (name: string) => `refs/branches/${name}`
  #tagKey = (name: string) => `refs/tags/${name}`
  #logPrefix = (ref: string) => `reflog/${encodeURIComponent(ref)}/`
  #logKey = (ref: string, seq: number) => this.#logPrefix(ref) + String(SEQ_SPACE - seq).padStart(14, '0') // newest lists first
  #stagingPrefix = (token: string) => `staging/${token}/`

  // ---- JSON objects with versions ------------------------------------------------------------------
  async #get<T>(key: string): Promise<{ body: T; etag: string } | undefined> {
    const r = await this.bucket.get(key)
    if (!r) return undefined
    try {
      return { body: JSON.parse(decoder.decode(r.bytes)) as T, etag: r.version }
    } catch (err) {
      throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `ref object ${this.bucket.url}${key} is not valid JSON`, { cause: err, details: { key } })
    }
  }

  /**
   * A put in `mode`: returns the new version, or undefined when the condition failed (a lost race).
   * A conditional write that the store calls lost but whose object carries this write's id was won.
   */
  async #put(key: string, body: object, mode: PutMode = 'overwrite'): Promise<string | undefined> {
    const conditional = mode !== 'overwrite'
    const w = conditional ? writeId() : undefined
    const bytes = encoder.encode(JSON.stringify(w ? { ...body, w } : body))
    const version = await this.bucket.put(key, bytes, mode, { contentType: 'application/json' })
    if (version !== undefined || !w) return version
    const cur = await this.#get<{ w?: string }>(key)
    return cur?.body.w === w ? cur.etag : undefined
  }

  async *#keys(prefix: string): AsyncGenerator<string> {
    for await (const o of listAll(this.bucket, prefix)) yield o.key
  }

  /** Copies a ref's newest log entry to its own immutable object (idempotent). */
  async #materialize(ref: string, last: LastLog | null): Promise<void> {
    if (!last) return
    const id = `${ref}#${last.seq}`
    if (this.#materialized.has(id)) return
    const key = this.#logKey(ref, last.seq)
    // A refused create means the entry is there (another writer copied it first), unless the store
    // refused it for a concurrent request (S3's 409) that may not have landed: then look, and try again.
    for (let attempt = 0; ; attempt++) {
      if ((await this.#put(key, { ...last.entry, seq: last.seq }, 'create')) !== undefined || (await this.bucket.head(key))) break
      if (attempt === 10)
        throw new VarveError(ErrorCodes.UNAVAILABLE, `could not store the ref-log entry ${this.bucket.url}${key}: every attempt met a conflicting request`, {
          details: { key },
        })
    }
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
      if (await this.#put(key, { ...plain(state), lastLog }, 'create')) return this.#materialize(ref, lastLog)
      const cur = await this.#get<BranchBody>(key)
      if (!cur) continue
      if (!cur.body.deleted) throw exists('branch', state.name)
      // Re-creating a deleted branch: its log continues after the deletion's entry.
      await this.#materialize(ref, cur.body.lastLog)
      const next = this.#nextLog(cur.body.lastLog, log)
      if (await this.#put(key, { ...plain(state), lastLog: next }, { update: cur.etag })) return this.#materialize(ref, next)
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
    if (!(await this.#put(key, body(lastLog), { update: expected.version }))) return false
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
    const base = `refs/branches/`
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
      if (await this.#put(key, { ...tag, lastLog }, 'create')) return this.#materialize(ref, lastLog)
      const cur = await this.#get<TagBody>(key)
      if (!cur) continue
      if (!cur.body.deleted) throw exists('tag', tag.name)
      await this.#materialize(ref, cur.body.lastLog)
      const next = this.#nextLog(cur.body.lastLog, log)
      if (await this.#put(key, { ...tag, lastLog: next }, { update: cur.etag })) return this.#materialize(ref, next)
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
      if (await this.#put(key, { name, deleted: true, lastLog }, { update: cur.etag })) {
        await this.#materialize(ref, lastLog).catch(() => {})
        return true
      }
    }
    return false
  }

  async *listTags(): AsyncIterable<TagRecord> {
    for await (const r of mapInOrder(this.#keys(`refs/tags/`), PARALLEL, (k) => this.#get<TagBody>(k))) if (r && !r.body.deleted) yield toTag(r.body)
  }

  // ---- staging ------------------------------------------------------------------------------------
  // A staging write is one object holding all of its changes (docs/decisions/0007-packs.md), under
  // `staging/<token>~b/<name>`, names sorting in write order: a commit of 1,000 staged changes reads a
  // listing and a few objects instead of 1,000. Staging written by earlier versions, one object per
  // path under `staging/<token>/<path>`, shares the listing prefix `staging/<token>`, so one LIST
  // finds both; it is read as older than any batch, and dropped with its token.
  #batchPrefix = (token: string) => `staging/${token}${BATCH_SUFFIX}/`
  /** Staged batches never change once written: their changes are kept by key. */
  readonly #batches = new Map<string, readonly StagedChange[]>()
  #batchBytes = 0
  #batchSeq = 0

  #checkStagingKey(token: string, path: string): void {
    const key = this.#stagingPrefix(token) + path
    if (Buffer.byteLength(key) + this.#prefixBytes > MAX_KEY_BYTES)
      throw new VarveError(
        ErrorCodes.INVALID_PATH,
        `path ${JSON.stringify(path.slice(0, 60))}... is too long for ${this.bucket.url} (keys are limited to ${MAX_KEY_BYTES} bytes)`,
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
    for await (const k of this.#keys(`staging/${token}`)) {
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
      throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `staged batch ${this.bucket.url}${key} is not a staged batch`, { details: { key } })
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
    if (this.bucket.deleteMany) await this.bucket.deleteMany(all)
    else for await (const _ of mapInOrder(all, PARALLEL, (k) => this.bucket.delete(k))) void _
  }

  async *listStagingTokens(): AsyncIterable<string> {
    const base = `staging/`
    const tokens = new Set<string>()
    for await (const p of listPrefixes(this.bucket, base)) {
      const name = p.slice(base.length, -1)
      tokens.add(name.endsWith(BATCH_SUFFIX) ? name.slice(0, -BATCH_SUFFIX.length) : name)
    }
    yield* [...tokens].sort()
  }

  // ---- settings ------------------------------------------------------------------------------------
  #settingKey = (key: string) => `settings/${key}`

  async getSetting(key: string): Promise<string | undefined> {
    return (await this.#get<{ value: string }>(this.#settingKey(key)))?.body.value
  }

  async setSetting(key: string, value: string | null): Promise<void> {
    if (value !== null) {
      await this.#put(this.#settingKey(key), { value })
      return
    }
    await this.bucket.delete(this.#settingKey(key))
  }

  async compareAndSetSetting(key: string, expected: string | undefined, next: string, log?: RefLogEntry): Promise<boolean> {
    if (log) checkSettingLog(key, log)
    const cur = await this.#get<SettingBody>(this.#settingKey(key))
    if (cur?.body.value !== expected) return false
    const condition: PutMode = cur ? { update: cur.etag } : 'create'
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
    const base = `reflog/`
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
    if (this.#ownsBucket) await this.bucket.close?.()
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
/** Random enough to tell two writers apart; not a secret. */
const writeId = () => Math.random().toString(36).slice(2, 12) + Math.random().toString(36).slice(2, 12)
const plain = (s: BranchState): BranchState => ({ name: s.name, head: s.head, stagingToken: s.stagingToken, sealedTokens: [...s.sealedTokens] })
const toTag = (b: TagBody): TagRecord => ({ name: b.name!, commit: b.commit!, createdAt: b.createdAt! })
const exists = (kind: 'branch' | 'tag', name: string) =>
  new VarveError(kind === 'branch' ? ErrorCodes.BRANCH_EXISTS : ErrorCodes.TAG_EXISTS, `${kind} ${name} already exists`, { details: { [kind]: name } })
