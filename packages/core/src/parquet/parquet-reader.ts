import type { Table } from 'apache-arrow'
import type { FileMetaData } from 'hyparquet'
import { VarveError } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import type { ObjectStore } from '../objects/object-store.js'

/** Bytes fetched from the end of a file for its footer; more is fetched only for a larger footer. */
const FOOTER_FETCH = 32 * 1024

export interface FooterRead {
  readonly metadata: FileMetaData
  /** Bytes actually read from the store (footer only, never the data pages). */
  readonly bytesRead: number
}

/** Reads a Parquet footer through byte-range reads of the data object. */
export async function readParquetFooter(objects: ObjectStore, entry: Entry): Promise<FooterRead> {
  let bytesRead = 0
  const buffer = {
    byteLength: entry.size,
    slice: async (start: number, end?: number) => {
      const bytes = await objects.readDataRange(entry, start, end ?? entry.size)
      bytesRead += bytes.byteLength
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    },
  }
  try {
    const { parquetMetadataAsync } = await import('hyparquet') // on first use: keeps start-up light
    const metadata = await parquetMetadataAsync(buffer, { initialFetchSize: FOOTER_FETCH })
    return { metadata, bytesRead }
  } catch (cause) {
    if (cause instanceof VarveError) throw cause
    throw notParquet(entry.path, cause)
  }
}

/** Reads a whole Parquet file into an Arrow table (parquet-wasm, which reads every writer's output). */
export async function readArrowTable(bytes: Uint8Array, path: string): Promise<Table> {
  const [{ readParquet }, { tableFromIPC }] = await Promise.all([import('parquet-wasm'), import('apache-arrow')])
  try {
    return tableFromIPC(readParquet(bytes).intoIPCStream())
  } catch (cause) {
    throw notParquet(path, cause)
  }
}

const notParquet = (path: string, cause: unknown) =>
  new VarveError('INVALID_PARQUET', `${path} is not a valid Parquet file: ${(cause as Error)?.message ?? cause}`, { cause, details: { path } })

