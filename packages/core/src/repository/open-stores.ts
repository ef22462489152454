import fs from 'node:fs'
import path from 'node:path'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { BlockStore } from '../stores/block-store.js'
import { LocalBlockStore } from '../stores/local-block-store.js'
import type { RefStore } from '../stores/ref-store.js'
import { SqliteRefStore } from '../stores/sqlite-ref-store.js'
import type { RandomSource } from '../util/clock.js'

export interface StoreSet {
  readonly blocks: BlockStore
  readonly refs: RefStore
}

/** Options a scheme opener receives: the repository options, including adapter-specific ones (`s3`). */
export interface SchemeOpenOptions {
  readonly create: boolean
  readonly random: RandomSource
  readonly [adapterOption: string]: unknown
}

export type SchemeOpener = (location: string, options: SchemeOpenOptions) => Promise<StoreSet>

const schemes = new Map<string, SchemeOpener>()

/**
 * Lets an adapter package serve `scheme://` locations (`@varve/s3-adapter` registers `s3`), so core
 * opens any location without importing any adapter.
 */
export function registerStorageScheme(scheme: string, opener: SchemeOpener): void {
  schemes.set(scheme.toLowerCase(), opener)
}

/** The embedded default: a folder holding `blocks/` (LocalBlockStore) and `refs.sqlite3` (SqliteRefStore). */
export function embeddedPaths(dir: string) {
  const root = path.resolve(dir)
  return { root, blocks: path.join(root, 'blocks'), refs: path.join(root, 'refs.sqlite3') }
}

export async function openStores(location: string, options: SchemeOpenOptions & { durable?: boolean }): Promise<StoreSet> {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)
  if (m && m[1]!.toLowerCase() !== 'file') {
    const scheme = m[1]!.toLowerCase()
    // A clone's origin or a remote may be on a scheme nothing loaded yet: the loader import sources use brings it.
    if (!schemes.has(scheme) && typeof options.loadSourceScheme === 'function') await (options.loadSourceScheme as (s: string) => Promise<void>)(scheme)
    const opener = schemes.get(scheme)
    if (!opener)
      throw new VarveError(
        ErrorCodes.INVALID_ARGUMENT,
        `no storage adapter for ${m[1]}:// locations${m[1] === 's3' ? ": import '@varve/s3-adapter' first" : ''}`,
        { details: { location } },
      )
    return opener(location, options)
  }
  const dir = m ? new URL(location).pathname : location
  const p = embeddedPaths(dir)
  if (options.create) fs.mkdirSync(p.blocks, { recursive: true })
  else if (!fs.existsSync(path.join(p.blocks, 'varve.json')))
    throw new VarveError(ErrorCodes.NOT_A_REPOSITORY, `${p.root} is not a Varve repository (no blocks/varve.json)`, {
      details: { location },
    })
  return {
    blocks: new LocalBlockStore(p.blocks, { random: options.random, ...(options.durable === undefined ? {} : { durable: options.durable }) }),
    refs: new SqliteRefStore(p.refs, { mustExist: !options.create }),
  }
}
