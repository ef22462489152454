import { useEffect, useState } from 'preact/hooks'
import { apiUrl, enc, type ObjectEntry } from '../api.js'
import { registerObject, runQuery, type QueryResult } from '../duckdb.js'
import { useLoad } from '../load.js'

/** Rows a result shows. */
const SHOWN = 500

const quoteSql = (s: string) => `'${s.replace(/'/g, "''")}'`
/** `data/scores.parquet` → `scores`: a table name that needs no quoting beyond the double quotes. */
const tableName = (path: string) =>
  path
    .slice(path.lastIndexOf('/') + 1)
    .replace(/\.parquet$/i, '')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .slice(0, 60) || 'data'

/**
 * A Parquet or CSV object through DuckDB-WASM: schema and row count (from the Parquet footer), and an
 * SQL box that starts with the first rows. DuckDB reads the object by range, so a large file is
 * never downloaded whole for a preview.
 */
export function TablePreview({ repo, refName, entry }: { repo: string; refName: string; entry: ObjectEntry }) {
  const parquet = /\.parquet$/i.test(entry.path)
  // A CSV is read by DuckDB itself, by range, under a name per version (a re-registered name could
  // serve an older version's cached pages); a Parquet file becomes a table named after the file.
  const name = `${entry.address.slice(0, 16)}.csv`
  const table = tableName(entry.path)
  const source = parquet ? `"${table}"` : `read_csv_auto(${quoteSql(name)})`
  const first = `SELECT * FROM ${source} LIMIT 100`
  const [sql, setSql] = useState(first)
  const [ran, setRan] = useState(first)
  useEffect(() => {
    setSql(first)
    setRan(first)
  }, [first])
  const [ready] = useLoad(async () => {
    const url = apiUrl(`/repositories/${enc(repo)}/objects/content`, { ref: refName, path: entry.path })
    if (!parquet) {
      await registerObject(name, url)
      return undefined
    }
    const { loadParquet } = await import('../parquet-sample.js')
    return loadParquet(table, url, entry.size)
  }, [repo, refName, entry.path, entry.address])
  const [result] = useLoad(async (): Promise<QueryResult | undefined> => {
    if (ready.state !== 'done') return undefined
    return runQuery(ran, SHOWN)
  }, [ran, ready.state])
  return (
    <figure class="preview table-preview">
      <figcaption>Table preview (DuckDB, in this browser; reads the file by range)</figcaption>
      {ready.state === 'failed' && (
        <p class="notice error" role="alert">
          {ready.error.message}
        </p>
      )}
      {ready.state === 'done' && ready.value && (
        <>
          <p class="summary">
            {ready.value.rows.toLocaleString('en')} rows · {ready.value.columns.map((c) => `${c.name} ${c.type}`).join(', ')}
          </p>
          {ready.value.loaded < ready.value.rows && (
            <p class="notice">
              The SQL box queries the first {ready.value.loaded.toLocaleString('en')} rows ({ready.value.rowGroups} row groups in the file): a preview never
              downloads a large file whole.
            </p>
          )}
        </>
      )}
      <form
        class="sql"
        onSubmit={(e) => {
          e.preventDefault()
          setRan(sql)
        }}
      >
        <label>
          SQL (the file is {source})
          <textarea
            name="sql"
            rows={3}
            spellcheck={false}
            value={sql}
            onInput={(e) => setSql((e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault()
                setRan(sql)
              }
            }}
          />
        </label>
        <button type="submit">Run query</button>
      </form>
      {ready.state === 'loading' && <p class="notice">Starting DuckDB…</p>}
      {result.state === 'failed' && (
        <p class="notice error" role="alert">
          {result.error.message}
        </p>
      )}
      {result.state === 'done' && result.value && <ResultTable result={result.value} />}
    </figure>
  )
}

function ResultTable({ result }: { result: QueryResult }) {
  const cell = (v: unknown) =>
    v === null || v === undefined
      ? '∅'
      : typeof v === 'bigint'
        ? v.toString()
        : typeof v === 'object'
          ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))
          : String(v)
  return (
    <div class="result">
      <p class="meta">
        {result.total.toLocaleString('en')} {result.total === 1 ? 'row' : 'rows'}
        {result.total > result.rows.length ? ` (the first ${result.rows.length} shown)` : ''}
      </p>
      <div class="scroll">
        <table class="listing result-table">
          <thead>
            <tr>
              {result.columns.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {result.rows.map((r, i) => (
              <tr key={i}>
                {r.map((v, j) => (
                  <td key={j} class="mono">
                    {cell(v)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}
