// Worker thread of column-scan.ts: decodes the named columns of one Parquet file and answers with
// their null counts and first duplicate. Runs apart so that a gate's timeout can terminate it.
import { parentPort } from 'node:worker_threads'
import type { ColumnScan, ScanRequest } from './column-scan.js'
import { withIntervals } from './parquet-reader.js'
import { valueKey } from './value-key.js'

const showValue = (v: unknown): string =>
  typeof v === 'object' && v !== null && !(v instanceof Date) ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)) : String(v)

parentPort!.once('message', async (req: ScanRequest) => {
  try {
    const [{ readParquet }, { tableFromIPC }] = await Promise.all([import('parquet-wasm'), import('apache-arrow')])
    const file = readParquet(req.bytes)
    const present = new Set(tableFromIPC(readParquet(req.bytes, { limit: 0 }).intoIPCStream()).schema.fields.map((f) => f.name))
    file.free()
    const wanted = req.columns.filter((c) => present.has(c))
    const table = wanted.length ? await withIntervals(tableFromIPC(readParquet(req.bytes, { columns: wanted }).intoIPCStream()), req.bytes) : undefined
    const result: Record<string, ColumnScan> = {}
    for (const name of req.columns) {
      const col = table?.getChild(name)
      if (!col) {
        result[name] = { present: false, nullCount: 0 }
        continue
      }
      let duplicate: string | undefined
      if (req.duplicates) {
        // Exact: values compared by their stored bytes (valueKey), not as JavaScript shows them.
        const seen = new Set<string>()
        let row = 0
        scan: for (const data of col.data) {
          for (let i = 0; i < data.length; i++, row++) {
            const key = valueKey(data, i)
            if (key === undefined) continue
            if (seen.has(key)) {
              duplicate = showValue(col.get(row))
              break scan
            }
            seen.add(key)
          }
        }
      }
      result[name] = { present: true, nullCount: col.nullCount, ...(duplicate !== undefined ? { duplicate } : {}) }
    }
    parentPort!.postMessage({ ok: true, result })
  } catch (err) {
    parentPort!.postMessage({ ok: false, message: (err as Error)?.message ?? String(err) })
  }
})
