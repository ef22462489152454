import { ErrorCodes, VarveError } from '../errors/varve-error.js'

/**
 * Bytes already in the repository's block store under `blobs/…` (a completed native multipart upload),
 * given to `put` as its data: the object store adopts the blob as the content's large object instead
 * of copying it. `sha256` and `size`, when the writer hashed the bytes on their way in, save a second
 * read; otherwise the blob is read once to hash it.
 */
export class StoredBlob implements AsyncIterable<Uint8Array> {
  constructor(
    readonly key: string,
    readonly known?: { readonly sha256: string; readonly size: number },
  ) {
    if (!/^blobs\/[A-Za-z0-9._-]+$/.test(key)) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `not a blob key: ${JSON.stringify(key)}`)
  }

  // Only the object store reads it (it knows the block store the blob is in).
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a stored blob is data for put, not a stream')
  }
}
