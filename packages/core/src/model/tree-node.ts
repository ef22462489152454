import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { ExternalLocator } from '../sources/external-source.js'
import type { Entry } from './entry.js'
import { isObjectId } from './hash.js'

/**
 * A tree is a Prolly-style B-tree of immutable, content-addressed nodes. Leaves hold entries in path
 * order; inner nodes hold references to the level below. A node's id is the SHA-256 of its encoding.
 * See docs/decisions/0002-tree-format.md.
 */
export interface ChildRef {
  /** Last (greatest) path below this child. Empty string for an empty leaf. */
  readonly lastKey: string
  readonly id: string
  /** Number of entries below this child. */
  readonly count: number
  /** Where the child is stored when it is packed (decision 0008); absent: under its own key. */
  readonly at?: NodeLocation
}

/** A tree as tree functions take it: a root id (stored under its own key), or a ref that may locate it. */
export type TreeRef = string | ChildRef

export const treeId = (t: TreeRef): string => (typeof t === 'string' ? t : t.id)

/** The location of a packed root, as a commit records it. */
export function packedRootOf(t: TreeRef): { pack: string; offset: number; size: number } | undefined {
  if (typeof t === 'string' || t.at === undefined) return undefined
  const pack = t.at.pack.id
  if (pack === undefined) throw new Error('a root in a pack that is not sealed yet')
  return { pack, offset: t.at.offset, size: t.at.size }
}

/**
 * Where a packed node is: bytes [offset, offset + size) of a pack. Not part of the node's id: the
 * same tree has the same ids wherever its nodes are stored.
 */
export interface NodeLocation {
  readonly pack: PackSlot
  readonly offset: number
  readonly size: number
}

/** Whether `b` is stored right after `a` in the same (sealed) pack: one range read can fetch both. */
export function storedBackToBack(a: ChildRef, b: ChildRef): boolean {
  return a.at !== undefined && b.at !== undefined && a.at.pack.id !== undefined && a.at.pack.id === b.at.pack.id && a.at.offset + a.at.size === b.at.offset
}

/** A pack's id, or, while the pack is still being filled, a slot its id is written to when it is sealed. */
export interface PackSlot {
  id: string | undefined
}

export type TreeNode =
  | { readonly kind: 'leaf'; readonly entries: readonly Entry[] }
  | { readonly kind: 'inner'; readonly level: number; readonly children: readonly ChildRef[] }

const LEAF_TAG = 'varve/leaf:v1'
/** A leaf with packed entries: readers that cannot find packed bytes must refuse it, not misread it. */
const PACKED_LEAF_TAG = 'varve/leaf:v2'
/**
 * Format 2's leaf with packed entries (decision 0008): the pack ids once per leaf in `K`, each entry's
 * index into it in `k`. A leaf of putMany'd entries was ~30% pack ids repeated per entry, and a
 * scattered commit's cost is the bytes of the leaves it rewrites.
 */
const PACK_TABLE_LEAF_TAG = 'varve/leaf:v3'
/**
 * A leaf with imported entries (decision 0017): v3's columns, and each imported entry's locator in
 * `e` (`[source index into S, key, versionId | null, etag | null]`). A reader that cannot read from
 * sources must refuse it (UNSUPPORTED_FORMAT), never treat an imported entry as stored data.
 */
const EXTERNAL_LEAF_TAG = 'varve/leaf:v4'
const INNER_TAG = 'varve/node:v1'
const LOCATIONS_TAG = 'varve/node-locations:v1'
/** Separates a node's content (what its id hashes) from the locations of its packed children. */
const NEWLINE = 0x0a

/**
 * Leaves are columnar (one array per field) because a listing decodes millions of entries and
 * JSON.parse builds a handful of arrays per leaf much faster than one array per entry. The
 * content-type and metadata columns are present only when some entry has one.
 */
interface EncodedLeaf {
  t: typeof LEAF_TAG | typeof PACKED_LEAF_TAG | typeof PACK_TABLE_LEAF_TAG | typeof EXTERNAL_LEAF_TAG
  p: string[]
  a: string[]
  s: number[]
  m: number[]
  c?: (string | null)[]
  x?: (Record<string, string> | null)[]
  /** Pack id (v2) or index into `K` (v3) and offset of packed entries. */
  k?: (string | number | null)[]
  o?: (number | null)[]
  /** The pack ids a v3 leaf's entries use. */
  K?: string[]
  /** v4: the sources its imported entries name, and each entry's locator (or null). */
  S?: string[]
  e?: ([number, string, string | null, string | null] | null)[]
}

/**
 * The node's content bytes (what its id hashes). Built as a string column by column: the same bytes
 * `JSON.stringify` gives for the objects below (golden.test.ts pins them), without building them.
 */
export function encodeTreeNode(node: TreeNode, options: { packTable?: boolean } = {}): Uint8Array {
  return Buffer.from(node.kind === 'leaf' ? encodeLeaf(node.entries, options.packTable === true) : encodeInner(node.level, node.children), 'utf8')
}

/** `packTable`: packed entries name their pack through a per-leaf table (v3, format 2) instead of by id (v2). */
function encodeLeaf(es: readonly Entry[], packTable: boolean): string {
  const n = es.length
  const p: string[] = new Array(n)
  const a: string[] = new Array(n)
  const s: number[] = new Array(n)
  const m: number[] = new Array(n)
  let types = false
  let metadata = false
  let packed = false
  let external = false
  for (let i = 0; i < n; i++) {
    const e = es[i]!
    p[i] = e.path
    a[i] = e.address
    s[i] = e.size
    m[i] = e.lastModified
    if (e.contentType !== undefined) types = true
    if (e.metadata !== undefined) metadata = true
    if (e.pack !== undefined) packed = true
    if (e.external !== undefined) external = true
  }
  if (external) packTable = true
  const tag = external ? EXTERNAL_LEAF_TAG : !packed ? LEAF_TAG : packTable ? PACK_TABLE_LEAF_TAG : PACKED_LEAF_TAG
  let json = `{"t":"${tag}","p":${JSON.stringify(p)},"a":${JSON.stringify(a)},"s":${numbers(s)},"m":${numbers(m)}`
  if (types) json += `,"c":${JSON.stringify(es.map((e) => e.contentType ?? null))}`
  if (metadata) json += `,"x":${JSON.stringify(es.map((e) => e.metadata ?? null))}` // keys already sorted by validateMetadata
  const offsets = () => JSON.stringify(es.map((e) => (e.pack !== undefined ? (e.offset ?? 0) : null)))
  if (packed && packTable) {
    const table: string[] = []
    const index = new Map<string, number>()
    const k = es.map((e) => {
      if (e.pack === undefined) return null
      let i = index.get(e.pack)
      if (i === undefined) index.set(e.pack, (i = table.push(e.pack) - 1))
      return i
    })
    json += `,"K":${JSON.stringify(table)},"k":${JSON.stringify(k)},"o":${offsets()}`
  } else if (packed) json += `,"k":${JSON.stringify(es.map((e) => e.pack ?? null))},"o":${offsets()}`
  if (external) {
    const sources: string[] = []
    const index = new Map<string, number>()
    const e = es.map((x) => {
      const at = x.external
      if (at === undefined) return null
      let i = index.get(at.source)
      if (i === undefined) index.set(at.source, (i = sources.push(at.source) - 1))
      return [i, at.key, at.versionId ?? null, at.etag ?? null]
    })
    json += `,"S":${JSON.stringify(sources)},"e":${JSON.stringify(e)}`
  }
  return json + '}'
}

/** A JSON array of numbers, as JSON.stringify writes it (a non-finite number is null there). */
function numbers(xs: readonly number[]): string {
  for (const x of xs) if (!Number.isFinite(x)) return JSON.stringify(xs)
  return `[${xs.join(',')}]`
}

function encodeInner(level: number, children: readonly ChildRef[]): string {
  let json = `{"t":"${INNER_TAG}","l":${JSON.stringify(level)},"c":[`
  for (let i = 0; i < children.length; i++) {
    const c = children[i]!
    json += `${i ? ',' : ''}[${JSON.stringify(c.lastKey)},${JSON.stringify(c.id)},${JSON.stringify(c.count)}]`
  }
  return json + ']}'
}

/**
 * Where an inner node's packed children are, to store after its content: a newline, then
 * `{"t":"varve/node-locations:v1","k":[pack ids],"c":[[pack, offset, size] | null per child]}`, where
 * `pack` indexes `k`, or is -1 for "the pack holding this node" (its id is not known while the pack is
 * filled). Undefined when no child is packed. `own` is the slot of the pack this node goes into.
 */
export function encodeNodeLocations(node: TreeNode, own: PackSlot | undefined): string | undefined {
  if (node.kind === 'leaf' || !node.children.some((c) => c.at !== undefined)) return undefined
  const packs: string[] = []
  const c = node.children.map((child) => {
    const at = child.at
    if (at === undefined) return null
    if (at.pack === own) return [-1, at.offset, at.size]
    const id = at.pack.id
    if (id === undefined) throw new Error('a node refers to a pack that is not sealed yet')
    let i = packs.indexOf(id)
    if (i < 0) i = packs.push(id) - 1
    return [i, at.offset, at.size]
  })
  return JSON.stringify({ t: LOCATIONS_TAG, k: packs, c })
}

/** A stored node: its content bytes, and its children's locations when it has packed children. */
export function storedNodeBytes(content: Uint8Array, locations: string | undefined): Uint8Array {
  return locations === undefined ? content : Buffer.concat([content, Buffer.from('\n' + locations, 'utf8')])
}

/** Splits a stored node into its content (hashed to its id) and the locations part, if any. */
export function splitStoredNode(bytes: Uint8Array): { content: Uint8Array; locations: Uint8Array | undefined } {
  const cut = bytes.indexOf(NEWLINE)
  return cut < 0 ? { content: bytes, locations: undefined } : { content: bytes.subarray(0, cut), locations: bytes.subarray(cut + 1) }
}

/**
 * Decodes a node; `locations` (from `splitStoredNode`) places its packed children, relative to the
 * pack it was read from (`inPack`; undefined when it was read from its own key).
 */
export function decodeTreeNode(bytes: Uint8Array, id: string, locations?: Uint8Array, inPack?: string): TreeNode {
  const node = decodeContent(bytes, id)
  if (locations === undefined) return node
  if (node.kind === 'leaf') throw corrupt(id, 'a leaf with child locations')
  return { kind: 'inner', level: node.level, children: placeChildren(node.children, locations, id, inPack) }
}

function placeChildren(children: readonly ChildRef[], bytes: Uint8Array, id: string, inPack: string | undefined): ChildRef[] {
  let raw: { t?: unknown; k?: unknown; c?: unknown }
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (cause) {
    throw corrupt(id, 'child locations are not valid JSON', cause)
  }
  const { k, c } = raw
  if (
    raw.t !== LOCATIONS_TAG ||
    !Array.isArray(k) ||
    !Array.isArray(c) ||
    c.length !== children.length ||
    !k.every((p) => typeof p === 'string' && isObjectId(p))
  )
    throw corrupt(id, 'child locations do not match its children')
  const slots = k.map((p: string): PackSlot => ({ id: p }))
  const own: PackSlot | undefined = inPack === undefined ? undefined : { id: inPack }
  return children.map((child, i) => {
    const at = c[i]
    if (at === null) return child
    if (!Array.isArray(at) || at.length !== 3 || !at.every((n) => Number.isSafeInteger(n)) || at[1] < 0 || at[2] < 0)
      throw corrupt(id, `child location ${i} is malformed`)
    const pack = at[0] === -1 ? own : slots[at[0]]
    if (pack === undefined) throw corrupt(id, `child location ${i} names no pack`)
    return { ...child, at: { pack, offset: at[1], size: at[2] } }
  })
}

function decodeContent(bytes: Uint8Array, id: string): TreeNode {
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (cause) {
    throw corrupt(id, 'not valid JSON', cause)
  }
  if (
    (raw.t === LEAF_TAG || raw.t === PACKED_LEAF_TAG || raw.t === PACK_TABLE_LEAF_TAG || raw.t === EXTERNAL_LEAF_TAG) &&
    Array.isArray(raw.p) &&
    Array.isArray(raw.a) &&
    Array.isArray(raw.s) &&
    Array.isArray(raw.m)
  ) {
    const { p, a, s, m, c, x, k, o, K, S, e } = raw as unknown as EncodedLeaf
    const v4 = raw.t === EXTERNAL_LEAF_TAG
    const table = raw.t === PACK_TABLE_LEAF_TAG || v4 ? K : undefined
    if (
      (raw.t === PACK_TABLE_LEAF_TAG || (v4 && K !== undefined)) &&
      (!Array.isArray(table) || !Array.isArray(k) || !table.every((id) => typeof id === 'string' && isObjectId(id)))
    )
      throw corrupt(id, 'a malformed pack table')
    if (v4 && (!Array.isArray(S) || !Array.isArray(e) || e.length !== p.length || !S.every((x) => typeof x === 'string' && x.length > 0)))
      throw corrupt(id, 'a malformed source table')
    const entries: Entry[] = new Array(p.length)
    for (let i = 0; i < p.length; i++) {
      const entry: { -readonly [K in keyof Entry]: Entry[K] } = { path: p[i]!, address: a[i]!, size: s[i]!, lastModified: m[i]! }
      if (c && c[i] != null) entry.contentType = c[i]!
      if (x && x[i] != null) entry.metadata = x[i]!
      const ki = k?.[i]
      if (ki != null) {
        if (table) {
          const pack = typeof ki === 'number' ? table[ki] : undefined
          if (pack === undefined) throw corrupt(id, `entry ${i} names no pack of its table`)
          entry.pack = pack
        } else entry.pack = ki as string
        entry.offset = o?.[i] ?? 0
      }
      const ei = e?.[i]
      if (ei != null) entry.external = decodeLocator(ei, S!, id, i)
      entries[i] = entry
    }
    return { kind: 'leaf', entries }
  }
  if (raw.t === INNER_TAG && Array.isArray(raw.c) && typeof raw.l === 'number') {
    const children = (raw.c as [string, string, number][]).map(([lastKey, cid, count]) => ({ lastKey, id: cid, count }))
    return { kind: 'inner', level: raw.l, children }
  }
  if (typeof raw.t === 'string' && raw.t.startsWith('varve/'))
    throw new VarveError(ErrorCodes.UNSUPPORTED_FORMAT, `tree node ${id} has format ${raw.t}, which this version cannot read`)
  throw corrupt(id, 'not a tree node')
}

function decodeLocator(raw: unknown, sources: readonly string[], id: string, i: number): ExternalLocator {
  if (!Array.isArray(raw) || raw.length !== 4) throw corrupt(id, `entry ${i} has a malformed locator`)
  const [si, key, versionId, etag] = raw as unknown[]
  const source = typeof si === 'number' ? sources[si] : undefined
  if (source === undefined || typeof key !== 'string' || (versionId !== null && typeof versionId !== 'string') || (etag !== null && typeof etag !== 'string'))
    throw corrupt(id, `entry ${i} has a malformed locator`)
  if (versionId === null && etag === null) throw corrupt(id, `entry ${i} has a locator with neither a version nor an ETag`)
  return { source, key, ...(versionId !== null ? { versionId } : {}), ...(etag !== null ? { etag } : {}) }
}

function corrupt(id: string, why: string, cause?: unknown) {
  return new VarveError(ErrorCodes.CORRUPT_OBJECT, `tree node ${id} is corrupt: ${why}`, { details: { object: id }, cause })
}
