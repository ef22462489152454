import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { pythonVenv } from './helpers/serve.js'
import { VARVE_BIN } from './helpers/varve-cli.js'

// Issue 23: the Python client (clients/python) runs its pytest suite against a real varve serve,
// installed into the test venv as a user installs it (its fsspec entry point included).
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const run = promisify(execFile)

it('clients/python: pytest against a real varve serve (pandas, pyarrow, DuckDB, polars, HF datasets through varve://)', async () => {
  const venv = await pythonVenv()
  const python = path.join(venv, 'bin', 'python')
  // Installed as a user installs it (not editable: the venv is shared by checkouts), built by the
  // venv's own setuptools and wheel (nothing downloaded), again on every run (this checkout's code).
  await run(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-deps',
      '--no-build-isolation',
      '--force-reinstall',
      path.join(ROOT, 'clients', 'python'),
    ],
    { timeout: 300_000 },
  )
  const r = await run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', path.join(ROOT, 'clients', 'python', 'tests')], {
    cwd: path.join(ROOT, 'clients', 'python'),
    env: { ...process.env, VARVE_BIN, NODE: process.execPath },
    timeout: 600_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`pytest failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}\n${err.message}`)
  })
  expect(r.stdout).toMatch(/\b4 passed\b/)
}, 900_000)
