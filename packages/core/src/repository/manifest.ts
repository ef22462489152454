import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { keys } from '../objects/keys.js'
import type { BlockStore } from '../stores/block-store.js'

export const FORMAT_VERSION = 1

export interface Manifest {
  readonly format: 'varve'
  readonly version: number
  readonly defaultBranch: string
  readonly createdAt: number
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
