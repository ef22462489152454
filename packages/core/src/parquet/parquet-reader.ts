import type { Table, Vector } from 'apache-arrow'
import type { FileMetaData } from 'hyparquet'
import { VarveError } from '../errors/varve-error.js'
import { skipElement } from './parquet-types.js'
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

/**
 * Parquet INTERVAL columns (months, days, milliseconds; DuckDB and Spark write them) as Arrow
 * month-day-nano intervals. parquet-wasm reads them as day-time intervals, dropping the months; here
 * they are decoded again from their 12 stored bytes.
 */
export async function withIntervals(table: Table, bytes: Uint8Array): Promise<Table> {
  const { parquetMetadata, parquetRead } = await import('hyparquet')
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const metadata = parquetMetadata(buffer)
  const top = metadata.schema[0]?.num_children ?? 0
  const intervals: string[] = []
  for (let c = 0, i = 1; c < top && i < metadata.schema.length; c++) {
    const el = metadata.schema[i]!
    if (el.converted_type === 'INTERVAL' && !el.num_children && table.schema.fields.some((f) => f.name === el.name)) intervals.push(el.name)
    i = skipElement(metadata.schema, i)
  }
  if (!intervals.length) return table
  const arrow = await import('apache-arrow')
  const { makeData, makeVector, IntervalMonthDayNano } = arrow
  // The same footer with INTERVAL taken off those columns: hyparquet then hands over the raw bytes.
  const raw = { ...metadata, schema: metadata.schema.map((el) => (el.converted_type === 'INTERVAL' ? { ...el, converted_type: undefined } : el)) }
  for (const name of intervals) {
    let values: (Uint8Array | null | undefined)[] = []
    await parquetRead({ file: buffer, metadata: raw as typeof metadata, columns: [name], utf8: false, onComplete: (rows) => (values = rows.map((r) => r[0] as Uint8Array | null)) })
    const words = new Int32Array(values.length * 4)
    const valid = new Uint8Array(Math.ceil(values.length / 8))
    let nulls = 0
    values.forEach((v, row) => {
      if (!v) return void nulls++
      valid[row >> 3]! |= 1 << (row & 7)
      const view = new DataView(v.buffer, v.byteOffset, 12)
      const nanos = BigInt(view.getUint32(8, true)) * 1_000_000n
      words[row * 4] = view.getUint32(0, true) | 0 // months
      words[row * 4 + 1] = view.getUint32(4, true) | 0 // days
      words[row * 4 + 2] = Number(nanos & 0xffffffffn) | 0
      words[row * 4 + 3] = Number(nanos >> 32n) | 0
    })
    const column = makeVector(makeData({ type: new IntervalMonthDayNano(), length: values.length, nullCount: nulls, nullBitmap: valid, data: words }))
    table = replaceColumn(table, name, column, arrow)
  }
  return table
}

/** The table with one column replaced, batch by batch (Table.setChild keeps the old field's type). */
function replaceColumn(table: Table, name: string, column: Vector, arrow: typeof import('apache-arrow')): Table {
  const { makeData, RecordBatch, Schema, Struct, Table: ArrowTable } = arrow
  let start = 0
  const batches = table.batches.map((b) => {
    const fields = b.schema.fields.map((f) => (f.name === name ? f.clone({ type: column.type }) : f))
    const children = b.schema.fields.map((f) => (f.name === name ? column.slice(start, start + b.numRows).data[0]! : b.getChild(f.name)!.data[0]!))
    start += b.numRows
    return new RecordBatch(new Schema(fields, b.schema.metadata), makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children }))
  })
  return new ArrowTable(batches)
}


const notParquet = (path: string, cause: unknown) =>
  new VarveError('INVALID_PARQUET', `${path} is not a valid Parquet file: ${(cause as Error)?.message ?? cause}`, { cause, details: { path } })

