import fs from 'node:fs/promises'; import path from 'node:path'; import { createHash } from 'node:crypto'
import { decodeTreeNode } from '@varve/core/internal'
const dir = '/tmp/listprof-lake/blocks/tree'
const files = []
for (const d of await fs.readdir(dir)) for (const f of await fs.readdir(path.join(dir, d))) files.push(path.join(dir, d, f))
let t = performance.now(); const bufs = await Promise.all(files.map((f) => fs.readFile(f))); const tRead = performance.now() - t
t = performance.now(); for (const b of bufs) createHash('sha256').update(b).digest('hex'); const tHash = performance.now() - t
t = performance.now(); const parsed = bufs.map((b) => JSON.parse(b.toString('utf8'))); const tParse = performance.now() - t
t = performance.now(); let n = 0; for (let i = 0; i < bufs.length; i++) { const node = decodeTreeNode(bufs[i], 'x'); n += node.kind === 'leaf' ? node.entries.length : 0 }; const tDecode = performance.now() - t
const bytes = bufs.reduce((s, b) => s + b.length, 0)
console.log({ files: files.length, MB: (bytes / 1e6).toFixed(1), entries: n, tRead, tHash, tParse, tDecodeTotal: tDecode })
