import type { Entry } from '../model/entry.js'
import type { ObjectStore } from '../objects/object-store.js'

/** A file read by byte ranges: a Parquet reader fetches the footer, then only the column chunks it needs. */
export interface RangeSource {
  readonly size: number
  /** Bytes [start, end) of the file. */
  read(start: number, end: number): Promise<Uint8Array>
  /** True when `read` returns buffers the caller alone holds (they may be transferred, not copied). */
  readonly owned?: boolean
}

/** The data of an entry, read by ranges from the object store. */
export function entrySource(objects: ObjectStore, entry: Entry): RangeSource {
  return { size: entry.size, read: (start, end) => objects.readDataRange(entry, start, end), owned: objects.ownedReads }
}

/** Bytes already in memory, as a range source. */
export function bytesSource(bytes: Uint8Array): RangeSource {
  return { size: bytes.byteLength, read: async (start, end) => bytes.subarray(start, end) }
}

const asArrayBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : (Uint8Array.prototype.slice.call(bytes).buffer as ArrayBuffer) // a copy: Buffer#slice is a view

/**
 * The source as the Blob parquet-wasm's ParquetFile.fromFile reads: it only ever asks for `size` and
 * `slice(start, end).arrayBuffer()`, so the store is read lazily, range by range.
 */
export function blobOf(source: RangeSource): Blob {
  return {
    size: source.size,
    slice: (start = 0, end = source.size) => {
      // Blob semantics: negative positions count from the end (the footer is asked for as slice(-8)).
      const at = (n: number) => Math.min(source.size, Math.max(0, n < 0 ? source.size + n : n))
      const from = at(start)
      const to = Math.max(from, at(end))
      return { size: to - from, arrayBuffer: async () => asArrayBuffer(await source.read(from, to)) }
    },
  } as unknown as Blob
}

/** The source as hyparquet's AsyncBuffer. */
export function asyncBufferOf(source: RangeSource): { byteLength: number; slice(start: number, end?: number): Promise<ArrayBuffer> } {
  return { byteLength: source.size, slice: async (start, end) => asArrayBuffer(await source.read(start, end ?? source.size)) }
}
