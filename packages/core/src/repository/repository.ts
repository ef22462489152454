import type { RecordBatch } from 'apache-arrow'
import type { Readable } from 'node:stream'
import type { RepoContext } from '../context/repo-context.js'
import { collectGarbage } from '../gc/gc.js'
import { verifyRepository } from '../gc/verify.js'
import { HookRegistry } from '../hooks/hook-registry.js'
import { listHookRuns } from '../hooks/hook-run-log.js'
import type { Uploads } from '../uploads/uploads.js'
import { auditApprovals } from './approval-audit.js'
import { guard, guardIterable } from './guard.js'
import type { MergeRequests } from './merge-requests.js'
import { branches, history, imports, lifecycle, merging, pins, protection, reads, remotes, tables, writes } from './operations/index.js'
import type { Opened } from './operations/lifecycle.js'
import type { ApplyCommitOptions, ApprovalAudit, ApprovalAuditOptions, BlameLine, BranchInfo, BranchProtection, Commit, CommitOptions } from './types.js'
import type { DataSource, DiffEntry, DiffTableOptions, Entry, GcOptions, GcResult, HookRun, ListItem, ListOptions, LogOptions } from './types.js'
import type { MergeMergeRequestOptions, MergeOptions, MergeRequestComment, MergeRequestMergeResult, MergeRequestRecord, MergeRequestState } from './types.js'
import type { MergeRequestView, MergeResult, OpenMergeRequestOptions, PinRecord, PutFolderOptions, PutFolderSummary, PutManyItem } from './types.js'
import type { ImportOptions, ImportSummary, NamedSource } from './types.js'
import type { PutManyOptions, PutManySummary, PutOptions, ReadDatasetOptions, RefLogRecord, RepositoryLocation, RepositoryOptions } from './types.js'
import type { TableChangeStat, TableDiffRecord, TagRecord, UncommittedChange, VerifyOptions, VerifyResult } from './types.js'
import type { CloneOptions, FetchOptions, PullOptions, PullResult, PushOptions, RemoteConfig, SyncResult, TrackingRef } from './types.js'

export type * from './types.js'

/**
 * A versioned dataset repository. Obtain one with `Repository.init` or `Repository.open`.
 *
 * The class is the public face only: each method is one line handing its arguments to an operation in `operations/` (a plain function of
 * the engine's context), where its checks and body live.
 */
export class Repository {
  readonly #ctx: RepoContext
  readonly #requests: MergeRequests
  readonly #options: RepositoryOptions
  readonly location: string
  /** Hooks registered in code for this open repository (see also contracts in `_varve/hooks/`). */
  readonly hooks = new HookRegistry()
  /**
   * Multipart uploads kept in the repository's store, shared by every process that opens it (a gateway's instances): `create`,
   * `uploadPart`, `parts`, `complete`, `abort`, `expire`. Only on stores with multipart uploads of their own (`uploads.supported`: S3).
   */
  readonly uploads: Uploads

  private constructor(opened: Opened) {
    ;({ ctx: this.#ctx, requests: this.#requests, uploads: this.uploads } = lifecycle.wireRepository(opened, this.hooks))
    this.location = opened.name
    this.#options = opened.options
  }

  get defaultBranch(): string {
    return this.#ctx.defaultBranch
  }

  /** Creates a repository (a folder, a `scheme://` location, or explicit stores) with an empty default branch. */
  static async init(location: RepositoryLocation, options: RepositoryOptions = {}): Promise<Repository> {
    return new Repository(await guard('init', () => lifecycle.initRepository(location, options)))
  }

  /** Opens an existing repository; NOT_A_REPOSITORY if the location holds none. */
  static async open(location: RepositoryLocation, options: RepositoryOptions = {}): Promise<Repository> {
    return new Repository(await guard('open', () => lifecycle.openRepository(location, options)))
  }

  /**
   * Copies the repository at `location` into `dir` (decision 0019): remote `origin`, every branch as `origin/<branch>`, the default branch
   * checked out. `prefix` fetches data only under it; `lazy` fetches none and reads it from the origin on demand. Run again, it resumes.
   */
  static async clone(location: string, dir: RepositoryLocation, options: RepositoryOptions & { clone?: CloneOptions } = {}): Promise<Repository> {
    return new Repository(await remotes.clone(location, dir, options, options.clone))
  }

  async close(): Promise<void> {
    await lifecycle.closeRepository(this.#ctx)
  }

  // ---- branches and tags -------------------------------------------------------------------------

  /** Creates a branch at a revision (default: the default branch). O(1): nothing is copied. */
  async createBranch(name: string, options: { from?: string; author?: string } = {}): Promise<BranchInfo> {
    return branches.createBranch(this.#ctx, name, options)
  }

  /** Deletes a branch and its uncommitted changes. The default branch cannot be deleted. */
  async deleteBranch(name: string, options: { author?: string } = {}): Promise<void> {
    return branches.deleteBranch(this.#ctx, name, options)
  }

  async getBranch(name: string): Promise<BranchInfo & { dirty: boolean }> {
    return branches.getBranch(this.#ctx, name)
  }

  branches(): AsyncIterable<BranchInfo> {
    return branches.listBranches(this.#ctx)
  }

  /** Creates a tag at a revision. Tags never move. */
  async createTag(name: string, revision: string, options: { author?: string } = {}): Promise<TagRecord> {
    return branches.createTag(this.#ctx, name, revision, options)
  }

  async deleteTag(name: string, options: { author?: string } = {}): Promise<void> {
    return branches.deleteTag(this.#ctx, name, options)
  }

  tags(): AsyncIterable<TagRecord> {
    return branches.listTags(this.#ctx)
  }

  /**
   * Rollback: moves the branch to a revision, recorded in the ref log (which keeps the old head reachable by id). Refused on uncommitted
   * changes unless `discardChanges`.
   */
  async reset(branch: string, revision: string, options: { author?: string; discardChanges?: boolean } = {}): Promise<BranchInfo> {
    return branches.resetBranch(this.#ctx, branch, revision, options)
  }

  // ---- writing -------------------------------------------------------------------------------------

  /** Stores the data (hashed while streaming, stored once per distinct content) and stages it on the branch. */
  async put(branch: string, path: string, data: DataSource, options: PutOptions = {}): Promise<Entry> {
    return writes.put(this.#ctx, branch, path, data, options)
  }

  /**
   * Stores and stages many items in batches, small content packed (decision 0007): 100k files are a few hundred writes. A failure names
   * the item (`details.path`) and stages nothing of its batch; aborting `signal` stages what was read (`interrupted`).
   */
  async putMany(branch: string, items: AsyncIterable<PutManyItem> | Iterable<PutManyItem>, options: PutManyOptions = {}): Promise<PutManySummary> {
    return writes.putManyOnBranch(this.#ctx, branch, items, options)
  }

  /**
   * Imports a bucket's objects without copying them, each pinned to its version or ETag, which every read sends as a precondition
   * (`varve import`, decision 0017): a changed object is IMPORTED_OBJECT_CHANGED, never other bytes. Modes, copy, inventory: ImportOptions.
   */
  async importObjects(branch: string, options: ImportOptions): Promise<ImportSummary> {
    return imports.importObjects(this.#ctx, branch, options)
  }

  /** Records a named import source (URL, endpoint, region; never credentials: the adapter reads those from the environment). */
  async addSource(name: string, url: string, options: Omit<NamedSource, 'name' | 'url'> = {}): Promise<NamedSource> {
    return imports.addSource(this.#ctx, name, url, options)
  }

  async listSources(): Promise<NamedSource[]> {
    return imports.listSources(this.#ctx)
  }

  /** Forgets a named source; what was imported from it reads again once it is added back. */
  async removeSource(name: string): Promise<void> {
    return imports.removeSource(this.#ctx, name)
  }

  /**
   * Stages a local folder's files under `path` (`varve put <folder>`): one walk, one listing of the branch, `putMany` of what changed; the
   * checksum cache (as git's index) skips an unchanged file unread. Aborting `signal` stages what was read; running it again continues.
   */
  async putFolder(branch: string, dir: string, path = '', options: PutFolderOptions = {}): Promise<PutFolderSummary> {
    return writes.putFolder(this.#ctx, { list: (b, o) => this.list(b, o), putMany: (b, items, o) => this.putMany(b, items, o) }, branch, dir, path, options)
  }

  /**
   * Stages at `path` on `branch` the content `from` has at `fromPath` (any revision; a branch reads through its staging area), without
   * copying a byte: the new entry names the same stored data. `metadata` / `contentType` replace the source's when given.
   */
  async copy(fromRef: string, fromPath: string, branch: string, path: string, options: PutOptions = {}): Promise<Entry> {
    return writes.copy(this.#ctx, fromRef, fromPath, branch, path, options)
  }

  /** Stages the removal of a path; NOT_FOUND when the branch does not have it. */
  async delete(branch: string, path: string): Promise<void> {
    return writes.deletePath(this.#ctx, branch, path)
  }

  /** What a commit of the branch would change now, in path order. */
  uncommitted(branch: string, options: { prefix?: string } = {}): AsyncIterable<UncommittedChange> {
    return writes.uncommitted(this.#ctx, branch, options)
  }

  /** Commits everything staged on the branch. NOTHING_TO_COMMIT unless `allowEmpty`. */
  async commit(branch: string, options: CommitOptions): Promise<Commit> {
    return writes.commit(this.#ctx, branch, options)
  }

  // ---- reading -------------------------------------------------------------------------------------

  /**
   * The commit id a revision names: a branch, tag, id or unique prefix, with `~N` / `^N`, or a branch's earlier head `name@{N}` (its ref
   * log: `main@{1}` is where main was before its last move).
   */
  async resolve(revision: string): Promise<string> {
    return history.resolve(this.#ctx, revision)
  }

  async getCommit(revision: string): Promise<Commit> {
    return history.getCommit(this.#ctx, revision)
  }

  /** The entry at `path`: on a branch including uncommitted changes, else at the commit. */
  async stat(ref: string, path: string): Promise<Entry> {
    return reads.stat(this.#ctx, ref, path)
  }

  /** The whole content, verified against its address (CORRUPT_OBJECT if it no longer matches). */
  async get(ref: string, path: string): Promise<Uint8Array> {
    return reads.get(this.#ctx, ref, path)
  }

  /** The content as a stream; it fails with CORRUPT_OBJECT at its end if the bytes do not match. */
  async getStream(ref: string, path: string): Promise<Readable> {
    return reads.getStream(this.#ctx, ref, path)
  }

  /**
   * An entry's bytes as a stream: whole (verified against its address at the end: CORRUPT_OBJECT) or the range [start, end) in 8 MiB
   * pieces (unverified, as S3's ranges). Reading the entry, not its path again, keeps headers and bytes of one version.
   */
  streamEntry(entry: Entry, range: { start?: number; end?: number } = {}): Readable {
    return reads.streamEntry(this.#ctx, entry, range)
  }

  /**
   * `streamEntry` as chunks; with `reuseBuffers` a whole read goes through two reused buffers (a chunk is valid until the one after next
   * is asked for), so a gigabyte read allocates nothing per chunk. Do not pipe such chunks into a stream that reads ahead.
   */
  readEntry(entry: Entry, options: { start?: number; end?: number; reuseBuffers?: boolean } = {}): AsyncIterable<Uint8Array> {
    return reads.readEntry(this.#ctx, entry, options)
  }

  /**
   * A credential-free URL (`expiresSeconds`, default 300) that reads an entry's bytes straight from the store (S3: a presigned GET); with
   * `range` (the entry is part of a pack) it serves exactly those bytes to `Range: bytes=start-(end-1)`. Undefined where it cannot; unverified.
   */
  async presignEntry(entry: Entry, options: { expiresSeconds?: number } = {}): Promise<{ url: string; range?: { start: number; end: number } } | undefined> {
    return reads.presignEntry(this.#ctx, entry, options)
  }

  /** Entries (and with `delimiter`, common prefixes) in path order, streamed. */
  list(ref: string, options: ListOptions = {}): AsyncIterable<ListItem> {
    return reads.list(this.#ctx, ref, options)
  }

  /** The best common ancestor of two revisions (git merge-base), or undefined when they share none. */
  async mergeBase(left: string, right: string): Promise<string | undefined> {
    return history.mergeBaseOf(this.#ctx, left, right)
  }

  /** Whether `ancestor` is in the history of `revision` (a revision is its own ancestor). */
  async isAncestor(ancestor: string, revision: string): Promise<boolean> {
    return history.isAncestor(this.#ctx, ancestor, revision)
  }

  /** Differences between two revisions' trees, in path order. Cost grows with the changed nodes. */
  diff(left: string, right: string, options: { prefix?: string } = {}): AsyncIterable<DiffEntry> {
    return history.diff(this.#ctx, left, right, options)
  }

  /**
   * For each Parquet file that differs between two revisions, in path order: rows before and after and the columns added, removed or
   * retyped, from the two footers only. A side that is not valid Parquet is reported in `invalid`.
   */
  tableChangeStats(left: string, right: string, options: { prefix?: string } = {}): AsyncIterable<TableChangeStat> {
    return tables.tableChangeStats(this.#ctx, left, right, options)
  }

  /**
   * Rows added, removed and changed between two versions of a table (a Parquet file, or every one under a prefix ending in `/`), matched by
   * `key`: a `schema` record, the rows, then a `summary`, in bounded memory (see table-diff.ts). A file missing on one side is empty.
   */
  diffTable(left: string, right: string, path: string, options: DiffTableOptions): AsyncIterable<TableDiffRecord> {
    return tables.diffTable(this.#ctx, left, right, path, options)
  }

  /**
   * Arrow record batches of every Parquet file under `prefix` at a ref, as one dataset: Hive partitions as columns, `columns` projects,
   * `filter` picks files by partition; read by range a row group at a time (memory: a few batches), files as of the read's start.
   */
  readDataset(ref: string, prefix: string, options: ReadDatasetOptions = {}): AsyncIterable<RecordBatch> {
    return tables.readDataset(this.#ctx, ref, prefix, options)
  }

  /**
   * Commits reachable from a revision, newest first, each once. With `prefix`, only those that changed something under it, each compared
   * with its first parent (cost: the nodes each commit changed under the prefix).
   */
  log(revision: string, options: LogOptions = {}): AsyncIterable<Commit> {
    return history.log(this.#ctx, revision, options)
  }

  /**
   * For every path under `prefix` at a revision (a branch: its head commit), the first-parent commit that last changed it. Streamed as
   * each path is settled, newest commits first.
   */
  blame(revision: string, prefix = ''): AsyncIterable<BlameLine> {
    return history.blame(this.#ctx, revision, prefix)
  }

  /** Every recorded move of a branch (or, if no branch has that name, a tag), newest first. */
  refLog(name: string, options: { limit?: number } = {}): AsyncIterable<RefLogRecord> {
    return history.refLog(this.#ctx, name, options)
  }

  // ---- merging and rollback ------------------------------------------------------------------------

  /**
   * Three-way merge of a revision into a clean branch (a merge commit has two parents). A branch whose rules require merge requests refuses
   * it with APPROVAL_REQUIRED (a dry run is allowed): use `openMergeRequest` and `mergeMergeRequest`.
   */
  async merge(source: string, destination: string, options: MergeOptions = {}): Promise<MergeResult> {
    return merging.merge(this.#ctx, source, destination, options)
  }

  /**
   * A new commit on the branch undoing a commit's changes (a merge: relative to `parent`, default 1). Conflicts follow `resolve` and
   * `strategy` as in a merge ("source" is the reverted state, "dest" the branch); `dryRun` returns what would happen.
   */
  async revert(branch: string, revision: string, options: ApplyCommitOptions & { parent?: number; dryRun?: false }): Promise<Commit>
  async revert(branch: string, revision: string, options: ApplyCommitOptions & { parent?: number; dryRun: true }): Promise<MergeResult>
  async revert(branch: string, revision: string): Promise<Commit>
  async revert(branch: string, revision: string, options: ApplyCommitOptions & { parent?: number; dryRun?: boolean } = {}): Promise<Commit | MergeResult> {
    return merging.revert(this.#ctx, branch, revision, options)
  }

  /** A new commit on the branch that applies one commit's changes (relative to its first parent); conflicts as in `revert`. */
  async cherryPick(branch: string, revision: string, options: ApplyCommitOptions & { dryRun?: false }): Promise<Commit>
  async cherryPick(branch: string, revision: string, options: ApplyCommitOptions & { dryRun: true }): Promise<MergeResult>
  async cherryPick(branch: string, revision: string): Promise<Commit>
  async cherryPick(branch: string, revision: string, options: ApplyCommitOptions & { dryRun?: boolean } = {}): Promise<Commit | MergeResult> {
    return merging.cherryPick(this.#ctx, branch, revision, options)
  }

  // ---- merge requests ------------------------------------------------------------------------------

  /**
   * Opens a request to merge branch `source` into branch `dest`; returns its id (1, 2, ...). Stored in the ref store, so every machine
   * sharing the repository sees it; every change is in its ref log.
   */
  async openMergeRequest(source: string, dest: string, options: OpenMergeRequestOptions): Promise<number> {
    return guard('openMergeRequest', () => this.#requests.open(source, dest, options))
  }

  /** Merge requests in id order, all or those in one state. */
  mergeRequests(options: { state?: MergeRequestState } = {}): AsyncIterable<MergeRequestRecord> {
    return guardIterable('mergeRequests', () => this.#requests.list(options))
  }

  /**
   * One request; while open, also where it stands: heads, changes, conflicts, the destination's pre-merge gates run on the merge as it
   * would be (nothing moves), the approvals that count, whether it can merge. `standing: false`: the stored request and heads only.
   */
  async mergeRequest(id: number, options: { standing?: boolean } = {}): Promise<MergeRequestView> {
    return guard('mergeRequest', () => this.#requests.show(id, options))
  }

  /** Every change of a request (open, approve, comment, merge, ...): who, when, what; newest first. */
  mergeRequestLog(id: number): AsyncIterable<RefLogRecord> {
    return guardIterable('mergeRequestLog', () => this.#requests.log(id))
  }

  /**
   * Approves a request for the source's current head (`head`: only if still the head, else CONFLICT); never the author's own. Under
   * `signedApprovals`, `signature` is an SSH signature of `approvalSigningText(id, reviewer)` by an allowed signer (`signApproval` makes one).
   */
  async approve(id: number, options: { reviewer?: string; head?: string; signature?: string } = {}): Promise<MergeRequestRecord> {
    return guard('approve', () => this.#requests.approve(id, options))
  }

  /** The text a reviewer signs to approve request `id` at its source's current head, and that head. */
  async approvalSigningText(id: number, reviewer: string): Promise<{ text: string; sourceHead: string }> {
    return guard('approvalSigningText', () => this.#requests.signingText(id, reviewer))
  }

  /**
   * Approves request `id` as `reviewer`, signed with an SSH key (`keyFile`: a private key, or a public key whose private half is in
   * ssh-agent) through `ssh-keygen -Y sign`, as git signs commits.
   */
  async signApproval(id: number, options: { reviewer?: string; keyFile: string; head?: string }): Promise<MergeRequestRecord> {
    return guard('signApproval', () => this.#requests.signApproval(id, options))
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
   * Merges an approved request through the destination's pre-merge gates; the commit's metadata names the request and its approvers.
   * Of several processes merging one request at once, exactly one merge commit results.
   */
  async mergeMergeRequest(id: number, options: MergeMergeRequestOptions = {}): Promise<MergeRequestMergeResult> {
    return guard('mergeMergeRequest', () => this.#requests.merge(id, options))
  }

  // ---- maintenance ---------------------------------------------------------------------------------

  /**
   * Deletes objects nothing retained refers to: not reachable from a branch, tag, staged change, a commit younger than `retainDays`, or a
   * ref-log entry inside that window; and older than `graceSeconds` (uploads in flight are safe). Safe to run while others write.
   */
  async gc(options: GcOptions = {}): Promise<GcResult> {
    return guard('gc', () => collectGarbage(this.#ctx, options))
  }

  /**
   * The audit of approvals: commits on protected branches' first-parent lines that landed while merge requests were required but are
   * not the merge of one approved (and signed) as required. A writer that bypassed the library is detected here, not prevented.
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
    return guardIterable('hookRuns', () => listHookRuns(this.#ctx.blocks, options))
  }

  /**
   * Protects a branch or every branch a pattern matches (`release/*`; `**` crosses `/`): what is false is refused with PROTECTED_BRANCH,
   * `requiredApprovals` makes merges go through merge requests; the strictest of all matching rules applies; setting again replaces.
   */
  async protectBranch(name: string, rules: Partial<BranchProtection> = {}, options: { author?: string } = {}): Promise<BranchProtection> {
    return protection.protectBranch(this.#ctx, name, rules, options)
  }

  /** Removes the rules stored under a branch name or pattern (NOT_FOUND when there are none and no such branch). */
  async unprotectBranch(name: string, options: { author?: string } = {}): Promise<void> {
    return protection.unprotectBranch(this.#ctx, name, options)
  }

  /** The rules a branch is under (its own and every matching pattern's, combined), or undefined. */
  async branchProtection(name: string): Promise<BranchProtection | undefined> {
    return protection.branchProtection(this.#ctx, name)
  }

  /** Every stored rule: `branch` is a branch name or a pattern. */
  protectedBranches(): AsyncIterable<{ branch: string; rules: BranchProtection }> {
    return protection.protectedBranches(this.#ctx)
  }

  // ---- pins ----------------------------------------------------------------------------------------

  /**
   * Pins the commit a revision names now under `name` (a ref in the ref store, like a tag that may be moved on purpose): garbage
   * collection keeps all of its data until `unpin`. Re-pinning a name moves it.
   */
  async pin(name: string, revision: string, options: { author?: string } = {}): Promise<PinRecord> {
    return pins.pin(this.#ctx, name, revision, options)
  }

  /** A pin by name; NOT_FOUND when there is none. */
  async getPin(name: string): Promise<PinRecord> {
    return pins.getPinNamed(this.#ctx, name)
  }

  /** Every pin, in name order. */
  pins(): AsyncIterable<PinRecord> {
    return pins.pins(this.#ctx)
  }

  /** Removes a pin (NOT_FOUND when there is none): its data is collected like any other from then on. */
  async unpin(name: string): Promise<void> {
    return pins.unpin(this.#ctx, name)
  }

  // ---- remotes (decision 0019) ------------------------------------------------------------------------

  /** Names another repository (a folder or a `scheme://` location) as a remote; its adapter options (`s3`) travel with it. */
  async addRemote(name: string, location: string, options: { s3?: RemoteConfig['s3'] } = {}): Promise<RemoteConfig> {
    return remotes.addRemote(this.#ctx, name, location, options)
  }

  /** Forgets a remote and its remote-tracking refs. */
  async removeRemote(name: string): Promise<void> {
    return remotes.removeRemote(this.#ctx, name)
  }

  async remotes(): Promise<RemoteConfig[]> {
    return remotes.listRemotes(this.#ctx)
  }

  /** Remote-tracking refs (`origin/main`: where the remote's branch was when last fetched or pushed); readable as revisions. */
  async trackingRefs(remote?: string): Promise<TrackingRef[]> {
    return remotes.trackingRefs(this.#ctx, remote)
  }

  /** Copies the remote's moved branches (and tags, pins on request) here, then moves `<remote>/<branch>`. Nothing moved: nothing copied. */
  async fetch(remote = 'origin', options: FetchOptions = {}): Promise<SyncResult> {
    return remotes.fetch(this.#ctx, this.#options, remote, options)
  }

  /** Sends branches to the remote; each moves by compare-and-swap, as a fast-forward unless forced (NOT_FAST_FORWARD otherwise). */
  async push(remote = 'origin', options: PushOptions = {}): Promise<SyncResult> {
    return remotes.push(this.#ctx, this.#options, remote, options)
  }

  /** Fetches a branch and brings the local one up to it: fast-forward, else a merge. */
  async pull(remote = 'origin', options: PullOptions = {}): Promise<PullResult> {
    return remotes.pull(this.#ctx, this.#options, remote, options)
  }
}
