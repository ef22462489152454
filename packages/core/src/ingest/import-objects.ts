import { actorOf, authorship, mustGetBranch, stateOf } from '../commits/commit-staged.js'
import type { RepoContext } from '../context/repo-context.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { commitRoot, type Commit } from '../model/commit.js'
import type { Entry } from '../model/entry.js'
import { packedRootOf, type TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { createHash } from 'node:crypto'
import { importedAddress, importedObjectChanged, type ExternalLocator, type ExternalSource, type SourceObject } from '../sources/external-source.js'
import { splitSourceSpec } from '../sources/source-schemes.js'
import { isDirty } from '../staging/branch-view.js'
import { stageChanges } from '../staging/stage-changes.js'
import type { StagedChange } from '../stores/ref-store.js'
import { applyChanges, type TreeChange } from '../tree/apply-changes.js'
import { scanEntries } from '../tree/tree-reader.js'
import type { JsonValue } from '../util/canonical-json.js'
import { mapInOrder } from '../util/map-in-order.js'
import { comparePaths, validatePath, validatePrefix } from '../util/paths.js'
import { LOST_RACE, retryOnLostRace } from '../util/retry.js'

export interface ImportOptions {
  /**
   * What to import: `s3://bucket/prefix/` (a bare URL: the repository's S3 settings and the SDK's
   * credential chain) or a named source (`raw`, `raw/sub/prefix/`, see `addSource`). A URL without a
   * trailing slash that names an object imports exactly that object (`a/b` never pulls `a/b2`).
   */
  readonly source: string
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
  readonly signal?: AbortSignal
  /** Called after each listed page. */
  readonly onProgress?: (p: { readonly listed: number; readonly changed: number }) => void
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
  readonly seconds: number
}

interface Plan {
  readonly source: ExternalSource
  /** Full key prefix listed ('' = the whole bucket). */
  readonly keyPrefix: string
  /** One object: its key, imported as `dest`. */
  readonly single?: SourceObject
  /** Destination folder ('' or ending in '/'), or the file path for a single object. */
  readonly dest: string
}

/** Imports a source's objects into a branch without copying them (decision 0017). */
export async function importObjects(ctx: RepoContext, branch: string, options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now()
  const mode = options.mode ?? 'merge'
  if (mode !== 'merge' && mode !== 'replace') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `mode is merge or replace, not ${JSON.stringify(mode)}`)
  const dryRun = options.dryRun === true
  const commit = options.commit !== false
  await mustGetBranch(ctx, branch)
  const plan = await planImport(ctx, options)
  const stats = new ImportStats()
  const changesOf = (root: TreeRef, objects: ObjectStore) => importChanges(objects, root, plan, mode, options, stats)
  const done = (extra: Partial<ImportSummary> = {}): ImportSummary => ({ ...stats.summary(), dryRun, seconds: (performance.now() - started) / 1000, ...extra })

  if (dryRun || !commit) {
    const b = await mustGetBranch(ctx, branch)
    const root = commitRoot(await ctx.objects.readCommit(b.head))
    let batch: StagedChange[] = []
    for await (const c of changesOf(root, ctx.objects)) {
      if (dryRun) continue
      batch.push(c)
      if (batch.length >= 10_000) {
        await stageChanges(ctx, branch, batch)
        batch = []
      }
    }
    if (batch.length) await stageChanges(ctx, branch, batch)
    return done(dryRun ? {} : { staged: true })
  }

  // Inside the write fence: the nodes and the commit it writes survive a concurrent GC (decision 0006).
  const made = await ctx.fence.run((objects) =>
    retryOnLostRace(`import into ${branch}`, ctx.retry, ctx.random, async () => {
      stats.reset()
      const fenced = { ...ctx, objects }
      const b = await mustGetBranch(fenced, branch)
      if (await isDirty(fenced, b))
        throw new VarveError(ErrorCodes.DIRTY_BRANCH, `branch ${branch} has uncommitted changes: commit or reset them first, or import with commit: false`, {
          details: { branch },
        })
      const head = await objects.readCommit(b.head)
      const { root, tree } = await applyChanges(objects, commitRoot(head), changesOf(commitRoot(head), objects))
      if (root === head.root) return undefined
      const rootAt = packedRootOf(tree)
      const made = await objects.writeCommit({
        parents: [b.head],
        root,
        ...(rootAt ? { rootAt } : {}),
        message: options.message ?? `Import ${options.source} into ${plan.dest || '/'}`,
        ...authorship(options.author ?? ctx.defaultAuthor, options.committer),
        metadata: { ...(options.metadata ?? {}), import: { source: options.source, mode, ...stats.counts() } },
        createdAt: ctx.clock.now(),
        generation: head.generation + 1,
      })
      const gate = { branch, candidate: made.id, base: b.head }
      await ctx.gates.pre({ event: 'pre-commit', ...gate })
      const moved = await ctx.refs.updateBranch(
        b,
        { ...stateOf(b), head: made.id },
        { ref: `branch:${branch}`, old: b.head, new: made.id, operation: 'import', author: actorOf(made), message: made.message, at: made.createdAt },
      )
      if (!moved) return LOST_RACE
      await ctx.gates.post({ event: 'post-commit', ...gate })
      return made
    }),
  )
  if (!made)
    throw new VarveError(ErrorCodes.NOTHING_TO_COMMIT, `nothing to commit on ${branch}: ${options.source} holds what the branch has`, {
      details: { branch, ...done() },
    })
  return done({ commit: made })
}

/** Where the objects come from and where they go; refuses a source inside the repository's own storage. */
async function planImport(ctx: RepoContext, options: ImportOptions): Promise<Plan> {
  const { source: name, rest } = splitSourceSpec(options.source)
  const source = await ctx.sources(name)
  const base = /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/?(.*)$/is.exec(source.url)?.[1] ?? ''
  const keyPrefix = base + rest
  if (rest !== '') rest.endsWith('/') ? validatePrefix(rest) : validatePath(rest, 'source key')
  refuseOwnStorage(ctx.location, source.url, keyPrefix)
  const path = options.path ?? ''
  if (typeof path !== 'string') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'path must be a string')
  // `a/b` (no trailing slash): exactly that object when there is one, else the folder `a/b/`.
  if (keyPrefix !== '' && !keyPrefix.endsWith('/')) {
    const single = await source.head(keyPrefix)
    if (single) {
      const dest = path === '' || path.endsWith('/') ? path + keyPrefix.slice(keyPrefix.lastIndexOf('/') + 1) : path
      return { source, keyPrefix, single, dest: validatePath(dest) }
    }
    return { source, keyPrefix: `${keyPrefix}/`, dest: folder(path) }
  }
  return { source, keyPrefix, dest: folder(path) }
}

function folder(path: string): string {
  if (path === '') return ''
  return validatePrefix(path.endsWith('/') ? path : `${path}/`)
}

function refuseOwnStorage(location: string, sourceUrl: string, keyPrefix: string): void {
  const repo = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)\/?(.*)$/is.exec(location)
  const src = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)/is.exec(sourceUrl)
  if (!repo || !src || repo[1]!.toLowerCase() !== src[1]!.toLowerCase() || repo[2] !== src[2]) return
  const own = repo[3] === '' || repo[3]!.endsWith('/') ? repo[3]! : `${repo[3]}/`
  if (own.startsWith(keyPrefix) || keyPrefix.startsWith(own))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `cannot import ${sourceUrl} ${keyPrefix}: it overlaps the repository's own storage at ${location}`, {
      details: { source: sourceUrl, prefix: keyPrefix, location },
    })
}

class ImportStats {
  listed = 0
  added = 0
  changed = 0
  removed = 0
  unchanged = 0
  bytes = 0
  skipped = 0
  skippedExamples: string[] = []
  reset(): void {
    Object.assign(this, { listed: 0, added: 0, changed: 0, removed: 0, unchanged: 0, bytes: 0, skipped: 0, skippedExamples: [] })
  }
  counts() {
    return { listed: this.listed, added: this.added, changed: this.changed, removed: this.removed, unchanged: this.unchanged, bytes: this.bytes }
  }
  summary() {
    return { ...this.counts(), skipped: this.skipped, skippedExamples: this.skippedExamples }
  }
}

/**
 * The tree changes an import makes, in path order: the source's listing merged with the branch's
 * entries under the destination. An object whose identity (version or ETag, and size) the branch
 * already records costs nothing; `replace` also removes what the source no longer has.
 */
async function* importChanges(
  objects: ObjectStore,
  root: TreeRef,
  plan: Plan,
  mode: 'merge' | 'replace',
  options: ImportOptions,
  stats: ImportStats,
): AsyncGenerator<TreeChange> {
  const existing = entriesUnder(objects, root, plan.dest, plan.single !== undefined)
  let cur = await existing.next()
  try {
    for await (const page of listedEntries(plan, options, stats)) {
      const out: TreeChange[] = []
      for (const e of page) {
        while (!cur.done && comparePaths(cur.value.path, e.path) < 0) {
          if (mode === 'replace') {
            stats.removed++
            out.push({ path: cur.value.path, entry: null })
          }
          cur = await existing.next()
        }
        const old = !cur.done && cur.value.path === e.path ? cur.value : undefined
        if (old) cur = await existing.next()
        if (old && sameImport(old, e)) stats.unchanged++
        else {
          if (old) stats.changed++
          else stats.added++
          stats.bytes += e.size
          out.push({ path: e.path, entry: e })
        }
      }
      if (options.hash && !options.dryRun) await hashEntries(plan.source, out, options.signal)
      yield* out
      options.onProgress?.({ listed: stats.listed, changed: stats.added + stats.changed + stats.removed })
    }
    for (; !cur.done; cur = await existing.next()) {
      if (mode !== 'replace') break
      stats.removed++
      yield { path: cur.value.path, entry: null }
    }
  } finally {
    await existing.return(undefined)
  }
}

/** Objects hashed at once with `hash`. */
const HASH_CONCURRENCY = 8

/**
 * Reads each new or changed object once (by its pinned identity) and makes its SHA-256 its address:
 * imported data then verifies on every full read, and diffs match it with uploads of the same bytes.
 */
async function hashEntries(source: ExternalSource, changes: TreeChange[], signal: AbortSignal | undefined): Promise<void> {
  const puts = changes.map((c, i) => ({ c, i })).filter(({ c }) => c.entry !== null)
  const hashOne = async ({ c, i }: { c: TreeChange; i: number }) => {
    signal?.throwIfAborted()
    const e = c.entry!
    const hash = createHash('sha256')
    let size = 0
    for await (const chunk of await source.stream(e.external!)) {
      hash.update(chunk)
      size += chunk.byteLength
    }
    if (size !== e.size) throw importedObjectChanged(e.external!, e.path)
    changes[i] = { path: c.path, entry: { ...e, address: hash.digest('hex') } }
  }
  for await (const _ of mapInOrder(puts, HASH_CONCURRENCY, hashOne)) void _
}

/** The same source object (identity and size): its entry stays as it is, hashed or not. */
function sameImport(old: Entry, e: Entry): boolean {
  const a = old.external
  const b = e.external!
  return a !== undefined && a.source === b.source && a.key === b.key && a.versionId === b.versionId && a.etag === b.etag && old.size === e.size
}

/** The branch's entries at or under `dest`, one at a time. */
async function* entriesUnder(objects: ObjectStore, root: TreeRef, dest: string, exact: boolean): AsyncGenerator<Entry> {
  for await (const batch of scanEntries(objects, root, dest)) {
    for (const e of batch) {
      if (exact ? e.path !== dest : !e.path.startsWith(dest)) return
      yield e
    }
  }
}

/** The source's objects as entries, a listed page at a time; keys that are not valid paths are counted and left out. */
async function* listedEntries(plan: Plan, options: ImportOptions, stats: ImportStats): AsyncGenerator<Entry[]> {
  const toEntry = (o: SourceObject, path: string): Entry => {
    const external: ExternalLocator = { source: plan.source.name, key: o.key, ...(o.versionId ? { versionId: o.versionId } : {}), etag: o.etag }
    return { path, address: importedAddress(external, o.size), size: o.size, lastModified: o.lastModified, external }
  }
  if (plan.single) {
    stats.listed = 1
    yield [toEntry(plan.single, plan.dest)]
    return
  }
  const cut = plan.keyPrefix.length
  for await (const page of plan.source.list(plan.keyPrefix, options.signal ? { signal: options.signal } : {})) {
    options.signal?.throwIfAborted()
    stats.listed += page.length
    const out: Entry[] = []
    for (const o of page) {
      const path = plan.dest + o.key.slice(cut)
      if (!validImportPath(path)) {
        stats.skipped++
        if (stats.skippedExamples.length < 5) stats.skippedExamples.push(o.key)
        continue
      }
      out.push(toEntry(o, path))
    }
    if (out.length) yield out
  }
}

function validImportPath(path: string): boolean {
  try {
    validatePath(path)
    return true
  } catch (err) {
    if (VarveError.is(err, ErrorCodes.INVALID_PATH)) return false
    throw err
  }
}
