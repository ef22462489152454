// A lakeFS server for side-by-side benchmarks: started on 127.0.0.1 with its local KV and local block
// store, set up with one admin key, fed n files in the lake layout by zero-copy import. Shared by
// lakefs.mjs and governance.mjs. lakeFS is built from source (see benchmarks/README.md).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { lakePath } from './lake-fixture.mjs'

const key = { access_key_id: 'AKIAIOSFODNN7BENCH01', secret_access_key: 'benchSecretKeyForLakeFSOnLoopbackOnly000' }
const auth = 'Basic ' + Buffer.from(`${key.access_key_id}:${key.secret_access_key}`).toString('base64')

/** The lakeFS binary from LAKEFS_BIN, or exits with how to get one. */
export function lakefsBinary() {
  const bin = process.env.LAKEFS_BIN
  if (!bin || !fs.existsSync(bin)) {
    console.error('set LAKEFS_BIN to a lakeFS binary built from source (see benchmarks/README.md)')
    process.exit(2)
  }
  return bin
}

/**
 * Starts lakeFS under `root` (its metadata, data and the import folder live there). With `s3`
 * (`{ endpoint, region, accessKeyId, secretAccessKey }`) its block store is that S3 (a MinIO), so it
 * can import from buckets there.
 */
export async function startLakeFS(bin, root, s3) {
  const port = 18000 + Math.floor(Math.random() * 1000)
  const base = `http://127.0.0.1:${port}/api/v1`
  const dir = path.join(root, 'lakefs')
  fs.mkdirSync(dir, { recursive: true })
  const config = path.join(dir, 'config.yaml')
  fs.writeFileSync(
    config,
    [
      `listen_address: 127.0.0.1:${port}`,
      'logging:',
      '  level: WARN',
      'database:',
      '  type: local',
      '  local:',
      `    path: ${dir}/metadata`,
      'blockstore:',
      ...(s3
        ? [
            '  type: s3',
            '  s3:',
            `    endpoint: ${s3.endpoint}`,
            '    force_path_style: true',
            `    region: ${s3.region}`,
            '    credentials:',
            `      access_key_id: ${s3.accessKeyId}`,
            `      secret_access_key: ${s3.secretAccessKey}`,
          ]
        : ['  type: local', '  local:', `    path: ${dir}/data`, '    import_enabled: true', `    allowed_external_prefixes: ["${root}/import"]`]),
      'auth:',
      '  encrypt:',
      '    secret_key: bench-only-secret',
      'stats:',
      '  enabled: false',
      'usage_report:',
      '  enabled: false',
    ].join('\n') + '\n',
  )
  const child = spawn(bin, ['run', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`lakeFS exited: ${stderr}`)
    const ok = await fetch(`http://127.0.0.1:${port}/_health`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (i > 600) throw new Error('lakeFS did not start in 60 s')
    await new Promise((r) => setTimeout(r, 100))
  }
  await fetch(`${base}/setup_lakefs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', key }),
  }).then(async (r) => {
    if (!r.ok) throw new Error(`lakeFS setup: ${r.status} ${await r.text()}`)
  })

  /** One API call; `expect` lists the statuses that are answers, not failures (e.g. 409 for a conflict). */
  async function api(method, route, body, headers = {}, expect = []) {
    const res = await fetch(base + route, {
      method,
      headers: { authorization: auth, ...(body !== undefined && !(body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: body instanceof Uint8Array ? body : JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    if (!res.ok && !expect.includes(res.status)) throw new Error(`lakeFS ${method} ${route}: ${res.status} ${text.slice(0, 300)}`)
    // Some answers are JSON, some plain text (branch creation answers the new head's id).
    const value = res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : text
    return expect.length ? { status: res.status, body: value } : value
  }
  return { child, api, url: base, stop: () => child.kill('SIGTERM') }
}

/** n small files in the lake layout under `root/import`, for lakeFS to import (zero-copy). */
export function writeImportSource(root, n) {
  const dir = path.join(root, 'import')
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 0) fs.mkdirSync(path.join(dir, path.dirname(lakePath(i))), { recursive: true })
    fs.writeFileSync(path.join(dir, lakePath(i)), 'x'.repeat(64))
  }
  return dir
}

/** Imports the folder into the repository's main branch as one commit; resolves when it is done. */
export async function importInto(api, repo, dir, message) {
  const { id } = await api('POST', `/repositories/${repo}/branches/main/import`, {
    paths: [{ type: 'common_prefix', path: `local://${dir}/`, destination: '' }],
    commit: { message },
  })
  for (;;) {
    const s = await api('GET', `/repositories/${repo}/branches/main/import?id=${id}`)
    if (s.error) throw new Error(`lakeFS import: ${JSON.stringify(s.error)}`)
    if (s.completed) return s
    await new Promise((r) => setTimeout(r, 500))
  }
}
