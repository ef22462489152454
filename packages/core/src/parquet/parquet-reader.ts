import type { Table } from 'apache-arrow'
import type { FileMetaData } from 'hyparquet'
import { VarveError } from '../errors/varve-error.js'
import { intervalColumns, intervalVector, rawIntervalMetadata, replaceColumn } from './parquet-intervals.js'
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
  let table: Table
  try {
    table = tableFromIPC(readParquet(bytes).intoIPCStream())
  } catch (cause) {
    throw notParquet(path, cause)
  }
  return withIntervals(table, bytes)
}

/** A whole table with its INTERVAL columns decoded with their months (see parquet-intervals.ts). */
export async function withIntervals(table: Table, bytes: Uint8Array): Promise<Table> {
  const { parquetMetadata, parquetRead } = await import('hyparquet')
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const metadata = parquetMetadata(buffer)
  const names = intervalColumns(metadata).filter((n) => table.schema.fields.some((f) => f.name === n))
  for (const name of names) {
    let values: (Uint8Array | null | undefined)[] = []
    await parquetRead({
      file: buffer,
      metadata: rawIntervalMetadata(metadata),
      columns: [name],
      utf8: false,
      onComplete: (rows) => (values = rows.map((r) => r[0] as Uint8Array | null)),
    })
    table = await replaceColumn(table, name, await intervalVector(values))
  }
  return table
}

const notParquet = (path: string, cause: unknown) =>
  new VarveError('INVALID_PARQUET', `${path} is not a valid Parquet file: ${(cause as Error)?.message ?? cause}`, { cause, details: { path } })
