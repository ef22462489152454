import { asyncBufferFromUrl, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { rowsToIpc } from './arrow-rows.js'
import { duckDb } from './duckdb.js'

// A Parquet file for the table preview. DuckDB-WASM from npm reads Parquet only through an extension
// it downloads from the internet (lakeFS #9587), which an offline install cannot do; so the footer
// and the rows are read here by hyparquet, by range, and the rows go into DuckDB as an Arrow table
// the SQL box queries (decision 0018).

/** Compressed row-group bytes loaded into DuckDB at most: a larger file is previewed by its first row groups. */
const SAMPLE_BYTES = 32 * 1024 * 1024
/** A first row group larger than this is not loaded at all (its column chunks would be read whole). */
const MAX_FIRST_GROUP = 256 * 1024 * 1024

export interface ParquetSample {
  readonly columns: readonly { readonly name: string; readonly type: string }[]
  /** Rows in the file (from the footer). */
  readonly rows: number
  readonly rowGroups: number
  /** Rows loaded into the table (all of them unless the file is larger than the sample). */
  readonly loaded: number
}

interface SchemaElement {
  name: string
  type?: string
  converted_type?: string
  logical_type?: { type: string }
  num_children?: number
}

export async function loadParquet(table: string, url: string, byteLength: number): Promise<ParquetSample> {
  const file = await asyncBufferFromUrl({ url: new URL(url, location.href).href, byteLength, requestInit: { credentials: 'same-origin' } })
  const metadata = await parquetMetadataAsync(file)
  const schema = metadata.schema as unknown as SchemaElement[]
  const columns = schema
    .slice(1)
    .filter((e) => !e.num_children)
    .map((e) => ({ name: e.name, type: (e.logical_type?.type ?? e.converted_type ?? e.type ?? '?').toLowerCase() }))
  let rowEnd = 0
  let bytes = 0
  for (const group of metadata.row_groups) {
    const size = Number(group.total_byte_size)
    if (rowEnd > 0 && bytes + size > SAMPLE_BYTES) break
    if (rowEnd === 0 && size > MAX_FIRST_GROUP) break
    bytes += size
    rowEnd += Number(group.num_rows)
  }
  const sample = { columns, rows: Number(metadata.num_rows), rowGroups: metadata.row_groups.length, loaded: rowEnd }
  if (rowEnd === 0) return sample
  const rows = (await parquetReadObjects({ file, metadata, rowStart: 0, rowEnd, compressors })) as Record<string, unknown>[]
  const { db } = await duckDb()
  const c = await db.connect()
  try {
    await c.query(`DROP TABLE IF EXISTS "${table}"`)
    await c.insertArrowFromIPCStream(rowsToIpc(Object.keys(rows[0] ?? {}), rows), { name: table })
  } finally {
    await c.close()
  }
  return sample
}
