import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'

/**
 * The web UI's pages: only scripts, styles and WebAssembly of its own origin run; nothing frames it;
 * requests go to its own origin. DuckDB-WASM needs `wasm-unsafe-eval` and workers from blob URLs.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ')

/** Headers every UI response carries. */
export const UI_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': UI_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
}

interface Asset {
  readonly file: string
  readonly type: string
  readonly size: number
  readonly etag: string
  /** A gzipped copy written by the build, served to clients that take gzip. */
  readonly gzip?: { readonly file: string; readonly size: number }
}

/**
 * The built app's files, found once by walking its folder: a request names one of them or gets
 * `index.html` (the app's own routes), so no request path ever reaches the file system.
 */
export class UiAssets {
  #assets: Promise<Map<string, Asset>> | undefined

  constructor(readonly dir: string) {}

  async serve(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const assets = await (this.#assets ??= walk(this.dir))
    const asset = assets.get(rest) ?? assets.get('index.html')
    if (!asset) {
      res.writeHead(404, { ...UI_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' })
      return void res.end('the web UI is not built (pnpm build)')
    }
    const headers: Record<string, string> = {
      ...UI_HEADERS,
      'Content-Type': asset.type,
      ETag: asset.etag,
      'Cache-Control': 'no-cache',
      Vary: 'Accept-Encoding',
    }
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers)
      return void res.end()
    }
    const gzip = asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? asset.gzip : undefined
    if (gzip) headers['Content-Encoding'] = 'gzip'
    headers['Content-Length'] = String(gzip ? gzip.size : asset.size)
    res.writeHead(200, headers)
    if (req.method === 'HEAD') return void res.end()
    createReadStream(gzip ? gzip.file : asset.file)
      .on('error', () => res.destroy())
      .pipe(res)
  }
}

async function walk(dir: string): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>()
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  const files = new Set(entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/')))
  for (const rel of files) {
    const type = TYPES[path.extname(rel)]
    if (!type) continue
    const file = path.join(dir, rel)
    const st = await fs.stat(file)
    const gz = files.has(`${rel}.gz`) ? await fs.stat(`${file}.gz`) : undefined
    out.set(rel, {
      file,
      type,
      size: st.size,
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      ...(gz ? { gzip: { file: `${file}.gz`, size: gz.size } } : {}),
    })
  }
  return out
}
