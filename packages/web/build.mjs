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
await fs.copyFile(path.join(here, 'src/app.css'), path.join(out, 'app.css'))
const gzip = promisify(zlib.gzip)
let gzipped = 0
for (const rel of await fs.readdir(out, { recursive: true })) {
  if (!/\.(js|css|html|wasm)$/.test(rel)) continue
  const file = path.join(out, rel)
  const packed = await gzip(await fs.readFile(file), { level: 9 })
  await fs.writeFile(`${file}.gz`, packed)
  // Chunks loaded on demand (DuckDB-WASM, one day) are not part of the app's first load.
  if (!rel.startsWith('chunks')) gzipped += packed.length
}
if (process.argv.includes('--size')) console.log(`web UI: ${(gzipped / 1024).toFixed(1)} KiB gzipped at first load`)
void result
