// Real Parquet files for tests: written by parquet-wasm from Arrow tables, as pipelines write them.
import { Field, Float64, Int64, RecordBatch, Schema, Struct, Table, Utf8, makeData, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow'
import { Table as WasmTable, writeParquet } from 'parquet-wasm'

export type ColumnSpec = { name: string; type: 'int64' | 'double' | 'string'; values: unknown[]; nullable?: boolean }

const arrowType = (t: ColumnSpec['type']): DataType => (t === 'int64' ? new Int64() : t === 'double' ? new Float64() : new Utf8())

/** A real Parquet file (written by parquet-wasm from an Arrow table), with explicit nullability. */
export function parquetFile(columns: ColumnSpec[]): Uint8Array {
  const fields = columns.map((c) => new Field(c.name, arrowType(c.type), c.nullable ?? true))
  const schema = new Schema(fields)
  const length = columns[0]?.values.length ?? 0
  const children = columns.map((c) => {
    const values = c.type === 'int64' ? c.values.map((v) => (v === null ? null : BigInt(v as number))) : c.values
    return vectorFromArray(values, arrowType(c.type)).data[0]!
  })
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }))
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(new Table(schema, batch), 'stream')))
}

/** The canonical training partition: id int64 non-null, score double. */
export function trainPartition(rows: number, opts: { scoreAsString?: boolean; nullScores?: number; dupIds?: boolean } = {}): Uint8Array {
  const ids = Array.from({ length: rows }, (_, i) => (opts.dupIds && i === rows - 1 ? 0 : i))
  const scores = Array.from({ length: rows }, (_, i) => (i < (opts.nullScores ?? 0) ? null : i / rows))
  return parquetFile([
    { name: 'id', type: 'int64', values: ids, nullable: false },
    opts.scoreAsString
      ? { name: 'score', type: 'string', values: scores.map((s) => (s === null ? null : String(s))) }
      : { name: 'score', type: 'double', values: scores },
  ])
}
