import type { AsyncDuckDB } from '@duckdb/duckdb-wasm'

// DuckDB-WASM, started once when the first table preview needs it: its module is a chunk of its
// own and its worker and WebAssembly are files of this app (decision 0018), so nothing is fetched
// from elsewhere and nothing is loaded for pages that show no table.

let started: Promise<{ db: AsyncDuckDB; duckdb: typeof import('@duckdb/duckdb-wasm') }> | undefined

export function duckDb() {
  started ??= (async () => {
    const duckdb = await import('@duckdb/duckdb-wasm')
    const worker = new Worker('/ui/duckdb/duckdb-browser-eh.worker.js')
    const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker)
    await db.instantiate('/ui/duckdb/duckdb-eh.wasm')
    // No extension is ever fetched: what a preview needs (Parquet, CSV) is built in.
    const c = await db.connect()
    await c.query('SET autoinstall_known_extensions = false').catch(() => {})
    await c.query('SET autoload_known_extensions = false').catch(() => {})
    await c.close()
    return { db, duckdb }
  })()
  started.catch(() => (started = undefined))
  return started
}

/** Rows of a query as plain objects (at most `limit`), with the column names. */
export interface QueryResult {
  readonly columns: string[]
  readonly rows: unknown[][]
  readonly total: number
}

export async function runQuery(sql: string, limit: number): Promise<QueryResult> {
  const { db } = await duckDb()
  const c = await db.connect()
  try {
    const table = await c.query(sql)
    const columns = table.schema.fields.map((f) => f.name)
    const rows: unknown[][] = []
    for (let i = 0; i < Math.min(table.numRows, limit); i++) {
      const row = table.get(i)
      rows.push(columns.map((name) => row?.[name]))
    }
    return { columns, rows, total: table.numRows }
  } finally {
    await c.close()
  }
}

/**
 * Registers an object for DuckDB under a name of its own: DuckDB reads it over HTTP by range from
 * the API (a HEAD for its size, then the ranges a query needs; the session cookie goes along).
 */
export async function registerObject(name: string, url: string): Promise<void> {
  const { db, duckdb } = await duckDb()
  await db.registerFileURL(name, new URL(url, location.href).href, duckdb.DuckDBDataProtocol.HTTP, false)
}
