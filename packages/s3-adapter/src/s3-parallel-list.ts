import { ListObjectVersionsCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3'
import { comparePaths, type SourceObject } from '@varve/core'
import { s3Error } from './s3-errors.js'
import { bareEtag, fastListing } from './s3-list-xml.js'

/** Prefixes listed at once once the listing has fanned out. */
const LISTERS = 16
/** Pages each lister reads ahead of the consumer (1,000 keys each). */
const AHEAD = 4
/** A level with more keys than this is listed as it is found, not fanned out further. */
const FAN_OUT_PAGES = 5

const toObject = (o: NonNullable<ListObjectsV2CommandOutput['Contents']>[number]): SourceObject => ({
  key: o.Key!,
  size: o.Size ?? 0,
  etag: bareEtag(o.ETag),
  lastModified: o.LastModified ? o.LastModified.getTime() : 0,
})

type Unit = { readonly object: SourceObject } | { readonly prefix: string }

/** Where a listing goes on from: a continuation token (ListObjectsV2) or a key and version marker (ListObjectVersions). */
type Cursor = string | { readonly key?: string; readonly version?: string }
/** One page of either listing, the same shape. */
interface Page {
  readonly objects: SourceObject[]
  readonly prefixes: string[]
  readonly next?: Cursor
}

export interface ParallelListOptions {
  readonly signal?: AbortSignal
  /** List ListObjectVersions (each key's current version, with its id) instead of ListObjectsV2. */
  readonly versioned?: boolean
  /** Only keys after this one (a resumed import): folders wholly before it are never listed. */
  readonly startAfter?: string
}

/**
 * Lists every key under `prefix` in key order, many prefixes at once: the first levels are listed
 * with the `/` delimiter, then each folder found is walked by a lister of its own (up to 16 at
 * once, each a few pages ahead), and the folders are read back in order. Keys directly under a
 * folder and the folders themselves interleave as S3 orders them, so the output is the same as one
 * sequential ListObjectsV2 walk. On a versioned bucket (`versioned`) the same walk runs on
 * ListObjectVersions and gives each key's current version, with its version id.
 */
export async function* listInParallel(client: S3Client, bucket: string, prefix: string, options: ParallelListOptions = {}): AsyncGenerator<SourceObject[]> {
  const { signal, versioned = false, startAfter } = options
  /** Where the first page of a folder starts: after `startAfter` when that key falls inside the folder. */
  const startIn = (p: string): string | undefined => (startAfter?.startsWith(p) ? startAfter : undefined)
  /** Whether every key a unit stands for comes after `startAfter`'s key, or none does. */
  const after = (u: Unit): boolean => {
    if (startAfter === undefined) return true
    if ('object' in u) return comparePaths(u.object.key, startAfter) > 0
    // A folder before the key and not holding it holds only keys before it.
    return u.prefix === '' || startAfter.startsWith(u.prefix) || comparePaths(u.prefix, startAfter) > 0
  }
  const v2 = async (p: string, token: string | undefined, delimiter: boolean): Promise<Page> => {
    // (A level listed with the delimiter is read whole and filtered: how a start-after key rolls up
    // into common prefixes differs between S3 implementations.)
    const from = token || delimiter ? undefined : startIn(p)
    const command = new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: p,
      MaxKeys: 1000,
      ...(delimiter ? { Delimiter: '/' } : {}),
      ...(token ? { ContinuationToken: token } : {}),
      ...(from !== undefined ? { StartAfter: from } : {}),
    })
    const fast = fastListing(command, false)
    const r = await client.send(command, signal ? { abortSignal: signal } : {}).catch((err) => Promise.reject(s3Error(err, 'ListObjectsV2', bucket, p)))
    const read = fast.page()
    if (read) return { objects: read.objects, prefixes: read.prefixes, ...(read.truncated && read.nextToken ? { next: read.nextToken } : {}) }
    return {
      objects: (r.Contents ?? []).map(toObject),
      prefixes: (r.CommonPrefixes ?? []).map((c) => c.Prefix!),
      ...(r.IsTruncated && r.NextContinuationToken ? { next: r.NextContinuationToken } : {}),
    }
  }
  // A versioned bucket: each key's current version (a key whose latest version is a delete marker has none).
  const versions = async (p: string, cursor: { key?: string; version?: string } | undefined, delimiter: boolean): Promise<Page> => {
    // A key marker without a version marker starts after every version of that key.
    const from = cursor || delimiter ? undefined : startIn(p)
    const at = cursor ?? (from !== undefined ? { key: from } : undefined)
    const command = new ListObjectVersionsCommand({
      Bucket: bucket,
      Prefix: p,
      MaxKeys: 1000,
      ...(delimiter ? { Delimiter: '/' } : {}),
      ...(at?.key ? { KeyMarker: at.key } : {}),
      ...(at?.version ? { VersionIdMarker: at.version } : {}),
    })
    const fast = fastListing(command, true)
    const r = await client.send(command, signal ? { abortSignal: signal } : {}).catch((err) => Promise.reject(s3Error(err, 'ListObjectVersions', bucket, p)))
    const read = fast.page()
    const marker = (key: string | undefined, version: string | undefined) => ({ ...(key ? { key } : {}), ...(version ? { version } : {}) })
    if (read)
      return { objects: read.objects, prefixes: read.prefixes, ...(read.truncated ? { next: marker(read.nextKeyMarker, read.nextVersionIdMarker) } : {}) }
    return {
      objects: (r.Versions ?? [])
        .filter((o) => o.IsLatest)
        .map((o) => ({ ...toObject(o), ...(o.VersionId && o.VersionId !== 'null' ? { versionId: o.VersionId } : {}) })),
      prefixes: (r.CommonPrefixes ?? []).map((c) => c.Prefix!),
      ...(r.IsTruncated ? { next: marker(r.NextKeyMarker, r.NextVersionIdMarker) } : {}),
    }
  }
  const page = (p: string, cursor: Cursor | undefined, delimiter: boolean): Promise<Page> =>
    versioned ? versions(p, cursor as { key?: string; version?: string } | undefined, delimiter) : v2(p, cursor as string | undefined, delimiter)

  /** One level with the delimiter, or undefined when it holds too many keys to be worth fanning out. */
  const level = async (p: string): Promise<Unit[] | undefined> => {
    const objects: SourceObject[] = []
    const prefixes: string[] = []
    let cursor: Cursor | undefined
    for (let pages = 0; ; pages++) {
      if (pages >= FAN_OUT_PAGES) return undefined
      const r = await page(p, cursor, true)
      objects.push(...r.objects)
      prefixes.push(...r.prefixes)
      if (r.next === undefined) break
      cursor = r.next
    }
    const units: Unit[] = [...objects.map((object) => ({ object })), ...prefixes.map((prefix) => ({ prefix }))]
    return units.sort((a, b) => comparePaths('object' in a ? a.object.key : a.prefix, 'object' in b ? b.object.key : b.prefix))
  }

  // Fan out until there are enough folders to list at once (or the levels are too wide). A level
  // listed with the delimiter starts after `startAfter` too; what remains before it is dropped here.
  let units: Unit[] = [{ prefix }]
  for (let depth = 0; depth < 3; depth++) {
    const folders = units.filter((u) => 'prefix' in u).length
    if (folders >= LISTERS) break
    const next: Unit[] = []
    let grew = false
    for (const u of units) {
      if (!('prefix' in u)) {
        next.push(u)
        continue
      }
      const below = await level(u.prefix)
      if (below === undefined) next.push(u)
      else {
        next.push(...below.filter(after))
        grew = true
      }
    }
    units = next
    if (!grew) break
  }

  const listers = new Map<number, PrefixLister>()
  let started = 0
  const startMore = (from: number) => {
    for (; started < units.length && listers.size < LISTERS; started++) {
      const u = units[started]!
      if (started < from || !('prefix' in u)) continue
      listers.set(started, new PrefixLister(u.prefix, (t) => page(u.prefix, t, false)))
    }
  }
  try {
    let batch: SourceObject[] = []
    for (let i = 0; i < units.length; i++) {
      startMore(i)
      const u = units[i]!
      if ('object' in u) {
        batch.push(u.object)
        // Pages of at most 1,000, as S3 gives them: a consumer checkpoints and reports by page.
        if (batch.length >= 1000) {
          yield batch
          batch = []
        }
        continue
      }
      if (batch.length) {
        yield batch
        batch = []
      }
      const lister = listers.get(i) ?? new PrefixLister(u.prefix, (t) => page(u.prefix, t, false))
      listers.delete(i)
      try {
        for await (const p of lister.pages()) yield p
      } finally {
        lister.stop()
      }
    }
    if (batch.length) yield batch
  } finally {
    for (const l of listers.values()) l.stop()
  }
}

/** Lists one prefix page by page, up to AHEAD pages ahead of whoever reads it. */
class PrefixLister {
  readonly #ready: (SourceObject[] | Error | null)[] = []
  #wake: (() => void) | undefined
  #resume: (() => void) | undefined
  #stopped = false

  constructor(
    readonly prefix: string,
    fetch: (cursor: Cursor | undefined) => Promise<Page>,
  ) {
    void this.#run(fetch)
  }

  async #run(fetch: (cursor: Cursor | undefined) => Promise<Page>): Promise<void> {
    let cursor: Cursor | undefined
    try {
      do {
        while (this.#ready.length >= AHEAD && !this.#stopped) await new Promise<void>((r) => (this.#resume = r))
        if (this.#stopped) return
        const r = await fetch(cursor)
        this.#push(r.objects)
        cursor = r.next
      } while (cursor !== undefined)
      this.#push(null)
    } catch (err) {
      this.#push(err as Error)
    }
  }

  #push(item: SourceObject[] | Error | null): void {
    this.#ready.push(item)
    this.#wake?.()
    this.#wake = undefined
  }

  async *pages(): AsyncGenerator<SourceObject[]> {
    for (;;) {
      while (!this.#ready.length) await new Promise<void>((r) => (this.#wake = r))
      const item = this.#ready.shift()!
      this.#resume?.()
      this.#resume = undefined
      if (item === null) return
      if (item instanceof Error) throw item
      if (item.length) yield item
    }
  }

  stop(): void {
    this.#stopped = true
    this.#resume?.()
  }
}
