import { actorOf, authorship, mustGetBranch, stateOf } from '../commits/commit-staged.js'
import type { RepoContext } from '../context/repo-context.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { commitRoot, type Commit, type PackedRoot } from '../model/commit.js'
import type { Entry } from '../model/entry.js'
import { packedRootOf, type TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { destinationBucketOf, listInventory, parseInventoryManifest, type InventoryManifest } from '../sources/inventory-listing.js'
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

interface Plan {
  readonly source: ExternalSource
  /** Full key prefix listed ('' = the whole bucket). */
  readonly keyPrefix: string
  /** One object: its key, imported as `dest`. */
  readonly single?: SourceObject
  /** Destination folder ('' or ending in '/'), or the file path for a single object. */
  readonly dest: string
  /** The source's objects under a prefix, in key order, a page at a time: a LIST walk or an inventory report. */
  readonly list: ExternalSource['list']
}

/** Imports a source's objects into a branch without copying them (decision 0017). */
export async function importObjects(ctx: RepoContext, branch: string, options: ImportOptions): Promise<ImportSummary> {
  const progress = { listed: 0 }
  try {
    return await importWith(ctx, branch, options, progress)
  } catch (err) {
    if (!options.signal?.aborted || VarveError.is(err, ErrorCodes.NOTHING_TO_COMMIT)) throw err
    throw new VarveError(
      ErrorCodes.UNAVAILABLE,
      `import into ${branch} interrupted after ${progress.listed} objects listed; run it again to continue from its last checkpoint`,
      { details: { branch, interrupted: true, listed: progress.listed }, cause: err },
    )
  }
}

async function importWith(ctx: RepoContext, branch: string, options: ImportOptions, progress: { listed: number }): Promise<ImportSummary> {
  const started = performance.now()
  const mode = options.mode ?? 'merge'
  if (mode !== 'merge' && mode !== 'replace') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `mode is merge or replace, not ${JSON.stringify(mode)}`)
  const dryRun = options.dryRun === true
  const commit = options.commit !== false
  await mustGetBranch(ctx, branch)
  const plan = await planImport(ctx, options)
  const stats = new ImportStats()
  Object.defineProperty(progress, 'listed', { get: () => stats.listed })
  const changesOf = (root: TreeRef, objects: ObjectStore, after?: string) => importChanges(objects, root, plan, mode, options, stats, after)
  const done = (extra: Partial<ImportSummary> = {}): ImportSummary => ({
    ...stats.summary(),
    dryRun,
    copied: options.copy === true && !dryRun,
    seconds: (performance.now() - started) / 1000,
    ...extra,
  })

  if (dryRun || !commit) {
    const b = await mustGetBranch(ctx, branch)
    const root = commitRoot(await ctx.objects.readCommit(b.head))
    let batch: StagedChange[] = []
    for await (const c of changesOf(root, ctx.objects)) {
      if (dryRun || isPageEnd(c)) continue
      batch.push(c)
      if (batch.length >= 10_000) {
        await stageChanges(ctx, branch, batch)
        batch = []
      }
    }
    if (batch.length) await stageChanges(ctx, branch, batch)
    return done(dryRun ? {} : { staged: true })
  }

  let resumedAfter: string | undefined
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
      const built = await applyInChunks(fenced, branch, head, options, plan, mode, stats, changesOf, (after) => (resumedAfter = after))
      if (built === 'stale-checkpoint') {
        resumedAfter = undefined
        return LOST_RACE
      }
      const { root, rootAt } = built
      if (root === head.root) {
        await dropCheckpoint(ctx, branch)
        return undefined
      }
      const made = await objects.writeCommit({
        parents: [b.head],
        root,
        ...(rootAt ? { rootAt } : {}),
        message: options.message ?? `Import ${options.source}${options.prefix ?? ''} into ${plan.dest || '/'}`,
        ...authorship(options.author ?? ctx.defaultAuthor, options.committer),
        metadata: { ...(options.metadata ?? {}), import: { source: options.source, mode, ...(options.copy ? { copy: true } : {}), ...stats.counts() } },
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
      await dropCheckpoint(ctx, branch)
      await ctx.gates.post({ event: 'post-commit', ...gate })
      return made
    }),
  )
  if (!made)
    throw new VarveError(ErrorCodes.NOTHING_TO_COMMIT, `nothing to commit on ${branch}: ${options.source} holds what the branch has`, {
      details: { branch, ...done() },
    })
  return done({ commit: made, ...(resumedAfter !== undefined ? { resumedAfter } : {}) })
}

/** Listed objects between checkpoints: an interrupted import continues from the last one. */
const CHECKPOINT_EVERY = 100_000
const checkpointKey = (branch: string) => `import-checkpoint/${branch}`

interface Checkpoint {
  readonly source: string
  readonly prefix: string
  readonly inventory: string
  readonly dest: string
  readonly mode: string
  readonly hash: boolean
  readonly copy: boolean
  /** The branch head the import started from. */
  readonly head: string
  /** The tree so far: the head's with every change up to `lastKey` applied. */
  readonly root: string
  readonly rootAt?: PackedRoot
  readonly lastKey: string
  readonly stats: ReturnType<ImportStats['summary']>
}

/**
 * Applies the import's changes to the head's tree a slice at a time (a slice ends at a listed page
 * after CHECKPOINT_EVERY objects), recording after each the tree so far and the last key in a
 * checkpoint setting. Started again over the same head with the same source, destination and mode,
 * it continues after that key on that tree: the trees are canonical, so the result is the tree an
 * uninterrupted import builds. A checkpoint whose nodes are gone (collected) is dropped.
 */
async function applyInChunks(
  ctx: RepoContext,
  branch: string,
  head: Commit,
  options: ImportOptions,
  plan: Plan,
  mode: string,
  stats: ImportStats,
  changesOf: (root: TreeRef, objects: ObjectStore, after?: string) => AsyncGenerator<TreeChange | PageEnd>,
  onResume: (after: string) => void,
): Promise<{ root: string; rootAt?: PackedRoot } | 'stale-checkpoint'> {
  const every = options.checkpointEvery ?? CHECKPOINT_EVERY
  if (!Number.isSafeInteger(every) || every < 1) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'checkpointEvery must be a whole number of objects')
  const same = {
    source: options.source,
    prefix: options.prefix ?? '',
    inventory: options.inventory ?? '',
    dest: plan.dest,
    mode,
    hash: options.hash === true,
    copy: options.copy === true,
    head: head.id,
  }
  let at: { root: string; rootAt?: PackedRoot } = { root: head.root, ...(head.rootAt ? { rootAt: head.rootAt } : {}) }
  let after: string | undefined
  const saved = await readCheckpoint(ctx, branch)
  if (saved && Object.entries(same).every(([k, v]) => saved[k as keyof Checkpoint] === v)) {
    const resumed = { root: saved.root, ...(saved.rootAt ? { rootAt: saved.rootAt } : {}) }
    if (
      await ctx.objects.readNode(commitRoot(resumed)).then(
        () => true,
        () => false,
      )
    ) {
      at = resumed
      after = saved.lastKey
      onResume(after)
      Object.assign(stats, saved.stats, { skippedExamples: [...saved.stats.skippedExamples] })
    }
  }
  const changes = changesOf(commitRoot(head), ctx.objects, after)
  let finished = false
  const resumed = after !== undefined
  try {
    while (!finished) {
      let lastKey: string | undefined
      const listedAtStart = stats.listed
      // One slice of the shared change stream: up to the first page end past CHECKPOINT_EVERY objects.
      const slice = async function* (): AsyncGenerator<TreeChange> {
        for (;;) {
          const r = await changes.next()
          if (r.done) {
            finished = true
            return
          }
          if (!isPageEnd(r.value)) {
            yield r.value
            continue
          }
          lastKey = r.value.pageEnd
          if (stats.listed - listedAtStart >= every) return
        }
      }
      const { root, tree } = await applyChanges(ctx.objects, commitRoot(at), slice())
      const rootAt = packedRootOf(tree)
      at = { root, ...(rootAt ? { rootAt } : {}) }
      if (!finished && lastKey !== undefined) {
        const checkpoint: Checkpoint = { ...same, ...at, lastKey, stats: stats.summary() }
        await ctx.refs.setSetting(checkpointKey(branch), JSON.stringify(checkpoint))
      }
    }
  } catch (err) {
    // The checkpoint's tree lost nodes to gc (its grace period passed): start over from the head.
    if (resumed && VarveError.is(err, ErrorCodes.NOT_FOUND) && (err as VarveError).details.source === undefined) {
      await dropCheckpoint(ctx, branch)
      return 'stale-checkpoint'
    }
    throw err
  } finally {
    await changes.return(undefined)
  }
  return at
}

async function readCheckpoint(ctx: RepoContext, branch: string): Promise<Checkpoint | undefined> {
  const raw = await ctx.refs.getSetting(checkpointKey(branch))
  if (raw === undefined) return undefined
  try {
    return JSON.parse(raw) as Checkpoint
  } catch {
    return undefined
  }
}

async function dropCheckpoint(ctx: RepoContext, branch: string): Promise<void> {
  if ((await ctx.refs.getSetting(checkpointKey(branch))) !== undefined) await ctx.refs.setSetting(checkpointKey(branch), null)
}

/** Where the objects come from and where they go; refuses a source inside the repository's own storage. */
async function planImport(ctx: RepoContext, options: ImportOptions): Promise<Plan> {
  const { source: name, rest: named } = splitSourceSpec(options.source)
  const rest = named + subPrefix(named, options.prefix)
  const source = await ctx.sources(name)
  const base = /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/?(.*)$/is.exec(source.url)?.[1] ?? ''
  const keyPrefix = base + rest
  if (rest !== '') rest.endsWith('/') ? validatePrefix(rest) : validatePath(rest, 'source key')
  refuseOwnStorage(ctx.location, source.url, keyPrefix)
  const path = options.path ?? ''
  if (typeof path !== 'string') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'path must be a string')
  if (options.inventory !== undefined) {
    const { manifest, files } = await openInventory(ctx, options.inventory, source)
    const under = keyPrefix === '' || keyPrefix.endsWith('/') ? keyPrefix : `${keyPrefix}/`
    return { source, keyPrefix: under, dest: folder(path), list: (prefix, o) => listInventory(manifest, files, prefix, o) }
  }
  const list: ExternalSource['list'] = (prefix, o) => source.list(prefix, o)
  // `a/b` (no trailing slash): exactly that object when there is one, else the folder `a/b/`.
  if (keyPrefix !== '' && !keyPrefix.endsWith('/')) {
    const single = await source.head(keyPrefix)
    if (single) {
      const dest = path === '' || path.endsWith('/') ? path + keyPrefix.slice(keyPrefix.lastIndexOf('/') + 1) : path
      return { source, keyPrefix, single, dest: validatePath(dest), list }
    }
    return { source, keyPrefix: `${keyPrefix}/`, dest: folder(path), list }
  }
  return { source, keyPrefix, dest: folder(path), list }
}

/** An inventory manifest (a URL or a local file) for `source`'s bucket, and where its report files are. */
async function openInventory(ctx: RepoContext, spec: string, source: ExternalSource): Promise<{ manifest: InventoryManifest; files: ExternalSource }> {
  if (typeof spec !== 'string' || spec === '') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'inventory is the URL or file of a manifest.json')
  const url = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)\/(.+)$/is.exec(spec)
  let bytes: Uint8Array
  let at: ExternalSource | undefined
  if (url) {
    at = await ctx.sources(url[1]!)
    const o = await at.head(url[2]!)
    if (!o) throw new VarveError(ErrorCodes.NOT_FOUND, `inventory manifest ${spec} not found`, { details: { inventory: spec } })
    bytes = await at.read({ source: at.name, key: url[2]!, etag: o.etag, ...(o.versionId ? { versionId: o.versionId } : {}) })
  } else if (spec.includes('://')) {
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `inventory ${spec} is not a manifest URL (s3://bucket/key/manifest.json)`, {
      details: { inventory: spec },
    })
  } else {
    bytes = await readFile(spec).catch((err: NodeJS.ErrnoException) => {
      throw new VarveError(
        err.code === 'ENOENT' ? ErrorCodes.NOT_FOUND : ErrorCodes.INVALID_ARGUMENT,
        `cannot read the inventory manifest ${spec}: ${err.code ?? err.message}`,
        {
          details: { inventory: spec },
        },
      )
    })
  }
  const manifest = parseInventoryManifest(bytes, spec)
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)/is.exec(source.url)
  if (!scheme || scheme[2] !== manifest.sourceBucket)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `the inventory ${spec} lists bucket ${manifest.sourceBucket}, not the source ${source.url}`, {
      details: { inventory: spec, sourceBucket: manifest.sourceBucket, source: source.url },
    })
  const filesUrl = `${scheme[1]}://${destinationBucketOf(manifest)}`
  const files = at && at.name === filesUrl ? at : await ctx.sources(filesUrl)
  return { manifest, files }
}

function subPrefix(named: string, prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return ''
  if (typeof prefix !== 'string') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'prefix must be a string')
  if (named !== '' && !named.endsWith('/'))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a prefix goes under a folder of the source: end ${named} with / or name it in prefix alone`, {
      details: { prefix },
    })
  return prefix
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
  after?: string,
): AsyncGenerator<TreeChange | PageEnd> {
  const existing = entriesUnder(objects, root, plan.dest, plan.single !== undefined, after === undefined ? undefined : destOf(plan, after))
  let cur = await existing.next()
  try {
    for await (const { entries: page, lastKey } of listedEntries(plan, options, stats, after)) {
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
      if (options.copy && !options.dryRun) await copyEntries(objects, plan.source, out, options.signal)
      else if (options.hash && !options.dryRun) await hashEntries(plan.source, out, options.signal)
      yield* out
      // Existing entries before the last listed key are settled too (removed or kept): a checkpoint here resumes after it.
      while (mode === 'replace' && !cur.done && comparePaths(cur.value.path, destOf(plan, lastKey)) < 0) {
        stats.removed++
        yield { path: cur.value.path, entry: null }
        cur = await existing.next()
      }
      yield { pageEnd: lastKey }
      options.onProgress?.({
        listed: stats.listed,
        changed: stats.added + stats.changed + stats.removed,
        ...(after !== undefined ? { resumedAfter: after } : {}),
      })
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

/** The end of a listed page: every change up to its last key has been given. */
interface PageEnd {
  readonly pageEnd: string
}
const isPageEnd = (c: TreeChange | PageEnd): c is PageEnd => 'pageEnd' in c

/** Where a source key goes on the branch. */
const destOf = (plan: Plan, key: string) => (plan.single ? plan.dest : plan.dest + key.slice(plan.keyPrefix.length))

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

/**
 * Copies each new or changed object into the store (read once by its pinned identity, written as an
 * upload is): the entry then names its bytes by their SHA-256 and keeps where they came from in its metadata.
 */
async function copyEntries(objects: ObjectStore, source: ExternalSource, changes: TreeChange[], signal: AbortSignal | undefined): Promise<void> {
  const puts = changes.map((c, i) => ({ c, i })).filter(({ c }) => c.entry !== null)
  const copyOne = async ({ c, i }: { c: TreeChange; i: number }) => {
    signal?.throwIfAborted()
    const e = c.entry!
    const x = e.external!
    const { address, size } = await objects.writeData(await source.stream(x))
    if (size !== e.size) throw importedObjectChanged(x, e.path)
    const metadata = {
      'imported-from': `${x.source}/${x.key}`,
      ...(x.etag ? { 'imported-etag': x.etag } : {}),
      ...(x.versionId ? { 'imported-version-id': x.versionId } : {}),
    }
    changes[i] = { path: c.path, entry: { path: e.path, address, size, lastModified: e.lastModified, metadata } }
  }
  for await (const _ of mapInOrder(puts, HASH_CONCURRENCY, copyOne)) void _
}

/** The same source object (identity and size): its entry stays as it is, hashed, copied or not. */
function sameImport(old: Entry, e: Entry): boolean {
  const b = e.external!
  if (old.size !== e.size) return false
  const a = old.external
  if (a !== undefined) return a.source === b.source && a.key === b.key && a.versionId === b.versionId && a.etag === b.etag
  // A copied object: its source identity is in its metadata.
  const m = old.metadata
  return m?.['imported-from'] === `${b.source}/${b.key}` && m['imported-etag'] === b.etag && m['imported-version-id'] === b.versionId
}

/** The branch's entries at or under `dest` (after `after`, when resuming), one at a time. */
async function* entriesUnder(objects: ObjectStore, root: TreeRef, dest: string, exact: boolean, after?: string): AsyncGenerator<Entry> {
  for await (const batch of scanEntries(objects, root, after ?? dest, after !== undefined)) {
    for (const e of batch) {
      if (exact ? e.path !== dest : !e.path.startsWith(dest)) return
      yield e
    }
  }
}

/** The source's objects as entries, a listed page at a time (with its last key); keys that are not valid paths are counted and left out. */
async function* listedEntries(plan: Plan, options: ImportOptions, stats: ImportStats, after?: string): AsyncGenerator<{ entries: Entry[]; lastKey: string }> {
  const toEntry = (o: SourceObject, path: string): Entry => {
    const external: ExternalLocator = { source: plan.source.name, key: o.key, ...(o.versionId ? { versionId: o.versionId } : {}), etag: o.etag }
    return { path, address: importedAddress(external, o.size), size: o.size, lastModified: o.lastModified, external }
  }
  if (plan.single) {
    stats.listed = 1
    yield { entries: [toEntry(plan.single, plan.dest)], lastKey: plan.single.key }
    return
  }
  const cut = plan.keyPrefix.length
  const listing = plan.list(plan.keyPrefix, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(after !== undefined ? { startAfter: after } : {}),
  })
  for await (const page of listing) {
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
    if (page.length) yield { entries: out, lastKey: page[page.length - 1]!.key }
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
