import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers/processes.js'

// Issue 10, "docs that match a fresh machine": the README's session is the quickstart's real output,
// on a cold checksum cache. Ids, times, speeds and the work folder differ per run and are compared
// as placeholders; every other character must match.
const run = promisify(execFile)
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')

export function normalizeSession(text: string): string[] {
  return text
    .replace(/\x1b\[[0-9;]*m/g, '')
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/\b[0-9a-f]{12}\b/g, '<id>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g, '<time>')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/g, '<time>')
    .replace(/; [\d.]+ s, \d+ files\/s, [\d.]+ [KMGT]?i?B\/s/g, '; <speed>')
    .replace(/ in \/\S+\/\.varve /g, ' in <work>/.varve ')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l, i, all) => l !== '' || (i > 0 && all[i - 1] !== ''))
    .join('\n')
    .trim()
    .split('\n')
}

describe('the README session (issue 10)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let session = ''
  beforeAll(async () => {
    t = await tempDir('readme-session')
    // stderr too, in order, as a terminal shows it (the refused merge's error line is on stderr)
    const { stdout } = await run('bash', ['-c', 'bash "$0" "$1" 2>&1', path.join(ROOT, 'examples', 'quickstart.sh'), path.join(t.dir, 'qs')], {
      env: { ...process.env, VARVE_CACHE_DIR: path.join(t.dir, 'cold-cache'), VARVE_REPO: '' },
      maxBuffer: 16 * 1024 * 1024,
    })
    session = stdout
  }, 300_000)
  afterAll(async () => t?.cleanup())

  it('is what `pnpm quickstart` prints on a fresh machine', async () => {
    const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8')
    const start = readme.indexOf('```console\n', readme.indexOf('A session, copied from a real run'))
    expect(start).toBeGreaterThan(0)
    const block = readme.slice(start + '```console\n'.length, readme.indexOf('\n```', start + 1))
    expect(normalizeSession(block)).toEqual(normalizeSession(session))
  })

  it("the README's install from a checkout works as written: the built CLI runs through a symlink on PATH", async () => {
    const bin = path.join(t.dir, 'bin')
    await fs.mkdir(bin)
    await fs.symlink(path.join(ROOT, 'packages', 'cli', 'dist', 'bin.js'), path.join(bin, 'varve'))
    const { stdout } = await run('varve', ['--version'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  // Issue 22: the README's training snippet failed on data written by `varve put <folder>` (packs),
  // the path every user takes; the quickstart's repository is written that way.
  it("the README's pinned-training snippet reads the quickstart's pin", async () => {
    const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8')
    const start = readme.indexOf('```ts\n', readme.indexOf('## Pinning datasets for training jobs'))
    const snippet = readme.slice(start + '```ts\n'.length, readme.indexOf('\n```', start + 1))
    expect(snippet).toContain("openPinned('varve.lock', 'train-data')")
    const core = pathToFileURL(path.join(ROOT, 'packages', 'core', 'dist', 'index.js')).href
    const program = [
      'const seen = []',
      'const fit = (batch) => seen.push({ rows: batch.numRows, columns: batch.schema.fields.map((f) => f.name), days: [...new Set(batch.getChild("day").toArray())] })',
      snippet.replace("from '@varve/core'", `from ${JSON.stringify(core)}`),
      'console.log(JSON.stringify(seen))',
    ].join('\n')
    const qs = path.join(t.dir, 'qs')
    await fs.writeFile(path.join(qs, 'train.mjs'), program)
    const { stdout } = await run(process.execPath, ['train.mjs'], { cwd: qs })
    const seen = JSON.parse(stdout) as { rows: number; columns: string[]; days: string[] }[]
    // The pin is main after the backfill's merge: days 2, 3 and 4 (day 1 was dropped), 1,000 rows each.
    expect(seen.reduce((n, b) => n + b.rows, 0)).toBe(2000)
    for (const b of seen) expect(b.columns).toEqual(['id', 'score', 'day'])
    expect([...new Set(seen.flatMap((b) => b.days))].sort()).toEqual(['2', '3'])
    const downloaded = (await fs.readdir(path.join(qs, 'train-data'), { recursive: true })).map(String).sort()
    expect(downloaded).toEqual(expect.arrayContaining(['day=2/part-0.parquet', 'day=3/part-0.parquet', 'day=4/part-0.parquet', 'day=4/_SUCCESS']))
    expect(downloaded).not.toContain('day=1/part-0.parquet')
  })
})
