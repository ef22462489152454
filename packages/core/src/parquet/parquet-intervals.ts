import type { Table, Vector } from 'apache-arrow'
import type { FileMetaData } from 'hyparquet'
import { skipElement } from './parquet-types.js'

// Parquet INTERVAL columns (months, days, milliseconds; DuckDB and Spark write them) become Arrow
// month-day-nano intervals. parquet-wasm reads them as day-time intervals, dropping the months, so
// they are decoded again from their 12 stored bytes.

/** Top-level INTERVAL columns of a file. */
export function intervalColumns(metadata: FileMetaData): string[] {
  const top = metadata.schema[0]?.num_children ?? 0
  const names: string[] = []
  for (let c = 0, i = 1; c < top && i < metadata.schema.length; c++) {
    const el = metadata.schema[i]!
    if (el.converted_type === 'INTERVAL' && !el.num_children) names.push(el.name)
    i = skipElement(metadata.schema, i)
  }
  return names
}

/** The same footer with INTERVAL taken off: hyparquet then hands over the raw 12 bytes. */
export function rawIntervalMetadata(metadata: FileMetaData): FileMetaData {
  return { ...metadata, schema: metadata.schema.map((el) => (el.converted_type === 'INTERVAL' ? { ...el, converted_type: undefined } : el)) } as FileMetaData
}

/** Stored INTERVAL values (null for a null) as an Arrow month-day-nano vector. */
export async function intervalVector(values: readonly (Uint8Array | null | undefined)[]): Promise<Vector> {
  const { makeData, makeVector, IntervalMonthDayNano } = await import('apache-arrow')
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
  return makeVector(makeData({ type: new IntervalMonthDayNano(), length: values.length, nullCount: nulls, nullBitmap: valid, data: words }))
}

/** The table with one column replaced, batch by batch (Table.setChild keeps the old field's type). */
export async function replaceColumn(table: Table, name: string, column: Vector): Promise<Table> {
  const { makeData, RecordBatch, Schema, Struct, Table: ArrowTable } = await import('apache-arrow')
  let start = 0
  const batches = table.batches.map((b) => {
    const fields = b.schema.fields.map((f) => (f.name === name ? f.clone({ type: column.type }) : f))
    const children = b.schema.fields.map((f) => (f.name === name ? column.slice(start, start + b.numRows).data[0]! : b.getChild(f.name)!.data[0]!))
    start += b.numRows
    return new RecordBatch(new Schema(fields, b.schema.metadata), makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children }))
  })
  return new ArrowTable(batches)
}
