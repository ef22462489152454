import type { Commit } from '../model/commit.js'
import type { JsonValue } from '../util/canonical-json.js'

export interface ImportOptions {
  /**
   * What to import: `s3://bucket/prefix/` (a bare URL: the repository's S3 settings and the SDK's
   * credential chain) or a named source (`raw`, `raw/sub/prefix/`, see `addSource`). A URL without a
   * trailing slash that names an object imports exactly that object (`a/b` never pulls `a/b2`).
   */
  readonly source: string
  /**
   * A key prefix under the source (`events/2026/`), appended to what `source` names: the same as
   * writing it after the source (`raw/events/2026/`). Without a trailing slash it may name one object.
   */
  readonly prefix?: string
  /** Where on the branch: a folder (`data/`, or '' for the root); for a single object also a file path. */
  readonly path?: string
  /** `merge` (default): add and update, never delete; `replace`: mirror the source under `path`. */
  readonly mode?: 'merge' | 'replace'
  /** Count what would change (and its bytes) and write nothing. */
  readonly dryRun?: boolean
  /** Commit the import (default); false stages it for a later commit with other changes. */
  readonly commit?: boolean
  readonly message?: string
  readonly author?: string
  readonly committer?: string
  readonly metadata?: Record<string, JsonValue>
  /** Read each new or changed object once to record its SHA-256 too (content verification on reads). */
  readonly hash?: boolean
  /**
   * Copy each new or changed object's bytes into the repository's store (content-addressed, as an
   * upload) instead of recording where it is: the source may then be changed or deleted. Entries
   * keep the source identity in their metadata (`imported-from`, `imported-etag`,
   * `imported-version-id`), so a re-import still copies only what changed.
   */
  readonly copy?: boolean
  /**
   * Read the source's objects from an S3 Inventory report instead of listing them (the way to list
   * 100M+ objects): its `manifest.json` as a URL (`s3://inventory-bucket/…/manifest.json`) or a local
   * file. CSV (gzipped) and Parquet reports; the report's files are read from its destination bucket.
   * A report is as old as its creation: an object changed since is refused on read (verify finds it).
   */
  readonly inventory?: string
  readonly signal?: AbortSignal
  /** Listed objects between checkpoints (default 100,000): an interrupted import run again continues from the last one. */
  readonly checkpointEvery?: number
  /** Called after each listed page (`resumedAfter`: this run continues an interrupted one, after that key). */
  readonly onProgress?: (p: { readonly listed: number; readonly changed: number; readonly resumedAfter?: string }) => void
}

export interface ImportSummary {
  /** Source objects listed under the prefix. */
  readonly listed: number
  readonly added: number
  readonly changed: number
  readonly removed: number
  readonly unchanged: number
  /** Bytes of the added and changed objects. */
  readonly bytes: number
  /** Keys that are not valid paths (folder markers `a/`, empty or `..` segments), left out; a few of them. */
  readonly skipped: number
  readonly skippedExamples: readonly string[]
  /** The commit made (none for a dry run, `commit: false`, or when nothing changed). */
  readonly commit?: Commit
  readonly staged?: boolean
  readonly dryRun: boolean
  /** The bytes were copied into the repository's store (`copy`). */
  readonly copied: boolean
  readonly seconds: number
  /** Set when this run continued an interrupted import of the same source: the last key that one had settled. */
  readonly resumedAfter?: string
}
