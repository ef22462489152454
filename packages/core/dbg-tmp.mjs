import fs from 'node:fs'
import { Repository } from '@varve/core'
fs.rmSync('/tmp/t11/dlake', { recursive: true, force: true })
const repo = await Repository.init('/tmp/t11/dlake', { author: 'x', durable: false })
await repo.put('main', 't/data.parquet', fs.readFileSync('/tmp/t11/tv/v1.parquet'))
const c1 = await repo.commit('main', { message: 'v1' })
await repo.put('main', 't/data.parquet', fs.readFileSync('/tmp/t11/tv/v2.parquet'))
const c2 = await repo.commit('main', { message: 'v2' })
const counts = {}
const t0 = performance.now()
let shown = 0
for await (const r of repo.diffTable(c1.id, c2.id, 't/data.parquet', { key: ['id'] })) {
  counts[r.type] = (counts[r.type] ?? 0) + 1
  if (r.type === 'schema' || r.type === 'summary' || shown++ < 3 || (r.type === 'changed' && shown < 2000 && shown % 500 === 0)) console.log(JSON.stringify(r, (k, v) => typeof v === 'bigint' ? String(v) : v))
}
console.log(counts, (performance.now() - t0).toFixed(0), 'ms')
await repo.close()
