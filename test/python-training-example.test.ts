import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { tempDir } from './helpers/processes.js'
import { pythonVenv } from './helpers/serve.js'

// Issue 12: examples/python-training pins with the CLI and trains in Python through the gateway.
const RUN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'examples', 'python-training', 'run.sh')

describe('examples/python-training', () => {
  it(
    'trains on the pinned commit through varve serve, not on what main became',
    async () => {
      const venv = await pythonVenv()
      const t = await tempDir('python-training')
      try {
        const work = path.join(t.dir, 'work')
        const { stdout } = await promisify(execFile)('bash', [RUN, work, path.join(venv, 'bin', 'python')], {
          env: { ...process.env, VARVE_REPO: '', VARVE_CACHE_DIR: path.join(t.dir, 'cache') },
          timeout: 10 * 60_000,
        })
        expect(stdout).toMatch(/trained on 3000 rows at data commit [0-9a-f]{12}/)
        expect(stdout.trim().split('\n').at(-1)).toBe('varve serve stopped') // and exited 0 (set -e)
        const model = JSON.parse(await fs.readFile(path.join(work, 'model.json'), 'utf8'))
        const lock = JSON.parse(await fs.readFile(path.join(work, 'varve.lock'), 'utf8'))
        expect(model).toMatchObject({ rows: 3000, data: { ref: 'main', commit: lock.pins['train-data'].commit } })
      } finally {
        await t.cleanup()
      }
    },
    15 * 60_000,
  )
})
