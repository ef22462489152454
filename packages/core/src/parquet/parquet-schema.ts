import type { FileMetaData } from 'hyparquet'
import { typeOfElement } from './parquet-types.js'

export interface ParquetColumn {
  readonly name: string
  /** The coarse type name (see parquet-types.ts): int8..uint64, float, double, boolean, string, binary, date, timestamp, time, decimal, list, map, struct, ... */
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

/** Top-level columns of a Parquet file, from its footer (types by their coarse names, parquet-types.ts). */
export function describeSchema(meta: FileMetaData): ParquetSchema {
  const columns: ParquetColumn[] = []
  const els = meta.schema
  const top = els[0]?.num_children ?? 0
  for (let c = 0, i = 1; c < top && i < els.length; c++) {
    const el = els[i]!
    const { type, next } = typeOfElement(els, i)
    columns.push({ name: el.name, type: type.name, nullable: el.repetition_type !== 'REQUIRED', ...(el.type ? { physicalType: el.type } : {}) })
    i = next
  }
  return { columns, numRows: Number(meta.num_rows), rowGroups: meta.row_groups.length }
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
