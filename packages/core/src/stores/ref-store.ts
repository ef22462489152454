import type { Entry } from '../model/entry.js'

/**
 * A branch: its head commit and its staging area. Staged changes live under a staging token; a
 * commit first *seals* the current token (moves it to `sealedTokens` and opens a fresh one), then
 * builds the commit from the sealed tokens, then moves the head and drops them. A writer that
 * staged into a token that got sealed in between sees the token change and writes again, so no
 * staged change is ever lost (see docs/decisions/0003-staging.md).
 */
export interface BranchRecord {
  readonly name: string
  readonly head: string
  readonly stagingToken: string
  /** Sealed tokens, newest first: their changes are committed by the next successful commit. */
  readonly sealedTokens: readonly string[]
  /** Opaque version set by the store on every read; compare-and-swap checks it. */
  readonly version: string
}

export type BranchState = Omit<BranchRecord, 'version'>

export interface TagRecord {
  readonly name: string
  readonly commit: string
  readonly createdAt: number
}

/** A put (entry) or a delete (entry null) waiting in a staging area. */
export interface StagedChange {
  readonly path: string
  readonly entry: Entry | null
}

export interface RefLogEntry {
  /** 'branch:<name>', 'tag:<name>' or 'setting:<key>' (a merge request: 'setting:mr/<id>'). */
  readonly ref: string
  readonly old: string | null
  readonly new: string | null
  /** What moved it: 'create', 'commit', 'merge', 'revert', 'cherry-pick', 'reset', 'delete'. */
  readonly operation: string
  readonly author: string
  readonly message?: string
  readonly at: number
}

export interface RefLogRecord extends RefLogEntry {
  /** Increases with every appended entry of the same ref. */
  readonly seq: number
}

export interface ListStagedOptions {
  /** Only paths strictly greater than this. */
  readonly after?: string
  /** Only paths starting with this. */
  readonly prefix?: string
}

/**
 * The only mutable state of a repository. Every mutation of a branch or tag is atomic with its
 * ref-log entry: the entry exists if and only if the change happened.
 */
export interface RefStore {
  getBranch(name: string): Promise<BranchRecord | undefined>
  /** Creates the branch; throws VarveError BRANCH_EXISTS when the name is taken. */
  createBranch(state: BranchState, log: RefLogEntry): Promise<void>
  /** Compare-and-swap: replaces the branch iff its version is still `expected.version`. */
  updateBranch(expected: BranchRecord, next: BranchState, log?: RefLogEntry): Promise<boolean>
  /** Compare-and-swap delete. */
  deleteBranch(expected: BranchRecord, log: RefLogEntry): Promise<boolean>
  /** All branches, in name order. */
  listBranches(): AsyncIterable<BranchRecord>

  getTag(name: string): Promise<TagRecord | undefined>
  /** Creates the tag; throws VarveError TAG_EXISTS when the name is taken. Tags never move. */
  createTag(tag: TagRecord, log: RefLogEntry): Promise<void>
  deleteTag(name: string, log: RefLogEntry): Promise<boolean>
  listTags(): AsyncIterable<TagRecord>

  /** Adds changes to a staging token; a later change of the same path replaces the earlier one. */
  putStaged(token: string, changes: readonly StagedChange[]): Promise<void>
  getStaged(token: string, path: string): Promise<StagedChange | undefined>
  /** Staged changes of one token in path order (UTF-8 byte order), streamed. */
  listStaged(token: string, options?: ListStagedOptions): AsyncIterable<StagedChange>
  /** Removes every change of the token. */
  dropStaged(token: string): Promise<void>
  /** Every token that holds at least one staged change, in token order (gc finds detached ones). */
  listStagingTokens(): AsyncIterable<string>

  /** A repository setting (branch protection rules, ...), or undefined. */
  getSetting(key: string): Promise<string | undefined>
  /** Sets a setting; null removes it. */
  setSetting(key: string, value: string | null): Promise<void>
  /**
   * Compare-and-swap of a setting: writes `next` iff the current value is `expected` (undefined: no
   * value). Returns false, writing nothing, when another writer changed it first. Garbage collection
   * keeps its epoch here (docs/decisions/0006-gc-quarantine.md).
   *
   * With `log`, the ref-log entry is appended if and only if the swap happened, as for a branch move;
   * its `ref` must be `setting:<key>` (merge requests record every state change this way,
   * docs/decisions/0011-merge-requests.md).
   */
  compareAndSetSetting(key: string, expected: string | undefined, next: string, log?: RefLogEntry): Promise<boolean>
  /** Settings whose key starts with `prefix`, in key order. */
  listSettings(prefix: string): AsyncIterable<{ readonly key: string; readonly value: string }>

  /** Every ref that has ref-log entries, including deleted branches and tags. */
  listRefLogRefs(): AsyncIterable<string>

  /** Ref-log entries of one ref, newest first. */
  listRefLog(ref: string, options?: { limit?: number }): AsyncIterable<RefLogRecord>

  close?(): Promise<void>
}
