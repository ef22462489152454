import type { HookFailure, HookRun } from '../hooks/hook-types.js'
import type { ConflictRows } from '../merge/conflict-rows.js'
import type { ResolveRule } from '../merge/resolve-rules.js'
import type { Conflict, MergeStrategy } from '../merge/three-way.js'
import type { MergeRequestRecord } from '../merge-requests/merge-request-store.js'
import type { Commit } from '../model/commit.js'
import type { DiffEntry } from '../tree/tree-diff.js'

// What merge requests take and show (repo.openMergeRequest, mergeRequest, mergeMergeRequest).

export interface OpenMergeRequestOptions {
  readonly title: string
  readonly description?: string
  readonly author?: string
}

export interface MergeMergeRequestOptions {
  readonly author?: string
  readonly strategy?: MergeStrategy
  readonly resolve?: readonly ResolveRule[]
  readonly message?: string
}

/** Who counts toward a request's approvals for one source head, under the destination's rules. */
export interface ApprovalStatus {
  /** Approvals the destination's rules require (0 when it has none). */
  readonly required: number
  /** Reviewers whose approvals count. */
  readonly counted: readonly string[]
  /** Reviewers who approved an older source head (they count only without `dismissStaleApprovals`). */
  readonly stale: readonly string[]
  readonly satisfied: boolean
  /** Under `signedApprovals`: approvals that do not count because their signature does not hold, and why. */
  readonly rejected?: readonly { readonly reviewer: string; readonly reason: string }[]
}

/** What `mergeRequest(id)` shows: the stored request and, while it is open, where it stands now. */
export interface MergeRequestView extends MergeRequestRecord {
  /** Current heads (null: the branch no longer exists). */
  readonly sourceHead: string | null
  readonly destHead: string | null
  /** Open requests: what the source changed since the merge base, counted by kind, with the first paths. */
  readonly changes?: {
    readonly added: number
    readonly removed: number
    readonly changed: number
    readonly paths: readonly DiffEntry[]
    readonly truncated: boolean
  }
  /** Open requests: the paths that conflict now, with both sides' entries (and Parquet row counts). */
  readonly conflicts?: readonly (Conflict & { rows?: ConflictRows })[]
  /**
   * Open requests: the destination's pre-merge gates run on the merge as it would be now (a dry
   * run: nothing moves). `not-run` when there are conflicts, nothing to merge, or a branch is gone.
   */
  readonly gates?: {
    readonly status: 'passed' | 'failed' | 'not-run'
    readonly reason?: string
    readonly runs?: readonly HookRun[]
    readonly runId?: string
    readonly failures?: readonly HookFailure[]
  }
  readonly approval?: ApprovalStatus
  /** Open requests: whether `mergeMergeRequest` would go through now, and if not, why not. */
  readonly mergeable?: boolean
  readonly blockers?: readonly string[]
}

export interface MergeRequestMergeResult {
  readonly request: MergeRequestRecord
  readonly commit: Commit
  /** True when the destination already held the source (another process finished the same merge). */
  readonly upToDate: boolean
}
