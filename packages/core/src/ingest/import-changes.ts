import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import type { TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { createHash } from 'node:crypto'
import { importedAddress, importedObjectChanged, type ExternalLocator, type ExternalSource, type SourceObject } from '../sources/external-source.js'
import type { TreeChange } from '../tree/apply-changes.js'
import { scanEntries } from '../tree/tree-reader.js'
import { mapInOrder } from '../util/map-in-order.js'
import { comparePaths, validatePath } from '../util/paths.js'
import type { ImportOptions } from './import-options.js'
import type { Plan } from './import-plan.js'

// The changes an import makes: the source's listing merged with the branch's entries, hashed or copied on the way.

export class ImportStats {
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
export async function* importChanges(
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
export interface PageEnd {
  readonly pageEnd: string
}
export const isPageEnd = (c: TreeChange | PageEnd): c is PageEnd => 'pageEnd' in c

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
