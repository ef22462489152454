import fs from 'node:fs'
import { ParquetFile, wasmMemory } from 'parquet-wasm'
import { tableFromIPC } from 'apache-arrow'
const col = process.argv[2], bs = +process.argv[3]
const fd = fs.openSync('/tmp/t11/big.parquet','r'); const size = fs.fstatSync(fd).size
const blob = { size, slice(s, e) { return { async arrayBuffer() { const b = Buffer.alloc(e - s); fs.readSync(fd, b, 0, e - s, s); return b.buffer.slice(b.byteOffset, b.byteOffset+b.length) } } } }
const t0 = performance.now()
const f = await ParquetFile.fromFile(blob)
const n = f.metadata().numRowGroups()
let rows=0, peak=0
for (let g=0; g<n; g++) {
  const s = await f.stream({ rowGroups:[g], columns:[col], batchSize: bs })
  for await (const b of s) { const t = tableFromIPC(b.intoIPCStream()); rows += t.numRows; peak=Math.max(peak, process.memoryUsage().rss) }
}
console.log(rows, (performance.now()-t0).toFixed(0),'ms', wasmMemory().buffer.byteLength/2**20, (peak/2**20).toFixed(0), 'MiB')
