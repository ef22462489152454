import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { sha256Hex } from '../model/hash.js'

/**
 * Where an imported entry's bytes are: an object in someone else's bucket, pinned to the identity it
 * had when it was imported (docs/decisions/0017). Reads send the identity as a precondition, so a
 * changed source object is refused (IMPORTED_OBJECT_CHANGED), never served in its place.
 */
export interface ExternalLocator {
  /** The source as entries name it: a URL without a prefix (`s3://bucket`), or a named source (`raw`). */
  readonly source: string
  /** The object's full key in the source. */
  readonly key: string
  /** The object version, where the bucket is versioned: reads ask for it, so it always gives the imported bytes. */
  readonly versionId?: string
  /** The object's ETag as listed (quotes removed): reads send `If-Match` with it. */
  readonly etag?: string
}

/** One object as a source lists it. */
export interface SourceObject {
  readonly key: string
  readonly size: number
  readonly etag: string
  /** Milliseconds since the epoch. */
  readonly lastModified: number
  readonly versionId?: string
}

export interface SourceListOptions {
  /** List keys after this one only (a resumed import). */
  readonly startAfter?: string
  readonly signal?: AbortSignal
}

/**
 * A bucket Varve imports from and reads imported entries back from (an adapter implements it: the
 * S3 adapter for `s3://`). Every read is conditional on the locator's identity.
 */
export interface ExternalSource {
  /** How entries name this source (`s3://bucket`, or a named source's name). */
  readonly name: string
  /** Where it is: `s3://bucket/prefix/` (the prefix keys of a named source are relative to; '' at the bucket's root). */
  readonly url: string
  /** The current objects under `prefix`, in key order (UTF-8 byte order, as S3 lists), a page at a time. */
  list(prefix: string, options?: SourceListOptions): AsyncIterable<readonly SourceObject[]>
  /** The object as it is now, with its version when the bucket is versioned; undefined when there is none. */
  head(key: string): Promise<SourceObject | undefined>
  /** Whether the object still has the locator's identity: 'ok', 'changed' or 'missing'. */
  check(at: ExternalLocator): Promise<'ok' | 'changed' | 'missing'>
  /** Bytes [start, end) of the pinned object (the whole object without a range). */
  read(at: ExternalLocator, range?: { readonly start: number; readonly end: number }): Promise<Uint8Array>
  /** The pinned object's bytes as a stream. */
  stream(at: ExternalLocator, range?: { readonly start: number; readonly end: number }): Promise<AsyncIterable<Uint8Array>>
}

/** The source an entry's locator names, opened once and kept by the repository. */
export type SourceResolver = (source: string) => Promise<ExternalSource>

/** IMPORTED_OBJECT_CHANGED for a path whose source object moved since it was imported. */
export function importedObjectChanged(at: ExternalLocator, path: string | undefined): VarveError {
  const where = `${at.source}/${at.key}`
  return new VarveError(
    ErrorCodes.IMPORTED_OBJECT_CHANGED,
    `${path ?? at.key}: its source object ${where} changed since it was imported (${at.versionId ? `version ${at.versionId}` : `ETag ${at.etag}`}); import it again`,
    {
      details: {
        ...(path !== undefined ? { path } : {}),
        source: at.source,
        key: at.key,
        ...(at.versionId ? { versionId: at.versionId } : {}),
        ...(at.etag ? { etag: at.etag } : {}),
      },
    },
  )
}

/** NOT_FOUND for a path whose source object was deleted since it was imported. */
export function importedObjectMissing(at: ExternalLocator, path: string | undefined): VarveError {
  return new VarveError(ErrorCodes.NOT_FOUND, `${path ?? at.key}: its source object ${at.source}/${at.key} no longer exists`, {
    details: { ...(path !== undefined ? { path } : {}), source: at.source, key: at.key },
  })
}

/**
 * The address of an imported entry that was not hashed: a digest of its source identity, so the same
 * object imported twice has the same address (diff, merge and re-import compare addresses) and a
 * changed one a new address. Never a key of the repository's store.
 */
export function importedAddress(at: ExternalLocator, size: number): string {
  return sha256Hex(Buffer.from(`varve/imported:v1\n${at.source}\n${at.key}\n${at.versionId ?? ''}\n${at.etag ?? ''}\n${size}`, 'utf8'))
}

/** Whether the entry's address is its content's SHA-256 (imported with `hash`), so reads can verify it. */
export const isContentAddressed = (at: ExternalLocator, address: string, size: number): boolean => importedAddress(at, size) !== address
