import type { Table } from 'apache-arrow'
import type { Entry } from '../../model/entry.js'
import type { FooterRead } from '../../parquet/parquet-reader.js'
import type { ColumnScan } from '../../parquet/column-scan.js'
import type { DiffEntry } from '../../tree/tree-diff.js'
import type { HookEvent, HookFinding } from '../hook-types.js'
import type { WebhookSettings } from './checks/webhook-settings.js'

/** What a check sees: the change, the candidate's files, and cached Parquet readers. */
export interface CheckEnv {
  /** The operation being gated. */
  readonly gate: {
    readonly event: HookEvent
    readonly branch: string
    readonly source?: string
    readonly base?: string
    readonly candidate: string
    readonly dryRun?: boolean
  }
  /** Where webhook checks may call, and what they say about the repository. */
  readonly webhooks?: WebhookSettings
  /** Every change from the base to the candidate, in path order. */
  readonly changes: readonly DiffEntry[]
  /** Added or changed files (their new entries). */
  readonly written: readonly Entry[]
  /** Entries of the candidate under a prefix. */
  listCandidate(prefix: string): AsyncIterable<Entry>
  hasInCandidate(path: string): Promise<boolean>
  footer(entry: Entry): Promise<FooterRead>
  /** Written files that match, with their footers (read a few at a time, cached). */
  writtenFooters(matches: (path: string) => boolean): Promise<{ entry: Entry; footer: FooterRead }[]>
  table(entry: Entry): Promise<Table>
  /**
   * Null counts (and, with `duplicates`, the first repeated value) of columns of a file, decoded in a
   * worker thread that the contract's timeout terminates.
   */
  scanColumns(entry: Entry, columns: readonly string[], options: { duplicates: boolean; signal?: AbortSignal }): Promise<Record<string, ColumnScan>>
}

/** Reads one field of a check's YAML; throws INVALID_CONFIG at that field's line. */
export interface FieldReader {
  str(key: string, required?: boolean): string | undefined
  num(key: string, required?: boolean): number | undefined
  bool(key: string): boolean | undefined
  strList(key: string, required?: boolean): string[] | undefined
  map(key: string, required?: boolean): Record<string, unknown> | undefined
  /** An INVALID_CONFIG error at `key` (or at the check itself). */
  invalid(message: string, key?: string | (string | number)[]): Error
}

export interface CompiledCheck {
  readonly type: string
  run(env: CheckEnv): Promise<HookFinding[]>
}

/** A built-in check: the keys it accepts (besides `type`) and how to compile its YAML. */
export interface CheckDefinition {
  readonly keys: readonly string[]
  compile(f: FieldReader): CompiledCheck
}
