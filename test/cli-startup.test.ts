import fs from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers/processes.js'
import { VARVE_BIN, varve } from './helpers/varve-cli.js'

// Issue 10, "start instantly": heavy dependencies load on first use, not at start-up. Checked by the
// modules a spawned CLI process loaded, not by a clock (benchmarks/startup.mjs measures the time).
const HEAVY = ['isomorphic-git', 'apache-arrow', 'parquet-wasm', 'hyparquet', '/yaml/', 're2js', '@aws-sdk', '@smithy', 'fast-xml-parser', '/server/dist/']
const RECORDER = path.join(path.dirname(new URL(import.meta.url).pathname), 'helpers', 'record-loads.mjs')
const { version } = createRequire(import.meta.url)('../packages/cli/package.json') as { version: string }

/** Runs the built CLI with the load recorder; returns its result and the modules it loaded. */
async function loadsOf(args: string[], cwd: string): Promise<{ code: number; stdout: string; loaded: string[] }> {
  const record = path.join(cwd, `loads-${Math.random().toString(16).slice(2)}.txt`)
  await fs.writeFile(record, '')
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', RECORDER, VARVE_BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', VARVE_REPO: '', VARVE_RECORD_LOADS: record },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('close', (c) => resolve({ code: c ?? -1, stdout: out }))
  })
  return { code, stdout, loaded: (await fs.readFile(record, 'utf8')).split('\n').filter(Boolean) }
}

describe('CLI start-up (issue 10)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  beforeAll(async () => {
    t = await tempDir('startup')
    const run = (...args: string[]) => varve(args, { cwd: t.dir })
    expect((await run('init', 'repo')).code).toBe(0)
    await fs.writeFile(path.join(t.dir, 'a.csv'), 'x\n1\n')
    expect((await run('put', 'a.csv', 'main:data/a.csv', '--repo', 'repo')).code).toBe(0)
    expect((await run('commit', 'main', '-m', 'one', '--repo', 'repo')).code).toBe(0)
  })
  afterAll(async () => t?.cleanup())

  it('varve --version and -V print the version and load none of the engine', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await loadsOf([flag], t.dir)
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(`${version}\n`)
      expect(r.loaded.filter((m) => m.includes('/packages/core/'))).toEqual([])
    }
  })

  it('the recorder sees what a command loads, ES modules and CommonJS alike (so the checks here can fail)', async () => {
    // Validating a rules file parses YAML (CommonJS, loaded by require on first use).
    await fs.writeFile(path.join(t.dir, 'rules.yaml'), 'name: rows\n')
    const r = await loadsOf(['hooks', 'validate', 'rules.yaml'], t.dir)
    expect(r.loaded.some((m) => m.includes('/packages/core/'))).toBe(true)
    expect(r.loaded.some((m) => m.includes('/yaml/'))).toBe(true)
    const ls = await loadsOf(['ls', 'main:', '--repo', 'repo'], t.dir)
    expect(ls.loaded.some((m) => m.includes('better-sqlite3'))).toBe(true)
  })

  it('varve ls main: on a local repository loads no Parquet, Arrow, git, YAML, regex or AWS module', async () => {
    const r = await loadsOf(['ls', 'main:', '--repo', 'repo'], t.dir)
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('data/\n') // one level, like ls
    expect(r.loaded.filter((m) => HEAVY.some((h) => m.includes(h)))).toEqual([])
  })
})

describe('library start-up (issue 10)', () => {
  it("@varve/s3-adapter keeps the AWS SDK's Node-22 notice out of a program's output", async () => {
    const script = `const m = await import('@varve/s3-adapter'); const { ListBucketsCommand } = await import('@aws-sdk/client-s3')
      const c = m.createS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 })
      await c.send(new ListBucketsCommand({})).catch(() => {}); console.log('sent')`
    const cwd = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'packages', 's3-adapter')
    const env: NodeJS.ProcessEnv = { ...process.env }
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (err += d))
      child.on('error', reject)
      child.on('close', () => resolve({ stdout: out, stderr: err }))
    })
    expect(stdout).toBe('sent\n')
    expect(stderr).not.toContain('NodeVersionSupportWarning')
  })
})
