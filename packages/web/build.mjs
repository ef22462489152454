// Builds the web UI into dist/: one minified ES module bundle (app.js), its stylesheet and index.html,
// each with a gzipped copy the server sends to browsers that take gzip. Run by the root `pnpm build`.
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import * as esbuild from 'esbuild'

const here = path.dirname(fileURLToPath(import.meta.url))
const out = path.join(here, 'dist')
await fs.rm(out, { recursive: true, force: true })
await fs.mkdir(out, { recursive: true })
const result = await esbuild.build({
  entryPoints: { app: path.join(here, 'src/main.tsx') },
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
  sourcemap: false,
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
})
await fs.copyFile(path.join(here, 'src/index.html'), path.join(out, 'index.html'))
// DuckDB-WASM for the table previews, shipped with the app (no CDN): its worker and the build for
// browsers with WebAssembly exceptions (every current browser), fetched only when a preview runs.
const duckdb = path.join(path.dirname(fileURLToPath(import.meta.resolve('@duckdb/duckdb-wasm'))))
await fs.mkdir(path.join(out, 'duckdb'))
for (const f of ['duckdb-browser-eh.worker.js', 'duckdb-eh.wasm']) await fs.copyFile(path.join(duckdb, f), path.join(out, 'duckdb', f))
await fs.copyFile(path.join(here, 'src/app.css'), path.join(out, 'app.css'))
const gzip = promisify(zlib.gzip)
let gzipped = 0
for (const rel of await fs.readdir(out, { recursive: true })) {
  if (!/\.(js|css|html|wasm)$/.test(rel)) continue
  const file = path.join(out, rel)
  const packed = await gzip(await fs.readFile(file), { level: 9 })
  await fs.writeFile(`${file}.gz`, packed)
  // Chunks and DuckDB, loaded when a table preview needs them, are not part of the app's first load.
  if (!rel.startsWith('chunks') && !rel.startsWith('duckdb')) gzipped += packed.length
}
if (process.argv.includes('--size')) console.log(`web UI: ${(gzipped / 1024).toFixed(1)} KiB gzipped at first load`)
void result
