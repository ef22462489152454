// Writes a small Parquet dataset (id int64, score double) for the quickstart, as a pipeline would.
//   node examples/make-parquet.mjs <dir> <first-day> <days> [--score-as-string]
import fs from 'node:fs/promises'
import path from 'node:path'
import { tableFromArrays, tableToIPC } from 'apache-arrow'
import { Table as WasmTable, writeParquet } from 'parquet-wasm'

const [dir, first = '1', days = '3', flag] = process.argv.slice(2)
for (let d = Number(first); d < Number(first) + Number(days); d++) {
  const ids = BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(d * 1000 + i))
  const scores = Float64Array.from({ length: 1000 }, (_, i) => ((i * 37 + d) % 100) / 100)
  const table = tableFromArrays({ id: ids, score: flag === '--score-as-string' ? Array.from(scores, String) : scores })
  const out = path.join(dir, `day=${d}`)
  await fs.mkdir(out, { recursive: true })
  await fs.writeFile(path.join(out, 'part-0.parquet'), writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream'))))
  await fs.writeFile(path.join(out, '_SUCCESS'), '')
}
