import type { Table } from 'apache-arrow'
import type { Entry } from '../model/entry.js'
import type { ParquetSchema } from '../parquet/parquet-schema.js'
import type { DiffEntry } from '../tree/tree-diff.js'

export const HOOK_EVENTS = [
  'pre-commit',
  'pre-merge',
  'pre-create-branch',
  'pre-delete-branch',
  'pre-create-tag',
  'pre-reset',
  'post-commit',
  'post-merge',
] as const
export type HookEvent = (typeof HOOK_EVENTS)[number]
export const isPreEvent = (e: HookEvent) => e.startsWith('pre-')

/** A read-only view of one commit's files. */
export interface Snapshot {
  readonly commit: string
  list(options?: { prefix?: string; after?: string; delimiter?: string; limit?: number }): AsyncIterable<Entry | { type: 'prefix'; path: string }>
  get(path: string): Promise<Uint8Array>
  stat(path: string): Promise<Entry>
}

export interface HookContext {
  readonly event: HookEvent
  /** The destination branch (for pre-create-tag: the tag name). */
  readonly branch: string
  /** What is merged in (pre/post-merge), else undefined. */
  readonly source?: string
  /** The commit as it would be (pre-) or as it is (post-). */
  readonly candidate: Snapshot
  /** The branch's current head, when there is one. */
  readonly base?: Snapshot
  /** What the candidate changes relative to the base. */
  diff(): AsyncIterable<DiffEntry>
  /** A Parquet file's schema, read from its footer only. */
  readParquetSchema(path: string): Promise<ParquetSchema>
  /** A whole Parquet file as an Arrow table, decoded in memory at once: for small files (a 10M-row file takes gigabytes). */
  readTable(path: string): Promise<Table>
  /** Aborted when the hook times out; long-running hooks should stop when it fires. */
  readonly signal: AbortSignal
}

export interface HookFinding {
  readonly file?: string
  readonly reason: string
  /** A stable code when the finding is an error about the file itself (INVALID_PARQUET). */
  readonly code?: string
}

export interface HookResult {
  readonly ok: boolean
  readonly message?: string
  /** Individual problems (file and reason), shown in HOOK_FAILED's details. */
  readonly failures?: readonly HookFinding[]
}

export interface HookDefinition {
  readonly id: string
  readonly events: readonly HookEvent[]
  /** Glob patterns of the destination branch (default: every branch). */
  readonly branches?: readonly string[]
  /** Per-hook time limit (default 30 s); a hook past it fails the operation as 'timeout'. */
  readonly timeoutMs?: number
  run(ctx: HookContext): Promise<HookResult | void> | HookResult | void
}

export type HookRunStatus = 'passed' | 'failed' | 'error' | 'timeout'

export interface HookRun {
  readonly runId: string
  readonly event: HookEvent
  readonly branch: string
  readonly candidate: string
  readonly hookId: string
  /** 'code' for hooks registered in code, or the rules file of a declarative contract. */
  readonly origin: string
  readonly status: HookRunStatus
  readonly message: string
  readonly failures: readonly HookFinding[]
  readonly durationMs: number
  readonly startedAt: number
}

/** One failure in VarveError HOOK_FAILED's `details.failures`. */
export interface HookFailure {
  readonly hookId: string
  readonly file?: string
  readonly reason: string
  readonly code?: string
}
