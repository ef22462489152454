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
  switch (el.converted_type) {
    case 'UTF8':
    case 'ENUM':
    case 'JSON':
      return 'string'
    case 'INT_8':
      return 'int8'
    case 'INT_16':
      return 'int16'
    case 'INT_32':
      return 'int32'
    case 'INT_64':
      return 'int64'
    case 'UINT_8':
      return 'uint8'
    case 'UINT_16':
      return 'uint16'
    case 'UINT_32':
      return 'uint32'
    case 'UINT_64':
      return 'uint64'
    case 'DATE':
      return 'date'
    case 'TIMESTAMP_MILLIS':
    case 'TIMESTAMP_MICROS':
      return 'timestamp'
    case 'DECIMAL':
      return 'decimal'
    case 'LIST':
      return 'list'
    case 'MAP':
      return 'map'
  }
  if (!el.type) return 'struct'
  switch (el.type) {
    case 'BOOLEAN':
      return 'boolean'
    case 'INT32':
      return 'int32'
    case 'INT64':
      return 'int64'
    case 'INT96':
      return 'timestamp'
    case 'FLOAT':
      return 'float'
    case 'DOUBLE':
      return 'double'
    default:
      return 'binary'
  }
}

const ALIASES: Record<string, string> = {
  utf8: 'string', str: 'string', text: 'string', float64: 'double', float32: 'float', bool: 'boolean',
  int: 'int32', long: 'int64', bytes: 'binary',
}

/** Normalises a type name written in a contract. */
export const normaliseType = (t: string) => ALIASES[t.toLowerCase()] ?? t.toLowerCase()

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
