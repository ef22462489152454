import type { FileMetaData, SchemaElement } from 'hyparquet'

export interface ParquetColumn {
  readonly name: string
  /** A friendly type: int8..int64, uint8..uint64, float, double, boolean, string, binary, date, timestamp, time, decimal, list, map, struct, ... */
  readonly type: string
  /** Declared OPTIONAL (may hold nulls). */
  readonly nullable: boolean
  readonly physicalType?: string
}

export interface ParquetSchema {
  readonly columns: readonly ParquetColumn[]
  readonly numRows: number
  readonly rowGroups: number
}

/** Top-level columns of a Parquet file, from its footer. */
export function describeSchema(meta: FileMetaData): ParquetSchema {
  const columns: ParquetColumn[] = []
  const els = meta.schema
  let i = 1
  const top = els[0]?.num_children ?? 0
  for (let c = 0; c < top && i < els.length; c++) {
    const el = els[i]!
    columns.push({ name: el.name, type: friendlyType(el), nullable: el.repetition_type !== 'REQUIRED', ...(el.type ? { physicalType: el.type } : {}) })
    i = skip(els, i)
  }
  return { columns, numRows: Number(meta.num_rows), rowGroups: meta.row_groups.length }
}

/** Index after the subtree rooted at i. */
function skip(els: readonly SchemaElement[], i: number): number {
  let pending = 1
  while (pending > 0 && i < els.length) {
    pending += (els[i]!.num_children ?? 0) - 1
    i++
  }
  return i
}

/** Legacy converted types (files from older writers), by the name a contract uses. */
const CONVERTED: Partial<Record<string, string>> = {
  UTF8: 'string', ENUM: 'string', JSON: 'string',
  INT_8: 'int8', INT_16: 'int16', INT_32: 'int32', INT_64: 'int64',
  UINT_8: 'uint8', UINT_16: 'uint16', UINT_32: 'uint32', UINT_64: 'uint64',
  DATE: 'date', TIMESTAMP_MILLIS: 'timestamp', TIMESTAMP_MICROS: 'timestamp', DECIMAL: 'decimal', LIST: 'list', MAP: 'map',
}

/** Physical types with no logical annotation. */
const PHYSICAL: Partial<Record<string, string>> = {
  BOOLEAN: 'boolean', INT32: 'int32', INT64: 'int64', INT96: 'timestamp', FLOAT: 'float', DOUBLE: 'double',
}

function friendlyType(el: SchemaElement): string {
  const lt = el.logical_type
  if (lt) {
    switch (lt.type) {
      case 'STRING':
      case 'ENUM':
      case 'JSON':
        return 'string'
      case 'INTEGER':
        return `${lt.isSigned ? 'int' : 'uint'}${lt.bitWidth}`
      case 'DATE':
        return 'date'
      case 'TIMESTAMP':
        return 'timestamp'
      case 'TIME':
        return 'time'
      case 'DECIMAL':
        return 'decimal'
      case 'LIST':
        return 'list'
      case 'MAP':
        return 'map'
      case 'UUID':
        return 'uuid'
      case 'FLOAT16':
        return 'float16'
    }
  }
  const converted = el.converted_type && CONVERTED[el.converted_type]
  if (converted) return converted
  if (!el.type) return 'struct'
  return PHYSICAL[el.type] ?? 'binary'
}

/** Total nulls of a top-level column across row groups, or undefined when a row group lacks statistics. */
export function nullCount(meta: FileMetaData, column: string): number | undefined {
  let total = 0
  for (const rg of meta.row_groups) {
    const chunk = rg.columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === column)
    const n = chunk?.meta_data?.statistics?.null_count
    if (n === undefined) return undefined
    total += Number(n)
  }
  return total
}
