import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { ExternalLocator } from '../sources/external-source.js'

/** One file of a dataset as a commit or a staging area sees it. */
export interface Entry {
  readonly path: string
  /** SHA-256 of the content, lowercase hex: where the bytes live in the block store. */
  readonly address: string
  readonly size: number
  readonly lastModified: number
  readonly contentType?: string
  /** User metadata, as S3 keeps it: string keys to string values. */
  readonly metadata?: Readonly<Record<string, string>>
  /**
   * Set when the bytes live inside a pack (many small objects in one stored object, written by
   * `putMany`): the pack's id. The bytes are `size` bytes at `offset` in it (docs/decisions/0007).
   */
  readonly pack?: string
  readonly offset?: number
  /**
   * Set for an imported entry (decision 0017): its bytes are an object in a source bucket, pinned to
   * its identity. `address` is then the SHA-256 when it was hashed on import, else an identity
   * address (see `importedAddress`), never a key of the repository's own store.
   */
  readonly external?: ExternalLocator
}

/** Where an object's bytes are: its address, and for a packed object the pack and offset. */
export type DataRef = Pick<Entry, 'address' | 'size' | 'pack' | 'offset' | 'external'> & { readonly path?: string }

const MAX_METADATA_BYTES = 16 * 1024

export function validateMetadata(metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined || metadata === null) return undefined
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'metadata must be an object of string values')
  const out: Record<string, string> = {}
  let bytes = 0
  for (const key of Object.keys(metadata).sort()) {
    const value = (metadata as Record<string, unknown>)[key]
    if (typeof value !== 'string') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `metadata value for ${JSON.stringify(key)} must be a string`)
    bytes += key.length + value.length
    out[key] = value
  }
  if (bytes > MAX_METADATA_BYTES) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `metadata is larger than ${MAX_METADATA_BYTES} bytes`)
  return Object.keys(out).length ? out : undefined
}

/** Two entries describe the same file content, whatever their timestamps. */
export function sameContent(a: Entry, b: Entry): boolean {
  return (
    a.address === b.address &&
    a.size === b.size &&
    (a.contentType ?? null) === (b.contentType ?? null) &&
    sameMetadata(a.metadata, b.metadata) &&
    sameLocator(a.external, b.external)
  )
}

/** Where the bytes are read from is part of an entry: the same bytes at another source identity is a change. */
function sameLocator(a: ExternalLocator | undefined, b: ExternalLocator | undefined): boolean {
  if (a === b) return true
  if (!a || !b) return false
  return a.source === b.source && a.key === b.key && a.versionId === b.versionId && a.etag === b.etag
}

function sameMetadata(a?: Readonly<Record<string, string>>, b?: Readonly<Record<string, string>>): boolean {
  if (a === b) return true
  const ka = a ? Object.keys(a) : []
  const kb = b ? Object.keys(b) : []
  if (ka.length !== kb.length) return false
  return ka.every((k) => b?.[k] === a?.[k])
}
