import { VarveError, type Entry, type Repository } from '@varve/core'
import { compareKeys, type RefNames, splitKey } from './addressing.js'

export interface ListRequest {
  readonly prefix: string
  readonly delimiter: string
  /** Only keys strictly after this one (start-after, marker, or a continuation token's key). */
  readonly after: string
  readonly maxKeys: number
  /**
   * Whether the caller may read a ref. A listing of one ref's tree needs it (else ACCESS_DENIED);
   * a listing across refs shows only the refs it allows (their keys, and common prefixes of theirs).
   */
  readonly canRead: (ref: string) => boolean
}

export interface ListPage {
  readonly objects: { key: string; entry: Entry }[]
  readonly prefixes: string[]
  readonly truncated: boolean
  /** The last key or common prefix returned: where the next page starts. */
  readonly last: string | undefined
}

// The highest code point: appended to a common prefix, it sorts after every key under that prefix.
const PAST = '\u{10FFFF}'

/**
 * A page of `<ref>/<path>` keys in S3 order. A prefix that names a ref lists that ref's tree (on a
 * branch, with its uncommitted changes, as every read of a branch does); a shorter prefix lists the
 * branches and tags as `<name>/` common prefixes with a `/` delimiter, or walks their trees without one.
 */
export async function listKeys(repo: Repository, names: RefNames, req: ListRequest): Promise<ListPage> {
  const out: { key: string; entry?: Entry }[] = []
  const want = req.maxKeys + 1
  // A continuation after a common prefix skips everything under it.
  const after = req.delimiter && req.after.endsWith(req.delimiter) ? req.after + PAST : req.after
  const single = req.prefix.includes('/') ? await splitKey(repo, req.prefix, names) : undefined
  if (single && (await resolves(repo, single.ref))) {
    // The ref the prefix names (the longest that resolves: `team/private/` is the ref team/private,
    // not team/...), not the prefix's first segment, is what the caller must be allowed to read.
    if (!req.canRead(single.ref)) throw new VarveError('PERMISSION_DENIED', `may not read ${single.ref}`, { details: { ref: single.ref } })
    await listRef(repo, single.ref, single.path, req.delimiter, after, want, out)
  } else if (req.maxKeys > 0) {
    let lastCommon: string | undefined
    for (const name of await names.all(repo)) {
      if (out.length >= want) break
      if (!req.canRead(name)) continue // neither its keys nor a common prefix that only it would make
      const base = `${name}/`
      if (!base.startsWith(req.prefix)) continue
      const cut = req.delimiter ? base.indexOf(req.delimiter, req.prefix.length) : -1
      if (cut >= 0) {
        const common = base.slice(0, cut + req.delimiter.length)
        if (common !== lastCommon && compareKeys(common, after) > 0) out.push({ key: common })
        lastCommon = common
        continue
      }
      if (after && compareKeys(after, base + PAST) >= 0) continue
      await listRef(repo, name, '', req.delimiter, after, want, out)
    }
  }
  const page = out.slice(0, req.maxKeys)
  return {
    objects: page.flatMap((i) => (i.entry ? [{ key: i.key, entry: i.entry }] : [])),
    prefixes: page.flatMap((i) => (i.entry ? [] : [i.key])),
    truncated: out.length > req.maxKeys,
    last: page.at(-1)?.key,
  }
}

async function listRef(
  repo: Repository,
  ref: string,
  pathPrefix: string,
  delimiter: string,
  after: string,
  want: number,
  out: { key: string; entry?: Entry }[],
): Promise<void> {
  const base = `${ref}/`
  let pathAfter: string | undefined
  if (after) {
    if (compareKeys(after, base) < 0) pathAfter = undefined
    else if (after.startsWith(base)) pathAfter = after.slice(base.length)
    else return // the whole ref sorts before `after`
  }
  const options = { prefix: pathPrefix, ...(delimiter ? { delimiter } : {}), ...(pathAfter ? { after: pathAfter } : {}), limit: want - out.length }
  for await (const item of repo.list(ref, options)) {
    if (item.type === 'prefix') out.push({ key: base + item.path })
    else {
      const { type: _t, ...entry } = item
      out.push({ key: base + item.path, entry })
    }
    if (out.length >= want) return
  }
}

async function resolves(repo: Repository, ref: string): Promise<boolean> {
  try {
    await repo.resolve(ref)
    return true
  } catch (err) {
    if (VarveError.is(err, 'NOT_FOUND') || VarveError.is(err, 'INVALID_REF') || VarveError.is(err, 'AMBIGUOUS_REF')) return false
    throw err
  }
}
