import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { keys } from '../objects/keys.js'
import { FORMAT_1_TREES, type TreeFormat } from '../objects/object-store.js'
import { COMPACT_LEAF_BITS } from '../tree/boundary.js'
import type { BlockStore } from '../stores/block-store.js'
import type { RefStore } from '../stores/ref-store.js'

/**
 * 1: trees of loose nodes, leaves of 256 entries on average. 2: tree nodes in packs, leaves of 64
 * (docs/decisions/0008-node-packs.md). New repositories are made at 2; both are read and written.
 */
export const FORMAT_VERSION = 2

export interface Manifest {
  readonly format: 'varve'
  readonly version: number
  readonly defaultBranch: string
  readonly createdAt: number
  /**
   * Random id, also stored in the ref store at init: a ref store that is not this repository's (lost,
   * replaced, empty) is refused at open instead of making every object look unreachable.
   */
  readonly id?: string
  /** How trees are built (format 2 and later). */
  readonly tree?: { readonly leafBits: number; readonly nodePacks: boolean }
}

/** The tree format new repositories get. */
export const NEW_TREE_FORMAT: TreeFormat = { leafBits: COMPACT_LEAF_BITS, packNodes: true }

/** How a repository's trees are built, from its manifest. */
export function treeFormatOf(m: Manifest, location: string): TreeFormat {
  if (m.version < 2) return FORMAT_1_TREES
  const t = m.tree
  if (!t || !Number.isInteger(t.leafBits) || t.leafBits < 2 || t.leafBits > 16 || typeof t.nodePacks !== 'boolean')
    throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `${location}: ${keys.manifest} has no valid tree format`, { details: { location } })
  return { leafBits: t.leafBits, packNodes: t.nodePacks }
}

/** The manifest fields that record a tree format. */
export function manifestTreeFields(f: TreeFormat): Pick<Manifest, 'tree'> {
  return { tree: { leafBits: f.leafBits, nodePacks: f.packNodes } }
}

/** The ref-store setting holding the repository id (see Manifest.id). */
export const REPOSITORY_ID_SETTING = 'repository/id'

/**
 * Refuses a ref store that does not belong to the repository: its id differs, or it is empty while the
 * manifest names one. Repositories made before ids existed must at least have a branch.
 */
export async function checkRefStoreBinding(refs: RefStore, m: Manifest, location: string): Promise<void> {
  const id = await refs.getSetting(REPOSITORY_ID_SETTING)
  if (m.id !== undefined && id === m.id) return
  if (m.id === undefined && id === undefined) {
    for await (const _ of refs.listBranches()) return
  }
  const why = id === undefined ? 'it is empty or missing' : `it belongs to repository ${id}`
  throw new VarveError(
    ErrorCodes.NOT_A_REPOSITORY,
    `${location}: the ref store does not belong to this repository${m.id ? ` (${m.id})` : ''}: ${why}. Restore the repository's ref store; running without it would lose every branch`,
    { details: { location, repositoryId: m.id ?? null, refStoreId: id ?? null } },
  )
}

export async function readManifest(blocks: BlockStore, location: string): Promise<Manifest> {
  const bytes = await blocks.get(keys.manifest)
  if (!bytes) throw new VarveError(ErrorCodes.NOT_A_REPOSITORY, `${location} is not a Varve repository (no ${keys.manifest})`, { details: { location } })
  let m: Manifest
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8')) as Manifest
  } catch (cause) {
    throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `${location}: ${keys.manifest} is not valid JSON`, { cause, details: { location } })
  }
  if (m.format !== 'varve') throw new VarveError(ErrorCodes.NOT_A_REPOSITORY, `${location}: ${keys.manifest} is not a Varve manifest`)
  if (!Number.isInteger(m.version) || m.version > FORMAT_VERSION)
    throw new VarveError(ErrorCodes.UNSUPPORTED_FORMAT, `${location} uses repository format ${m.version}; this Varve reads up to ${FORMAT_VERSION}`)
  return m
}

/** Writes the manifest only if none exists; returns false when the location already holds one. */
export async function writeManifest(blocks: BlockStore, m: Manifest): Promise<boolean> {
  return blocks.put(keys.manifest, Buffer.from(JSON.stringify(m, null, 2) + '\n'), { ifAbsent: true })
}
