import fs from 'node:fs/promises'
import path from 'node:path'
import { Repository } from '@varve/core'
import { startServer, validateServeConfig } from '@varve/server'
import { expect, it } from 'vitest'
import { pythonVenv, runPython } from './helpers/serve.js'
import { collect, tempDir } from './helpers/processes.js'

// Issue 23: Delta multi-writer on one branch through varve serve (lakeFS documents it as unsafe).
// 4 delta-rs processes append at once; delta-rs commits each append by creating the next
// _delta_log/<version>.json with If-None-Match: *, which the gateway checks atomically per branch.
it('4 delta-rs writers append to one table on one branch at once: every acknowledged append is there, the log has no gap', async () => {
  const venv = await pythonVenv()
  const t = await tempDir('delta-writers')
  const location = path.join(t.dir, 'lake')
  const repo = await Repository.init(location, { author: 'setup' })
  await repo.createBranch('exp')
  await fs.mkdir(path.join(t.dir, 'uploads'))
  const server = await startServer(
    validateServeConfig({
      listen: '127.0.0.1:0',
      repositories: [{ name: 'lake', location }],
      uploadDir: path.join(t.dir, 'uploads'),
      keys: [{ accessKey: 'delta', secretKey: 'delta-secret', grants: [{ actions: ['read', 'write', 'commit'] }] }],
    }),
  )
  const env = { ENDPOINT: server.url, KEY: 'delta', SECRET: 'delta-secret', TABLE: 's3://lake/exp/events' }
  try {
    // the table exists before the race (the first commit creates it)
    await runPython(venv, 'delta_append.py', { ...env, WRITER: '0', APPENDS: '1' })
    const writers = await Promise.all([1, 2, 3, 4].map((w) => runPython(venv, 'delta_append.py', { ...env, WRITER: String(w), APPENDS: '5' })))
    const acknowledged = [[0, 0], ...writers.flatMap((o) => (o.appended as number[]).map((i) => [o.writer as number, i]))]
    expect(acknowledged).toHaveLength(21)
    const back = await runPython(venv, 'delta_append.py', env)
    expect(back.rows).toEqual(acknowledged.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!))
    expect(back.version).toBe(20)
    const log = (await collect(repo.list('exp', { prefix: 'events/_delta_log/' }))).map((e) => e.path).filter((p) => p.endsWith('.json'))
    expect(log).toEqual(Array.from({ length: 21 }, (_, v) => `events/_delta_log/${String(v).padStart(20, '0')}.json`))
  } finally {
    await server.close()
    await repo.close()
    await t.cleanup()
  }
}, 600_000)
