import { mapInOrder } from '../util/map-in-order.js'
import { tableChangeStat, isParquetPath, type TableChangeStat } from '../parquet/table-change.js'
import type { ReadDatasetOptions } from '../parquet/dataset-reader.js'
import type { DiffTableOptions, TableDiffRecord } from '../parquet/table-diff.js'
import type { RecordBatch } from 'apache-arrow'
import os from 'node:os'
import { Readable } from 'node:stream'
import { commitStaged, dropTokens, mustGetBranch, stateOf, type CommitOptions } from '../commits/commit-staged.js'
import { mergeBase, walkHistory, type LogOptions } from '../commits/history.js'
import { blamePrefix, historyOfPrefix, type BlameLine } from '../commits/path-history.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { commitRoot, type Commit } from '../model/commit.js'
import { isObjectId, sha256Hex } from '../model/hash.js'
import type { TreeRef } from '../model/tree-node.js'
import { sameContent, validateMetadata, type Entry } from '../model/entry.js'
import { applyThreeWayToBranch } from '../merge/apply-to-branch.js'
import type { Conflict, MergeStrategy, ResolvedConflict } from '../merge/three-way.js'
import { compileResolve, type ResolveRule } from '../merge/resolve-rules.js'
import type { ConflictRows } from '../merge/conflict-rows.js'
import type { MergeRequestComment, MergeRequestRecord, MergeRequestState } from '../merge-requests/merge-request-store.js'
import { approvalRequired, MergeRequests, type MergeMergeRequestOptions, type MergeRequestMergeResult, type MergeRequestView, type OpenMergeRequestOptions } from './merge-requests.js'
import type { DataSource } from '../objects/byte-source.js'
import { ObjectStore, type TreeFormat } from '../objects/object-store.js'
import { resolveRevision } from '../refs/resolve.js'
import { getOnBranch, hasStagedRows, isDirty, mergedStaged, scanView, stagingTokens } from '../staging/branch-view.js'
import { stageChanges } from '../staging/stage-changes.js'
import { stageConditionally, type PutCondition } from '../staging/conditional-put.js'
import { putMany, type PutManyItem, type PutManyOptions, type PutManySummary } from '../ingest/put-many.js'
import type { BranchRecord, RefLogRecord, TagRecord } from '../stores/ref-store.js'
import { emptyTree } from '../tree/apply-changes.js'
import { diffTrees, type DiffEntry } from '../tree/tree-diff.js'
import { getEntry } from '../tree/tree-reader.js'
import type { JsonValue } from '../util/canonical-json.js'
import { systemClock, systemRandom, type Clock, type RandomSource } from '../util/clock.js'
import { comparePaths, prefixUpperBound, validateNewPath, validatePath, validatePrefix } from '../util/paths.js'
import { validateRefName } from '../util/ref-names.js'
import { Uploads } from '../uploads/uploads.js'
import { defaultRetryPolicy, LOST_RACE, retryOnLostRace, type RetryPolicy } from '../util/retry.js'
import { newStagingToken, noGates, type RepoContext } from './context.js'
import { Gates } from '../hooks/gates.js'
import { auditApprovals, type ApprovalAudit, type ApprovalAuditOptions } from './approval-audit.js'
import { signWithSshKeygen } from '../merge-requests/ssh-signature.js'
import type { WebhookSettings } from '../hooks/contracts/checks/webhook.js'
import { HookRegistry } from '../hooks/hook-registry.js'
import { listHookRuns } from '../hooks/hook-run-log.js'
import type { HookRun, Snapshot } from '../hooks/hook-types.js'
import { assertAllowed, fullProtection, getProtection, getRule, isBranchPattern, listProtections, setProtection, validatePattern, type BranchProtection } from '../hooks/branch-protection.js'
import { checkRefStoreBinding, FORMAT_VERSION, manifestTreeFields, NEW_TREE_FORMAT, readManifest, REPOSITORY_ID_SETTING, treeFormatOf, writeManifest } from './manifest.js'
import { openStores, type StoreSet } from './open-stores.js'
import { guard, guardBatches, guardIterable } from './guard.js'
import { collectGarbage, type GcOptions, type GcResult } from '../gc/gc.js'
import { WriteFence } from '../gc/write-fence.js'
import { getPin, listPins, removePin, setPin, type PinRecord } from '../refs/pins.js'
import { verifyRepository, type VerifyOptions, type VerifyResult } from '../gc/verify.js'

export interface RepositoryOptions {
  /** Author recorded when an operation names none (default: the OS user name). */
  readonly author?: string
  /** Branch `init` creates (default 'main'). */
  readonly defaultBranch?: string
  readonly clock?: Clock
  readonly random?: RandomSource
  readonly retry?: Partial<RetryPolicy>
  /** Memory for decoded tree nodes and commits (default 64 MiB). */
  readonly cacheBytes?: number
  /** Local store only: fsync objects before they become visible (default true). */
  readonly durable?: boolean
  /**
   * Where `type: webhook` checks may call (`allowHosts`; default: `VARVE_WEBHOOK_ALLOW_HOSTS`, comma
   * separated, else any host), the repository's name in their payloads, a diff link, the environment.
   */
  readonly webhooks?: WebhookSettings
  /** Adapter options, e.g. `s3: { endpoint, region, credentials, forcePathStyle }`. */
  readonly [adapterOption: string]: unknown
}

export type RepositoryLocation = string | StoreSet

/** How much of a ranged read one block-store request fetches. */
const RANGE_PIECE = 8 * 1024 * 1024
/** Whole objects up to this size are read in one request and verified in one hash. */
const SMALL_WHOLE_READ = 1024 * 1024

export interface BranchInfo {
  readonly name: string
  readonly head: string
}

export type ListItem = ({ readonly type: 'object' } & Entry) | { readonly type: 'prefix'; readonly path: string }

export interface ListOptions {
  /** Only paths starting with this. */
  readonly prefix?: string
  /** Only paths strictly after this (for paging). */
  readonly after?: string
  /** Group paths that continue past this string after the prefix into one 'prefix' item (like S3). */
  readonly delimiter?: string
  readonly limit?: number
}

export interface PutOptions {
  readonly metadata?: Record<string, string>
  readonly contentType?: string
  /**
   * `put` only: `'*'` stages the content only if the branch has no such path (staged or committed),
   * atomically with respect to other conditional puts on the branch, as S3's If-None-Match
   * (PRECONDITION_FAILED otherwise).
   */
  readonly ifNoneMatch?: '*'
  /** `put` only: stage only if the path holds exactly this address (an ETag), as S3's If-Match. */
  readonly ifMatch?: string
}

export interface UncommittedChange {
  readonly path: string
  readonly type: 'added' | 'removed' | 'changed'
  /** The staged entry (absent for 'removed'). */
  readonly entry?: Entry
}

export interface MergeOptions {
  /**
   * Compute the merge and run the pre-merge gates, but move nothing (`varve hooks check`). Conflicts
   * are returned in `conflicts` (with both sides' entries and Parquet row counts), not thrown.
   */
  readonly dryRun?: boolean
  /** How conflicts no `resolve` rule settles are handled (default 'fail': MERGE_CONFLICT listing them). */
  readonly strategy?: MergeStrategy
  /** Per-path rules, first match wins: `{ paths: 'train/**', take: 'source' }` settles those conflicts. */
  readonly resolve?: readonly ResolveRule[]
  readonly message?: string
  readonly author?: string
  /** Who acts on the author's behalf: recorded in the commit (`committer`) and as the ref log's actor. */
  readonly committer?: string
  readonly metadata?: Record<string, JsonValue>
}

export interface MergeResult {
  /** The merge commit, or the unchanged head when there was nothing to merge. */
  readonly commit: Commit
  /** True when the destination already contained the source: no commit was made. */
  readonly upToDate: boolean
  /** True for a dry run: `commit` is the merge as it would be; the branch did not move. */
  readonly dryRun?: boolean
  /** Dry run: the conflicts left (then `commit` is the unchanged head and no gate ran). */
  readonly conflicts?: readonly (Conflict & { rows?: ConflictRows })[]
  /** Dry run: the conflicts `resolve` or the strategy settled, with the side each took. */
  readonly resolved?: readonly (ResolvedConflict & { rows?: ConflictRows })[]
  /** Dry run: the pre-merge gate runs (all passed; a failure throws HOOK_FAILED). */
  readonly gateRuns?: readonly HookRun[]
}

/** Revert and cherry-pick settle conflicts like a merge (`dryRun` then returns them, as for merge). */
export interface ApplyCommitOptions extends AuthorOptions {
  readonly strategy?: MergeStrategy
  readonly resolve?: readonly ResolveRule[]
}

export interface AuthorOptions {
  readonly author?: string
  /** Who acts on the author's behalf: recorded in the commit (`committer`) and as the ref log's actor. */
  readonly committer?: string
  readonly message?: string
  readonly metadata?: Record<string, JsonValue>
}

export type { Conflict, MergeStrategy, ResolvedConflict, ResolveRule, ConflictRows }
export type { MergeRequestComment, MergeRequestRecord, MergeRequestState, MergeMergeRequestOptions, MergeRequestMergeResult, MergeRequestView, OpenMergeRequestOptions }

/** A versioned dataset repository. Obtain one with `Repository.init` or `Repository.open`. */
export class Repository {
  readonly #ctx: RepoContext
  readonly location: string
  /** Hooks registered in code for this open repository (see also contracts in `_varve/hooks/`). */
  readonly hooks = new HookRegistry()

  private constructor(ctx: RepoContext, location: string, webhooks: WebhookSettings) {
    const gates = new Gates({
      webhooks,
      blocks: ctx.blocks,
      objects: ctx.objects,
      clock: ctx.clock,
      random: ctx.random,
      registry: this.hooks,
      snapshot: (commit) => this.#snapshot(commit),
      diff: (from, to) => this.diff(from, to),
    })
    this.#ctx = { ...ctx, gates }
    this.location = location
    this.#requests = new MergeRequests(this.#ctx, {
      merge: (commit, label, dest, o) => this.#merge(commit, label, dest, o),
      diff: (from, to) => this.diff(from, to),
      commitsOf: (branch, limit) => this.log(branch, { firstParent: true, limit }),
    })
    this.uploads = new Uploads({
      blocks: ctx.blocks,
      clock: ctx.clock,
      random: ctx.random,
      precheck: async (branch, path, options) => {
        validateRefName(branch)
        validateNewPath(path)
        validateMetadata(options.metadata)
        if (options.contentType !== undefined && typeof options.contentType !== 'string')
          throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'contentType must be a string')
        await mustGetBranch(this.#ctx, branch)
        await assertAllowed(this.#ctx.refs, branch, 'directCommits')
      },
      put: (branch, path, blob, options) => this.put(branch, path, blob, options),
    })
  }

  readonly #requests: MergeRequests

  /**
   * Multipart uploads kept in the repository's store, shared by every process that opens it (a
   * gateway's instances): `create`, `uploadPart`, `parts`, `complete`, `abort`, `expire`. Only on
   * stores with multipart uploads of their own (`uploads.supported`: S3).
   */
  readonly uploads: Uploads


  /** A read-only view of one commit, as hooks see it. */
  #snapshot(commit: string): Snapshot {
    // The commit is known: read its tree directly, with no ref resolution (this runs on every gate).
    const view = () => this.#commitView(commit)
    return {
      commit,
      list: (o = {}) => guardBatches('list', () => this.#listBatches(view, o)),
      get: (path) => guard('get', async () => this.#readAt(await view(), commit, path)),
      stat: (path) => guard('stat', async () => this.#statAt(await view(), commit, path)),
    }
  }

  get defaultBranch(): string {
    return this.#ctx.defaultBranch
  }

  /** Creates a repository (a folder, a `scheme://` location, or explicit stores) with an empty default branch. */
  static async init(location: RepositoryLocation, options: RepositoryOptions = {}): Promise<Repository> {
    return guard('init', async () => {
      const defaultBranch = validateRefName(options.defaultBranch ?? 'main')
      const stores = await resolveStores(location, options, true)
      const name = describe(location)
      const existing = await readManifest(stores.blocks, name).catch((e) => (VarveError.is(e, ErrorCodes.NOT_A_REPOSITORY) ? undefined : Promise.reject(e)))
      if (existing) {
        await stores.refs.close?.()
        throw new VarveError(ErrorCodes.REPOSITORY_EXISTS, `${name} already holds a Varve repository`, { details: { location: name } })
      }
      const ctx = makeContext(stores, options, defaultBranch, NEW_TREE_FORMAT)
      // Objects first, then the branch, then the manifest: an interrupted init can simply be run again.
      const root = await emptyTree(ctx.objects)
      const commit = await ctx.objects.writeCommit({
        parents: [], root, message: 'Repository created', author: ctx.defaultAuthor, metadata: {}, createdAt: ctx.clock.now(), generation: 1,
      })
      await ctx.refs
        .createBranch(
          { name: defaultBranch, head: commit.id, stagingToken: newStagingToken(ctx), sealedTokens: [] },
          { ref: `branch:${defaultBranch}`, old: null, new: commit.id, operation: 'create', author: ctx.defaultAuthor, at: commit.createdAt },
        )
        .catch((e) => (VarveError.is(e, ErrorCodes.BRANCH_EXISTS) ? undefined : Promise.reject(e)))
      // The ref store learns the id before the manifest names it: the manifest is the commit point.
      const id = (await stores.refs.getSetting(REPOSITORY_ID_SETTING)) ?? ctx.random.hex(16)
      await stores.refs.setSetting(REPOSITORY_ID_SETTING, id)
      await writeManifest(stores.blocks, { format: 'varve', version: FORMAT_VERSION, defaultBranch, createdAt: commit.createdAt, id, ...manifestTreeFields(NEW_TREE_FORMAT) })
      return new Repository(ctx, name, webhookSettings(options, name))
    })
  }

  /** Opens an existing repository; NOT_A_REPOSITORY if the location holds none. */
  static async open(location: RepositoryLocation, options: RepositoryOptions = {}): Promise<Repository> {
    return guard('open', async () => {
      const stores = await resolveStores(location, options, false)
      const name = describe(location)
      let manifest
      let tree
      try {
        manifest = await readManifest(stores.blocks, name)
        tree = treeFormatOf(manifest, name)
        await checkRefStoreBinding(stores.refs, manifest, name)
      } catch (e) {
        await stores.refs.close?.()
        throw e
      }
      return new Repository(makeContext(stores, options, manifest.defaultBranch, tree), name, webhookSettings(options, name))
    })
  }

  async close(): Promise<void> {
    await this.#ctx.fence.settle()
    await this.#ctx.refs.close?.()
    await this.#ctx.blocks.close?.()
  }

  // ---- branches and tags -------------------------------------------------------------------------

  /** Creates a branch at a revision (default: the default branch). O(1): nothing is copied. */
  async createBranch(name: string, options: { from?: string; author?: string } = {}): Promise<BranchInfo> {
    return guard('createBranch', async () => {
      validateRefName(name)
      const head = await this.resolve(options.from ?? this.defaultBranch)
      const author = options.author ?? this.#ctx.defaultAuthor
      await this.#ctx.gates.pre({ event: 'pre-create-branch', branch: name, candidate: head })
      await this.#ctx.refs.createBranch(
        { name, head, stagingToken: newStagingToken(this.#ctx), sealedTokens: [] },
        { ref: `branch:${name}`, old: null, new: head, operation: 'create', author, at: this.#ctx.clock.now(), message: `from ${options.from ?? this.defaultBranch}` },
      )
      return { name, head }
    })
  }

  /** Deletes a branch and its uncommitted changes. The default branch cannot be deleted. */
  async deleteBranch(name: string, options: { author?: string } = {}): Promise<void> {
    return guard('deleteBranch', async () => {
      validateRefName(name)
      if (name === this.defaultBranch)
        throw new VarveError(ErrorCodes.DEFAULT_BRANCH, `${name} is the default branch and cannot be deleted`, { details: { branch: name } })
      const ctx = this.#ctx
      await assertAllowed(ctx.refs, name, 'deletion')
      const tokens = await retryOnLostRace(`delete ${name}`, ctx.retry, ctx.random, async () => {
        const b = await mustGetBranch(ctx, name)
        await ctx.gates.pre({ event: 'pre-delete-branch', branch: name, candidate: b.head, base: b.head })
        const ok = await ctx.refs.deleteBranch(b, {
          ref: `branch:${name}`, old: b.head, new: null, operation: 'delete', author: options.author ?? ctx.defaultAuthor, at: ctx.clock.now(),
        })
        return ok ? stagingTokens(b) : LOST_RACE
      })
      await dropTokens(ctx, tokens)
    })
  }

  async getBranch(name: string): Promise<BranchInfo & { dirty: boolean }> {
    return guard('getBranch', async () => {
      validateRefName(name)
      const b = await mustGetBranch(this.#ctx, name)
      return { name: b.name, head: b.head, dirty: await isDirty(this.#ctx, b) }
    })
  }

  branches(): AsyncIterable<BranchInfo> {
    const refs = this.#ctx.refs
    return guardIterable('branches', async function* () {
      for await (const b of refs.listBranches()) yield { name: b.name, head: b.head }
    })
  }

  /** Creates a tag at a revision. Tags never move. */
  async createTag(name: string, revision: string, options: { author?: string } = {}): Promise<TagRecord> {
    return guard('createTag', async () => {
      validateRefName(name, 'tag')
      const commit = await this.resolve(revision)
      await this.#ctx.gates.pre({ event: 'pre-create-tag', branch: name, candidate: commit })
      const tag = { name, commit, createdAt: this.#ctx.clock.now() }
      await this.#ctx.refs.createTag(tag, {
        ref: `tag:${name}`, old: null, new: commit, operation: 'create', author: options.author ?? this.#ctx.defaultAuthor, at: tag.createdAt,
      })
      return tag
    })
  }

  async deleteTag(name: string, options: { author?: string } = {}): Promise<void> {
    return guard('deleteTag', async () => {
      validateRefName(name, 'tag')
      const tag = await this.#ctx.refs.getTag(name)
      if (!tag) throw new VarveError(ErrorCodes.NOT_FOUND, `tag ${name} not found`, { details: { tag: name } })
      await this.#ctx.refs.deleteTag(name, {
        ref: `tag:${name}`, old: tag.commit, new: null, operation: 'delete', author: options.author ?? this.#ctx.defaultAuthor, at: this.#ctx.clock.now(),
      })
    })
  }

  tags(): AsyncIterable<TagRecord> {
    const refs = this.#ctx.refs
    return guardIterable('tags', () => refs.listTags())
  }

  // ---- writing -------------------------------------------------------------------------------------

  /** Stores the data (hashed while streaming, stored once per distinct content) and stages it on the branch. */
  async put(branch: string, path: string, data: DataSource, options: PutOptions = {}): Promise<Entry> {
    return guard('put', async () => {
      validateRefName(branch)
      validateNewPath(path)
      const metadata = validateMetadata(options.metadata)
      if (options.contentType !== undefined && typeof options.contentType !== 'string')
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'contentType must be a string')
      await mustGetBranch(this.#ctx, branch) // fail before uploading gigabytes to a missing or protected branch
      await assertAllowed(this.#ctx.refs, branch, 'directCommits')
      if (options.ifNoneMatch !== undefined && options.ifMatch !== undefined)
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a put takes ifNoneMatch or ifMatch, not both')
      const condition: PutCondition | undefined =
        options.ifNoneMatch !== undefined ? { ifNoneMatch: options.ifNoneMatch } : options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : undefined
      return this.#ctx.fence.run(async (objects) => {
        const { address, size } = await objects.writeData(data)
        const entry: Entry = {
          path, address, size, lastModified: this.#ctx.clock.now(),
          ...(options.contentType ? { contentType: options.contentType } : {}),
          ...(metadata ? { metadata } : {}),
        }
        if (condition) await stageConditionally({ ...this.#ctx, objects }, branch, entry, condition)
        else await stageChanges(this.#ctx, branch, [{ path, entry }])
        return entry
      })
    })
  }

  /**
   * Stores and stages many items in batches: small content is packed many to a stored object and each
   * batch is staged in one write, so a folder of 100k files is a few hundred writes, not 100k
   * (docs/decisions/0007-packs.md). Items are read `concurrency` at a time; a later item of a path wins.
   * A failure (INVALID_PATH, an unreadable stream, ...) names the item's path in `details.path` and
   * stages nothing of the unfinished batch; `details.staged` counts items of whole batches staged
   * before it. Aborting `signal` stores and stages what was read and resolves with `interrupted`.
   */
  async putMany(
    branch: string,
    items: AsyncIterable<PutManyItem> | Iterable<PutManyItem>,
    options: PutManyOptions = {},
  ): Promise<PutManySummary> {
    return guard('putMany', async () => {
      validateRefName(branch)
      if (!items || (typeof (items as AsyncIterable<PutManyItem>)[Symbol.asyncIterator] !== 'function' && typeof (items as Iterable<PutManyItem>)[Symbol.iterator] !== 'function'))
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'putMany needs an iterable (or async iterable) of { path, data }')
      await mustGetBranch(this.#ctx, branch)
      await assertAllowed(this.#ctx.refs, branch, 'directCommits')
      return this.#ctx.fence.run((objects) => putMany({ ...this.#ctx, objects }, branch, items, options))
    })
  }

  /**
   * Stages at `path` on `branch` the content `from` has at `fromPath` (any revision; a branch reads
   * through its staging area), without copying a byte: the new entry names the same stored data.
   * `metadata` / `contentType` replace the source's when given.
   */
  async copy(fromRef: string, fromPath: string, branch: string, path: string, options: PutOptions = {}): Promise<Entry> {
    return guard('copy', async () => {
      validateRefName(branch)
      validateNewPath(path)
      const metadata = validateMetadata(options.metadata)
      await mustGetBranch(this.#ctx, branch)
      await assertAllowed(this.#ctx.refs, branch, 'directCommits')
      return this.#ctx.fence.run(async (objects) => {
        const source = await this.#statAt(await this.#view(fromRef), fromRef, fromPath)
        await objects.relyOn({ ...source, path: fromPath })
        const { contentType: _t, metadata: _m, ...data } = source
        const entry: Entry = {
          ...data, path, lastModified: this.#ctx.clock.now(),
          ...(options.contentType ?? source.contentType ? { contentType: options.contentType ?? source.contentType! } : {}),
          ...(metadata ?? source.metadata ? { metadata: metadata ?? source.metadata! } : {}),
        }
        await stageChanges(this.#ctx, branch, [{ path, entry }])
        return entry
      })
    })
  }

  /** Stages the removal of a path; NOT_FOUND when the branch does not have it. */
  async delete(branch: string, path: string): Promise<void> {
    return guard('delete', async () => {
      validateRefName(branch)
      validatePath(path)
      const b = await mustGetBranch(this.#ctx, branch)
      await assertAllowed(this.#ctx.refs, branch, 'directCommits')
      if (!(await getOnBranch(this.#ctx, b, path)))
        throw new VarveError(ErrorCodes.NOT_FOUND, `${branch}:${path} not found`, { details: { branch, path } })
      await stageChanges(this.#ctx, branch, [{ path, entry: null }])
    })
  }

  /** What a commit of the branch would change now, in path order. */
  uncommitted(branch: string, options: { prefix?: string } = {}): AsyncIterable<UncommittedChange> {
    const ctx = this.#ctx
    return guardIterable('uncommitted', async function* () {
      validateRefName(branch)
      const prefix = validatePrefix(options.prefix)
      const b = await mustGetBranch(ctx, branch)
      const head = await ctx.objects.readCommit(b.head)
      for await (const c of mergedStaged(ctx, stagingTokens(b), prefix ? { prefix } : {})) {
        const old = await getEntry(ctx.objects, commitRoot(head), c.path)
        if (c.entry === null) {
          if (old) yield { path: c.path, type: 'removed' as const }
        } else if (!old) yield { path: c.path, type: 'added' as const, entry: c.entry }
        else if (!sameContent(old, c.entry)) yield { path: c.path, type: 'changed' as const, entry: c.entry }
      }
    })
  }

  /** Commits everything staged on the branch. NOTHING_TO_COMMIT unless `allowEmpty`. */
  async commit(branch: string, options: CommitOptions): Promise<Commit> {
    return guard('commit', async () => {
      validateRefName(branch)
      if (!options || typeof options.message !== 'string')
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'commit needs a message')
      if (options.committer !== undefined) checkPerson(options.committer, 'committer')
      await assertAllowed(this.#ctx.refs, branch, 'directCommits')
      return this.#ctx.fence.run((objects) => commitStaged({ ...this.#ctx, objects }, branch, options))
    })
  }

  // ---- reading -------------------------------------------------------------------------------------

  /** The commit id a revision names (branch, tag, id or unique prefix, with `~N` / `^N`). */
  async resolve(revision: string): Promise<string> {
    return guard('resolve', () => resolveRevision(this.#ctx, revision))
  }

  async getCommit(revision: string): Promise<Commit> {
    return guard('getCommit', async () => this.#ctx.objects.readCommit(await resolveRevision(this.#ctx, revision)))
  }

  /** The entry at `path`: on a branch including uncommitted changes, else at the commit. */
  async stat(ref: string, path: string): Promise<Entry> {
    return guard('stat', async () => this.#statAt(await this.#view(ref), ref, path))
  }

  /** The whole content, verified against its address (CORRUPT_OBJECT if it no longer matches). */
  async get(ref: string, path: string): Promise<Uint8Array> {
    return guard('get', async () => this.#readAt(await this.#view(ref), ref, path))
  }

  /** The content as a stream; it fails with CORRUPT_OBJECT at its end if the bytes do not match. */
  async getStream(ref: string, path: string): Promise<Readable> {
    return guard('getStream', async () => {
      const entry = await this.stat(ref, path)
      return Readable.from(await this.#ctx.objects.readDataStream({ ...entry, path }), { objectMode: false })
    })
  }

  /**
   * The bytes an entry (from `stat` or `list`) names, as a stream: whole (verified against its address
   * at the end, CORRUPT_OBJECT if they no longer match) or the range [start, end) read in pieces of
   * 8 MiB (a range cannot be hashed against the address; S3 does not verify ranges either). Reading
   * the entry itself, not a path again, means headers and bytes describe one version.
   */
  streamEntry(entry: Entry, range: { start?: number; end?: number } = {}): Readable {
    return Readable.from(this.readEntry(entry, range), { objectMode: false })
  }

  /**
   * `streamEntry` as chunks, for a consumer that writes each out before it asks for the one after
   * next: with `reuseBuffers` a whole read goes through two reused buffers (a chunk stays valid only
   * until the one after next is requested), so a gigabyte read allocates nothing per chunk. Do not
   * pipe such chunks into a stream that reads ahead.
   */
  readEntry(entry: Entry, options: { start?: number; end?: number; reuseBuffers?: boolean } = {}): AsyncIterable<Uint8Array> {
    const objects = this.#ctx.objects
    const start = options.start ?? 0
    const end = Math.min(options.end ?? entry.size, entry.size)
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end)
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `invalid range [${start}, ${end}) of ${entry.size} bytes`)
    if (start === 0 && end === entry.size && entry.size <= SMALL_WHOLE_READ)
      // One plain read and one hash: a stream per small object costs more than the object.
      return guardIterable('streamEntry', async function* () {
        const bytes = await objects.readDataRange(entry, 0, entry.size)
        if (bytes.byteLength !== entry.size || sha256Hex(bytes) !== entry.address)
          throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `data object ${entry.address} of ${entry.path} no longer matches its address`, { details: { object: entry.address, path: entry.path } })
        yield bytes
      })
    if (start === 0 && end === entry.size) {
      const reuseBuffers = options.reuseBuffers === true
      return guardIterable('streamEntry', async function* () { yield* await objects.readDataStream(entry, { reuseBuffers }) })
    }
    return guardIterable('streamEntry', async function* () {
      for (let at = start; at < end; at += RANGE_PIECE) yield await objects.readDataRange(entry, at, Math.min(end, at + RANGE_PIECE))
    })
  }

  /**
   * A URL that reads an entry's bytes straight from the store for `expiresSeconds` (default 300),
   * without credentials, where the store hands out URLs (S3: a presigned GET of the physical object).
   * `range` is set when the entry is part of a larger stored object (a pack): the URL then serves
   * exactly those bytes only to a request that sends `Range: bytes=start-(end-1)`. Undefined when the
   * store cannot presign or the object is not at its key (read it through `readEntry` then). The
   * bytes are not verified on the way: the reader may check them against `entry.address` (SHA-256).
   */
  async presignEntry(entry: Entry, options: { expiresSeconds?: number } = {}): Promise<{ url: string; range?: { start: number; end: number } } | undefined> {
    return guard('presignEntry', async () => {
      const presign = this.#ctx.blocks.presignGet
      if (!presign) return undefined
      const at = await this.#ctx.objects.locate(entry)
      if (!at) return undefined
      const expiresSeconds = options.expiresSeconds ?? 300
      if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 7 * 24 * 3600)
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'expiresSeconds is a whole number of seconds from 1 to 604800 (7 days)')
      const whole = entry.pack === undefined
      const url = await presign.call(this.#ctx.blocks, at.key, { expiresSeconds, ...(whole ? {} : { range: [at.start, at.end] as const }) })
      return whole ? { url } : { url, range: { start: at.start, end: at.end } }
    })
  }

  /** Entries (and with `delimiter`, common prefixes) in path order, streamed. */
  list(ref: string, options: ListOptions = {}): AsyncIterable<ListItem> {
    return guardBatches('list', () => this.#listBatches(() => this.#view(ref), options))
  }

  /** `viewOf` is called after the options are validated, so a bad option never leaves a lookup in flight. */
  async *#listBatches(viewOf: () => Promise<View>, options: ListOptions): AsyncGenerator<ListItem[]> {
    const prefix = validatePrefix(options.prefix)
    const delimiter = options.delimiter ?? ''
    if (typeof delimiter !== 'string') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'delimiter must be a string')
    let left = options.limit ?? Infinity
    const view = await viewOf()
    let from = prefix
    let exclusive = false
    if (options.after !== undefined && comparePaths(options.after, prefix) >= 0) {
      from = options.after
      exclusive = true
    }
    let lastPrefix: string | undefined
    for (;;) {
      let reseek = false
      for await (const batch of scanView(this.#ctx, view.root, view.tokens, { from, exclusive, prefix })) {
        const out: ListItem[] = []
        let ended = false
        for (const e of batch) {
          if (left <= 0 || (!e.path.startsWith(prefix) && comparePaths(e.path, prefix) > 0)) {
            ended = true
            break
          }
          if (!e.path.startsWith(prefix)) continue
          const cut = delimiter ? e.path.indexOf(delimiter, prefix.length) : -1
          if (cut >= 0) {
            const common = e.path.slice(0, cut + delimiter.length)
            if (common === lastPrefix) continue
            lastPrefix = common
            left--
            out.push({ type: 'prefix', path: common })
            // Skip everything under the common prefix without reading it: seek past it.
            from = prefixUpperBound(common)
            exclusive = true
            reseek = true
            break
          }
          left--
          out.push(toListItem(e))
        }
        if (out.length) yield out
        if (ended) return
        if (reseek) break
      }
      if (!reseek) return
    }
  }

  /** The best common ancestor of two revisions (git merge-base), or undefined when they share none. */
  async mergeBase(left: string, right: string): Promise<string | undefined> {
    return guard('mergeBase', async () => {
      const [a, b] = await Promise.all([resolveRevision(this.#ctx, left), resolveRevision(this.#ctx, right)])
      return mergeBase(this.#ctx.objects, a, b)
    })
  }

  /** Whether `ancestor` is in the history of `revision` (a revision is its own ancestor). */
  async isAncestor(ancestor: string, revision: string): Promise<boolean> {
    return guard('isAncestor', async () => {
      const a = await resolveRevision(this.#ctx, ancestor)
      return (await mergeBase(this.#ctx.objects, a, await resolveRevision(this.#ctx, revision))) === a
    })
  }

  /** Differences between two revisions' trees, in path order. Cost grows with the changed nodes. */
  diff(left: string, right: string, options: { prefix?: string } = {}): AsyncIterable<DiffEntry> {
    const ctx = this.#ctx
    return guardIterable('diff', async function* () {
      const prefix = validatePrefix(options.prefix)
      const [a, b] = await Promise.all([resolveRevision(ctx, left), resolveRevision(ctx, right)])
      const [ca, cb] = await Promise.all([ctx.objects.readCommit(a), ctx.objects.readCommit(b)])
      yield* diffTrees(ctx.objects, commitRoot(ca), commitRoot(cb), undefined, { prefix })
    })
  }

  /**
   * For each Parquet file (`*.parquet`) that differs between two revisions, in path order: rows before
   * and after and the columns added, removed or retyped, from the two footers only (a few KiB of each
   * file, 8 files at a time). A side that is not valid Parquet is reported in `invalid`.
   */
  tableChangeStats(left: string, right: string, options: { prefix?: string } = {}): AsyncIterable<TableChangeStat> {
    const objects = this.#ctx.objects
    const changes = this.diff(left, right, options)
    return guardIterable('tableChangeStats', async function* () {
      async function* parquet() {
        for await (const d of changes) if (isParquetPath(d.path)) yield d
      }
      yield* mapInOrder(parquet(), 8, (d) => tableChangeStat(objects, d))
    })
  }

  /**
   * Rows added, removed and changed between two versions of a table, matched by `key`: a Parquet
   * file (`path`), or every Parquet file under a prefix (`path` ending in `/`) read as one table.
   * Streams a `schema` record, then the rows (changed ones with the columns that changed and both
   * versions), then a `summary`, in bounded memory (hashes spilled to disk; see table-diff.ts).
   * A file missing on one side counts as an empty table.
   */
  diffTable(left: string, right: string, path: string, options: DiffTableOptions): AsyncIterable<TableDiffRecord> {
    const objects = this.#ctx.objects
    return guardIterable('diffTable', async function* (this: Repository) {
      // on first use: Arrow and the Parquet readers stay out of every other command's start-up
      const [{ isDataFile }, { diffTables }] = await Promise.all([import('../parquet/dataset-reader.js'), import('../parquet/table-diff.js')])
      const filesAt = async (ref: string): Promise<Entry[]> => {
        if (path === '' || path.endsWith('/')) {
          const at = validatePrefix(path)
          const files: Entry[] = []
          for await (const item of this.list(ref, { prefix: at })) if (item.type === 'object' && isDataFile(item.path, at)) files.push(item)
          return files
        }
        return this.stat(ref, path).then((e) => [e], (err: unknown) => (VarveError.is(err, ErrorCodes.NOT_FOUND) ? [] : Promise.reject(err)))
      }
      const [before, after] = await Promise.all([filesAt(left), filesAt(right)])
      if (!before.length && !after.length) throw new VarveError(ErrorCodes.NOT_FOUND, `no Parquet file at ${path || '/'} in ${left} or ${right}`, { details: { path } })
      yield* diffTables(objects, before, after, options)
    }.bind(this))
  }

  /**
   * Arrow record batches of every Parquet file under `prefix` at a ref, as one dataset: Hive
   * partition folders (`year=2024/`) become string columns, `columns` projects (file columns and
   * partition keys), `filter` picks files by partition values, and files are read by ranges one row
   * group at a time, so memory holds a few batches of `batchSize` rows whatever the dataset's size.
   * The files are those the ref has when the read starts (a branch's later changes are not mixed in).
   */
  readDataset(ref: string, prefix: string, options: ReadDatasetOptions = {}): AsyncIterable<RecordBatch> {
    const objects = this.#ctx.objects
    return guardIterable('readDataset', async function* (this: Repository) {
      const at = validatePrefix(prefix)
      const files: Entry[] = []
      for await (const item of this.list(ref, { prefix: at })) if (item.type === 'object') files.push(item)
      const { readDatasetBatches } = await import('../parquet/dataset-reader.js') // on first use, as above
      yield* readDatasetBatches(objects, (async function* () { yield* files })(), at, options)
    }.bind(this))
  }

  /**
   * Commits reachable from a revision, newest first, each once. With `prefix`, only those that
   * changed something under it, each compared with its first parent (cost: the nodes each commit
   * changed under the prefix).
   */
  log(revision: string, options: LogOptions = {}): AsyncIterable<Commit> {
    const ctx = this.#ctx
    return guardIterable('log', async function* () {
      if (options.prefix === undefined) return yield* walkHistory(ctx.objects, await resolveRevision(ctx, revision), options)
      const prefix = validatePrefix(options.prefix)
      yield* historyOfPrefix(ctx.objects, await resolveRevision(ctx, revision), prefix, options)
    })
  }

  /**
   * For every path under `prefix` at a revision (a branch: its head commit), the first-parent commit
   * that last changed it. Streamed as each path is settled, newest commits first.
   */
  blame(revision: string, prefix = ''): AsyncIterable<BlameLine> {
    const ctx = this.#ctx
    return guardIterable('blame', async function* () {
      const p = validatePrefix(prefix)
      yield* blamePrefix(ctx.objects, await resolveRevision(ctx, revision), p)
    })
  }

  /** Every recorded move of a branch (or, if no branch has that name, a tag), newest first. */
  refLog(name: string, options: { limit?: number } = {}): AsyncIterable<RefLogRecord> {
    const refs = this.#ctx.refs
    return guardIterable('refLog', async function* () {
      let any = false
      for await (const r of refs.listRefLog(`branch:${name}`, options)) {
        any = true
        yield r
      }
      if (!any) yield* refs.listRefLog(`tag:${name}`, options)
    })
  }

  // ---- merging and rollback ------------------------------------------------------------------------

  /**
   * Three-way merge of a revision into a clean branch; a merge commit has two parents. A branch whose
   * rules require merge requests (`requiredApprovals`, `requireMergeRequest`) refuses it with
   * APPROVAL_REQUIRED: use `openMergeRequest` and `mergeMergeRequest` (a dry run is allowed).
   */
  async merge(source: string, destination: string, options: MergeOptions = {}): Promise<MergeResult> {
    return guard('merge', async () => {
      validateRefName(destination)
      if (!options.dryRun) {
        const rules = await getProtection(this.#ctx.refs, destination)
        if (rules?.requireMergeRequest) throw approvalRequired(destination, { required: rules.requiredApprovals, counted: [], stale: [], satisfied: false }, { source })
      }
      const src = await resolveRevision(this.#ctx, source)
      return this.#merge(src, source, destination, options)
    })
  }

  /** Merges commit `src` (named `label` in messages and hooks) into `destination`, with no approval rule. */
  async #merge(src: string, label: string, destination: string, options: MergeOptions): Promise<MergeResult> {
    validateRefName(destination)
    const strategy = checkStrategy(options.strategy)
    const resolve = compileResolve(options.resolve)
    const ctx = this.#ctx
    const srcCommit = await ctx.objects.readCommit(src)
    const author = options.author ?? ctx.defaultAuthor
    const result = await applyThreeWayToBranch(ctx, destination, async (head) => {
      const base = await mergeBase(ctx.objects, src, head.id)
      if (base === src) return 'up-to-date'
      const baseRoot = base ? commitRoot(await ctx.objects.readCommit(base)) : await emptyTree(ctx.objects)
      return {
        baseRoot, theirsRoot: commitRoot(srcCommit), parents: (h) => [h, src], strategy, author, operation: 'merge', source: label,
        ...(options.committer !== undefined ? { committer: checkPerson(options.committer, 'committer') } : {}),
        ...(resolve ? { resolve } : {}),
        message: options.message ?? `Merge ${label} into ${destination}`,
        metadata: {
          ...(options.metadata ?? {}), 'varve.merge.source': label, 'varve.merge.strategy': strategy,
          ...(options.resolve ? { 'varve.merge.resolve': options.resolve.map((r) => ({ paths: r.paths, take: r.take })) as JsonValue } : {}),
        },
      }
    }, options.dryRun ? { dryRun: true } : {})
    return options.dryRun ? { ...result, dryRun: true } : result
  }

  /**
   * A new commit on the branch that undoes a commit's changes (for a merge: relative to `parent`,
   * default 1). Conflicts (the branch changed a path since) follow `resolve` and `strategy`, as in a
   * merge: "source" is the reverted state, "dest" the branch. `dryRun` returns what would happen.
   */
  async revert(branch: string, revision: string, options: ApplyCommitOptions & { parent?: number; dryRun?: false }): Promise<Commit>
  async revert(branch: string, revision: string, options: ApplyCommitOptions & { parent?: number; dryRun: true }): Promise<MergeResult>
  async revert(branch: string, revision: string): Promise<Commit>
  async revert(branch: string, revision: string, options: ApplyCommitOptions & { parent?: number; dryRun?: boolean } = {}): Promise<Commit | MergeResult> {
    return guard('revert', () =>
      this.#replayOnto(branch, revision, 'revert', options, async (target) => {
        const parentId = target.parents[(options.parent ?? 1) - 1]
        if (!parentId)
          throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `commit ${target.id.slice(0, 12)} has no parent ${options.parent ?? 1} to revert to`)
        const parent = await this.#ctx.objects.readCommit(parentId)
        return { baseRoot: commitRoot(target), theirsRoot: commitRoot(parent), message: `Revert "${target.message}"`, metadata: { 'varve.revert.commit': target.id } }
      }),
    )
  }

  /** A new commit on the branch that applies one commit's changes (relative to its first parent); conflicts as in `revert`. */
  async cherryPick(branch: string, revision: string, options: ApplyCommitOptions & { dryRun?: false }): Promise<Commit>
  async cherryPick(branch: string, revision: string, options: ApplyCommitOptions & { dryRun: true }): Promise<MergeResult>
  async cherryPick(branch: string, revision: string): Promise<Commit>
  async cherryPick(branch: string, revision: string, options: ApplyCommitOptions & { dryRun?: boolean } = {}): Promise<Commit | MergeResult> {
    return guard('cherryPick', () =>
      this.#replayOnto(branch, revision, 'cherry-pick', options, async (target) => ({
        baseRoot: target.parents[0] ? commitRoot(await this.#ctx.objects.readCommit(target.parents[0])) : await emptyTree(this.#ctx.objects),
        theirsRoot: commitRoot(target), message: target.message, metadata: { 'varve.cherry-pick.commit': target.id },
      })),
    )
  }

  /**
   * Revert and cherry-pick: one new commit on the branch bringing the edits base -> theirs that
   * `sides` derives from the target commit, with the caller's strategy, rules, message and metadata.
   */
  async #replayOnto(
    branch: string,
    revision: string,
    operation: 'revert' | 'cherry-pick',
    options: ApplyCommitOptions & { dryRun?: boolean },
    sides: (target: Commit) => Promise<{ baseRoot: TreeRef; theirsRoot: TreeRef; message: string; metadata: Record<string, JsonValue> }>,
  ): Promise<Commit | MergeResult> {
    validateRefName(branch)
    const ctx = this.#ctx
    await assertAllowed(ctx.refs, branch, 'directCommits')
    const strategy = checkStrategy(options.strategy)
    const resolve = compileResolve(options.resolve)
    const target = await ctx.objects.readCommit(await resolveRevision(ctx, revision))
    const { baseRoot, theirsRoot, message, metadata } = await sides(target)
    const r = await applyThreeWayToBranch(ctx, branch, async () => ({
      baseRoot, theirsRoot, parents: (h) => [h], strategy, author: options.author ?? ctx.defaultAuthor, operation,
      ...(options.committer !== undefined ? { committer: checkPerson(options.committer, 'committer') } : {}),
      ...(resolve ? { resolve } : {}),
      message: options.message ?? message,
      metadata: { ...(options.metadata ?? {}), ...metadata },
    }), options.dryRun ? { dryRun: true } : {})
    return options.dryRun ? { ...r, dryRun: true } : r.commit
  }

  // ---- merge requests ------------------------------------------------------------------------------

  /**
   * Opens a request to merge branch `source` into branch `dest`; returns its id (1, 2, ...). Stored in
   * the ref store, so every machine sharing the repository sees it; every change is in its ref log.
   */
  async openMergeRequest(source: string, dest: string, options: OpenMergeRequestOptions): Promise<number> {
    return guard('openMergeRequest', () => this.#requests.open(source, dest, options))
  }

  /** Merge requests in id order, all or those in one state. */
  mergeRequests(options: { state?: MergeRequestState } = {}): AsyncIterable<MergeRequestRecord> {
    return guardIterable('mergeRequests', () => this.#requests.list(options))
  }

  /**
   * One request; while open, also where it stands now: the heads, the source's changes, the
   * conflicts, the destination's pre-merge gates run on the merge as it would be (nothing moves),
   * the approvals that count, and whether it can merge. `standing: false` skips all that (the stored
   * request and the two heads only: no diff, no gate run).
   */
  async mergeRequest(id: number, options: { standing?: boolean } = {}): Promise<MergeRequestView> {
    return guard('mergeRequest', () => this.#requests.show(id, options))
  }

  /** Every change of a request (open, approve, comment, merge, ...): who, when, what; newest first. */
  mergeRequestLog(id: number): AsyncIterable<RefLogRecord> {
    return guardIterable('mergeRequestLog', () => this.#requests.log(id))
  }

  /**
   * Approves a request for the source's current head (with `head`: only if that is still the head,
   * CONFLICT otherwise). The author cannot approve their own request (PERMISSION_DENIED). Where the
   * destination requires `signedApprovals`, `signature` is an SSH signature (`ssh-keygen -Y sign -n
   * varve-approval`) of `approvalSigningText(id, reviewer)` by a key `_varve/allowed_signers` on the
   * destination lists for the reviewer (PERMISSION_DENIED otherwise); `signApproval` makes one.
   */
  async approve(id: number, options: { reviewer?: string; head?: string; signature?: string } = {}): Promise<MergeRequestRecord> {
    return guard('approve', () => this.#requests.approve(id, options))
  }

  /** The text a reviewer signs to approve request `id` at its source's current head, and that head. */
  async approvalSigningText(id: number, reviewer: string): Promise<{ text: string; sourceHead: string }> {
    return guard('approvalSigningText', () => this.#requests.signingText(id, reviewer))
  }

  /**
   * Approves request `id` as `reviewer`, signed with an SSH key (`keyFile`: a private key, or a public
   * key whose private half is in ssh-agent) through `ssh-keygen -Y sign`, as git signs commits.
   */
  async signApproval(id: number, options: { reviewer?: string; keyFile: string; head?: string }): Promise<MergeRequestRecord> {
    return guard('signApproval', async () => {
      if (!options || typeof options.keyFile !== 'string' || !options.keyFile)
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'signApproval needs { keyFile }: an SSH private key, or a public key held by ssh-agent')
      const reviewer = options.reviewer ?? this.#ctx.defaultAuthor
      const { text, sourceHead } = await this.#requests.signingText(id, reviewer)
      const signature = await signWithSshKeygen(text, options.keyFile)
      // (with `head`, approve refuses if the source moved from what the reviewer looked at)
      return this.#requests.approve(id, { reviewer, head: options.head ?? sourceHead, signature })
    })
  }

  async unapprove(id: number, options: { reviewer?: string } = {}): Promise<MergeRequestRecord> {
    return guard('unapprove', () => this.#requests.unapprove(id, options))
  }

  /** Adds a comment, about the request or (with `path`) about one path. */
  async comment(id: number, options: { author?: string; text: string; path?: string }): Promise<MergeRequestComment> {
    return guard('comment', () => this.#requests.comment(id, options))
  }

  async closeMergeRequest(id: number, options: { author?: string } = {}): Promise<MergeRequestRecord> {
    return guard('closeMergeRequest', () => this.#requests.close(id, options))
  }

  /**
   * Merges an approved request through the destination's pre-merge gates, as of the source head the
   * approvals are checked against. The merge commit's metadata names the request
   * (`varve.merge-request`) and its approvers (`varve.merge-request.approvers`). Of several
   * processes merging one request at once, exactly one merge commit results.
   */
  async mergeMergeRequest(id: number, options: MergeMergeRequestOptions = {}): Promise<MergeRequestMergeResult> {
    return guard('mergeMergeRequest', () => this.#requests.merge(id, options))
  }

  /**
   * Rollback: moves the branch to a revision, recorded in the ref log (which keeps the old head
   * reachable by id). Refused on uncommitted changes unless `discardChanges`.
   */
  async reset(branch: string, revision: string, options: { author?: string; discardChanges?: boolean } = {}): Promise<BranchInfo> {
    return guard('reset', async () => {
      validateRefName(branch)
      const ctx = this.#ctx
      const target = await resolveRevision(ctx, revision)
      await assertAllowed(ctx.refs, branch, 'reset')
      const dropped = await retryOnLostRace(`reset ${branch}`, ctx.retry, ctx.random, async () => {
        const b: BranchRecord = await mustGetBranch(ctx, branch)
        await ctx.gates.pre({ event: 'pre-reset', branch, candidate: target, base: b.head })
        const dirty = await isDirty(ctx, b)
        if (dirty && !options.discardChanges)
          throw new VarveError(ErrorCodes.DIRTY_BRANCH, `branch ${branch} has uncommitted changes (pass discardChanges to drop them)`, {
            details: { branch },
          })
        // Rows that change nothing against the old head would hide the target's content: start afresh.
        const fresh = dirty || (await hasStagedRows(ctx, b))
        const next = fresh ? { ...stateOf(b), head: target, stagingToken: newStagingToken(ctx), sealedTokens: [] } : { ...stateOf(b), head: target }
        const ok = await ctx.refs.updateBranch(b, next, {
          ref: `branch:${branch}`, old: b.head, new: target, operation: 'reset', author: options.author ?? ctx.defaultAuthor,
          at: ctx.clock.now(), message: `reset to ${revision}`,
        })
        return ok ? (fresh ? stagingTokens(b) : []) : LOST_RACE
      })
      await dropTokens(ctx, dropped)
      return { name: branch, head: target }
    })
  }

  // ---- maintenance ---------------------------------------------------------------------------------

  /**
   * Deletes objects nothing retained refers to: not reachable from a branch, tag, staged change, a
   * commit younger than `retainDays`, or a ref-log entry inside that window; and older than
   * `graceSeconds` (uploads in flight are safe). Safe to run while others write.
   */
  async gc(options: GcOptions = {}): Promise<GcResult> {
    return guard('gc', () => collectGarbage(this.#ctx, options))
  }

  /**
   * The audit of approvals: every commit on the first-parent line of protected branches that landed
   * while the rules required merge requests, but is not the merge of a request approved as they
   * required (and, under `signedApprovals`, signed by keys the branch's allowed signers list). A
   * writer that bypassed the library (writing refs straight into the bucket) is detected here, not prevented.
   */
  async verifyApprovals(options: ApprovalAuditOptions = {}): Promise<ApprovalAudit> {
    return guard('verifyApprovals', () => auditApprovals(this.#ctx, options))
  }

  /** Checks that everything reachable exists and decodes (with `full`, re-hashes every data object). */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    return guard('verify', () => verifyRepository(this.#ctx, options))
  }

  // ---- gates ---------------------------------------------------------------------------------------

  /** Recorded hook runs, newest first, of one branch or all. */
  hookRuns(options: { branch?: string; limit?: number } = {}): AsyncIterable<HookRun> {
    const blocks = this.#ctx.blocks
    return guardIterable('hookRuns', () => listHookRuns(blocks, options))
  }

  /**
   * Protects a branch, or every branch a pattern matches (`release/*`; `*` stays within a `/`
   * segment, `**` crosses them): what is set to false is refused with PROTECTED_BRANCH. The default
   * protects everything, so changes arrive by merge only, through the gates. `requiredApprovals`
   * makes merges arrive only through merge requests with that many approvals. A branch under several
   * rules (its own and patterns) gets the strictest of each. Setting rules again replaces them.
   */
  async protectBranch(name: string, rules: Partial<BranchProtection> = {}, options: { author?: string } = {}): Promise<BranchProtection> {
    return guard('protectBranch', async () => {
      validatePattern(name)
      if (!isBranchPattern(name)) await mustGetBranch(this.#ctx, name)
      const full = fullProtection(rules)
      await setProtection(this.#ctx.refs, name, full, { author: options.author ?? this.#ctx.defaultAuthor, at: this.#ctx.clock.now() })
      return full
    })
  }

  /** Removes the rules stored under a branch name or pattern (NOT_FOUND when there are none and no such branch). */
  async unprotectBranch(name: string, options: { author?: string } = {}): Promise<void> {
    return guard('unprotectBranch', async () => {
      validatePattern(name)
      if (!(await getRule(this.#ctx.refs, name)) && (isBranchPattern(name) || !(await this.#ctx.refs.getBranch(name))))
        throw new VarveError(ErrorCodes.NOT_FOUND, `no protection rules for ${name}`, { details: { branch: name } })
      await setProtection(this.#ctx.refs, name, null, { author: options.author ?? this.#ctx.defaultAuthor, at: this.#ctx.clock.now() })
    })
  }

  /** The rules a branch is under (its own and every matching pattern's, combined), or undefined. */
  async branchProtection(name: string): Promise<BranchProtection | undefined> {
    return guard('branchProtection', () => getProtection(this.#ctx.refs, name))
  }

  /** Every stored rule: `branch` is a branch name or a pattern. */
  protectedBranches(): AsyncIterable<{ branch: string; rules: BranchProtection }> {
    const refs = this.#ctx.refs
    return guardIterable('protectedBranches', () => listProtections(refs))
  }

  // ---- pins ----------------------------------------------------------------------------------------

  /**
   * Pins the commit a revision names now under `name` (a ref in the ref store, like a tag that may be
   * moved on purpose): garbage collection keeps all of its data until `unpin`. Re-pinning a name moves it.
   */
  async pin(name: string, revision: string, options: { author?: string } = {}): Promise<PinRecord> {
    return guard('pin', async () => {
      validateRefName(name)
      const commit = await resolveRevision(this.#ctx, revision)
      const pin: PinRecord = { name, commit, ref: revision, createdAt: this.#ctx.clock.now(), author: options.author ?? this.#ctx.defaultAuthor }
      await setPin(this.#ctx.refs, pin)
      return pin
    })
  }

  /** A pin by name; NOT_FOUND when there is none. */
  async getPin(name: string): Promise<PinRecord> {
    return guard('getPin', async () => {
      const pin = await getPin(this.#ctx.refs, name)
      if (!pin) throw new VarveError(ErrorCodes.NOT_FOUND, `no pin named ${name}`, { details: { pin: name } })
      return pin
    })
  }

  /** Every pin, in name order. */
  pins(): AsyncIterable<PinRecord> {
    const refs = this.#ctx.refs
    return guardIterable('pins', () => listPins(refs))
  }

  /** Removes a pin (NOT_FOUND when there is none): its data is collected like any other from then on. */
  async unpin(name: string): Promise<void> {
    return guard('unpin', async () => {
      if (!(await removePin(this.#ctx.refs, name)))
        throw new VarveError(ErrorCodes.NOT_FOUND, `no pin named ${name}`, { details: { pin: name } })
    })
  }

  // ---- helpers -------------------------------------------------------------------------------------

  /**
   * What a ref reads: a branch reads through its staging area, any other revision reads its commit's
   * tree. One branch lookup, shared with revision resolution.
   */
  async #view(ref: string): Promise<View> {
    if (typeof ref !== 'string' || !ref) throw new VarveError(ErrorCodes.INVALID_REF, 'a ref must be a non-empty string')
    const hasSuffix = /[~^]/.test(ref)
    // A full commit id is never a branch name (validateRefName): a pinned read skips the branch lookup.
    if (!hasSuffix && isObjectId(ref) && (await this.#ctx.objects.hasCommit(ref))) return this.#commitView(ref)
    const b = hasSuffix ? undefined : await this.#ctx.refs.getBranch(ref)
    if (b) return { root: commitRoot(await this.#ctx.objects.readCommit(b.head)), tokens: stagingTokens(b), branch: b }
    return this.#commitView(await resolveRevision(this.#ctx, ref, { notABranch: !hasSuffix }))
  }

  async #commitView(commit: string): Promise<View> {
    return { root: commitRoot(await this.#ctx.objects.readCommit(commit)), tokens: [] }
  }

  async #statAt(view: View, ref: string, path: string): Promise<Entry> {
    validatePath(path)
    const entry = view.branch ? await getOnBranch(this.#ctx, view.branch, path) : await getEntry(this.#ctx.objects, view.root, path)
    if (!entry) throw new VarveError(ErrorCodes.NOT_FOUND, `${ref}:${path} not found`, { details: { ref, path } })
    return entry
  }

  async #readAt(view: View, ref: string, path: string): Promise<Uint8Array> {
    const entry = await this.#statAt(view, ref, path)
    return this.#ctx.objects.readData({ ...entry, path })
  }
}

function checkPerson(name: unknown, what: string): string {
  if (typeof name !== 'string' || !name.trim() || name.length > 256 || /[\u0000-\u001f\u007f]/.test(name))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${what} must be a non-empty name of at most 256 characters, without control characters`)
  return name
}

function checkStrategy(strategy: unknown): MergeStrategy {
  const s = strategy ?? 'fail'
  if (s !== 'fail' && s !== 'source-wins' && s !== 'dest-wins') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `unknown merge strategy ${JSON.stringify(s)}`)
  return s
}

/**
 * A listed entry is the entry itself: a reader hands it on as it is (readDataset, diffTable,
 * contracts), so no field may be left out (copying fields one by one once dropped where packed
 * bytes are, and every reader of a listing failed on packed data).
 */
function toListItem(e: Entry): ListItem {
  return { type: 'object', ...e }
}

interface View {
  readonly root: TreeRef
  /** Staging tokens laid over the tree (a branch's), newest first; empty for a commit. */
  readonly tokens: string[]
  readonly branch?: BranchRecord
}

async function resolveStores(location: RepositoryLocation, options: RepositoryOptions, create: boolean): Promise<StoreSet> {
  if (typeof location === 'string') {
    if (!location) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a repository location must not be empty')
    return openStores(location, { ...options, create, random: options.random ?? systemRandom })
  }
  if (!location || typeof location !== 'object' || !location.blocks || !location.refs)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a repository location is a path, a URL, or { blocks, refs }')
  return location
}

const describe = (location: RepositoryLocation) => (typeof location === 'string' ? location : '(explicit stores)')

function makeContext(stores: StoreSet, options: RepositoryOptions, defaultBranch: string, tree: TreeFormat): RepoContext {
  const random = options.random ?? systemRandom
  const objects: ObjectStore = new ObjectStore(stores.blocks, {
    random,
    tree,
    ...(options.cacheBytes ? { cacheBytes: options.cacheBytes } : {}),
    quarantineEpochs: () => fence.pendingEpochs(),
  })
  const fence = new WriteFence(stores.refs, objects, stores.blocks)
  return {
    fence,
    blocks: stores.blocks,
    refs: stores.refs,
    objects,
    clock: options.clock ?? systemClock,
    random,
    retry: { ...defaultRetryPolicy, ...(options.retry ?? {}) },
    defaultBranch,
    defaultAuthor: options.author ?? safeUserName(),
    gates: noGates,
  }
}

function webhookSettings(options: RepositoryOptions, location: string): WebhookSettings {
  const given = options.webhooks ?? {}
  const fromEnv = process.env.VARVE_WEBHOOK_ALLOW_HOSTS
  const allowHosts = given.allowHosts ?? (fromEnv ? fromEnv.split(',').map((h) => h.trim()).filter(Boolean) : undefined)
  return { repository: location, ...given, ...(allowHosts ? { allowHosts } : {}) }
}

function safeUserName(): string {
  try {
    return os.userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}
