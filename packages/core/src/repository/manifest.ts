import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { keys } from '../objects/keys.js'
import type { BlockStore } from '../stores/block-store.js'
import type { RefStore } from '../stores/ref-store.js'

export const FORMAT_VERSION = 1

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
  if (!bytes)
    throw new VarveError(ErrorCodes.NOT_A_REPOSITORY, `${location} is not a Varve repository (no ${keys.manifest})`, { details: { location } })
  let m: Manifest
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8')) as Manifest
  } catch (cause) {
    throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `${location}: ${keys.manifest} is not valid JSON`, { cause, details: { location } })
  }
  if (m.format !== 'varve') throw new VarveError(ErrorCodes.NOT_A_REPOSITORY, `${location}: ${keys.manifest} is not a Varve manifest`)
  if (m.version > FORMAT_VERSION)
    throw new VarveError(ErrorCodes.UNSUPPORTED_FORMAT, `${location} uses repository format ${m.version}; this Varve reads up to ${FORMAT_VERSION}`)
  return m
}

/** Writes the manifest only if none exists; returns false when the location already holds one. */
export async function writeManifest(blocks: BlockStore, m: Manifest): Promise<boolean> {
  return blocks.put(keys.manifest, Buffer.from(JSON.stringify(m, null, 2) + '\n'), { ifAbsent: true })
}
