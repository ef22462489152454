import type { Conflict, MergeStrategy, ResolvedConflict } from '../merge/three-way.js'
import type { ResolveRule } from '../merge/resolve-rules.js'
import type { ConflictRows } from '../merge/conflict-rows.js'
import type { MergeRequestComment, MergeRequestRecord, MergeRequestState } from '../merge-requests/merge-request-store.js'
import type { MergeMergeRequestOptions, MergeRequestMergeResult, MergeRequestView, OpenMergeRequestOptions } from './merge-requests.js'
import type { Commit } from '../model/commit.js'
import type { Entry } from '../model/entry.js'
import type { HookRun } from '../hooks/hook-types.js'
import type { WebhookSettings } from '../hooks/contracts/checks/webhook-settings.js'
import type { JsonValue } from '../util/canonical-json.js'
import type { Clock, RandomSource } from '../util/clock.js'
import type { RetryPolicy } from '../util/retry.js'
import type { StoreSet } from './open-stores.js'

// The public types of the facade's operations (options and results), apart from the class.

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
  /**
   * Loads the adapter for an import source's scheme the first time one is needed (e.g.
   * `async () => { await import('@varve/s3-adapter') }`); without it, the adapter must be imported first.
   */
  readonly loadSourceScheme?: (scheme: string) => Promise<void>
  /**
   * Options a remote is opened with on top of these (decision 0019), e.g. its own credentials:
   * `(remote) => ({ s3: { credentials } })`. A remote's stored endpoint and region apply first.
   */
  readonly remoteOptions?: (remote: import('../remotes/remote-settings.js').RemoteConfig) => RepositoryOptions
  /**
   * Open an object store that ignores conditional writes anyway (decision 0020): safe only while one
   * writer at a time uses the repository. Without it such a store is refused with
   * CONDITIONAL_WRITES_IGNORED at init and before the first ref write.
   */
  readonly unsafeSingleWriter?: boolean
  /** Adapter options, e.g. `s3: { endpoint, region, credentials, forcePathStyle }`; bare `s3://` import sources use them too. */
  readonly [adapterOption: string]: unknown
}

export type RepositoryLocation = string | StoreSet

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
export type {
  MergeRequestComment,
  MergeRequestRecord,
  MergeRequestState,
  MergeMergeRequestOptions,
  MergeRequestMergeResult,
  MergeRequestView,
  OpenMergeRequestOptions,
}

// Types of the facade's signatures that live with the engine, gathered so the facade imports one module.
export type { CommitOptions } from '../commits/commit-staged.js'
export type { LogOptions } from '../commits/history.js'
export type { BlameLine } from '../commits/path-history.js'
export type { GcOptions, GcResult } from '../gc/gc.js'
export type { VerifyOptions, VerifyResult } from '../gc/verify.js'
export type { BranchProtection } from '../hooks/branch-protection.js'
export type { HookRun } from '../hooks/hook-types.js'
export type { PutFolderOptions, PutFolderSummary } from '../ingest/folder/put-folder.js'
export type { ImportOptions, ImportSummary } from '../ingest/import-objects.js'
export type { NamedSource } from '../sources/source-schemes.js'
export type { ExternalLocator, ExternalSource, SourceObject, SourceListOptions } from '../sources/external-source.js'
export type { PutManyItem, PutManyOptions, PutManySummary } from '../ingest/put-many.js'
export type { Commit } from '../model/commit.js'
export type { Entry } from '../model/entry.js'
export type { DataSource } from '../objects/byte-source.js'
export type { ReadDatasetOptions } from '../parquet/dataset-reader.js'
export type { TableChangeStat } from '../parquet/table-change.js'
export type { DiffTableOptions, TableDiffRecord } from '../parquet/table-diff.js'
export type { PinRecord } from '../refs/pins.js'
export type { RefLogRecord, TagRecord } from '../stores/ref-store.js'
export type { DiffEntry } from '../tree/tree-diff.js'
export type { ApprovalAudit, ApprovalAuditOptions } from './approval-audit.js'
export type { CloneOptions, FetchOptions, PullOptions, PullResult, PushOptions, RemoteTransferOptions } from '../remotes/remote-options.js'
export type { CloneState, RemoteConfig, TrackingRef } from '../remotes/remote-settings.js'
export type { RefUpdate, SyncResult } from '../remotes/sync.js'
export type { TransferProgress } from '../remotes/transfer.js'
