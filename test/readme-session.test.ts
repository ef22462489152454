import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
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
  it('is what `pnpm quickstart` prints on a fresh machine', async () => {
    const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8')
    const start = readme.indexOf('```console\n', readme.indexOf('A session, copied from a real run'))
    expect(start).toBeGreaterThan(0)
    const block = readme.slice(start + '```console\n'.length, readme.indexOf('\n```', start + 1))
    const t = await tempDir('readme-session')
    try {
      // stderr too, in order, as a terminal shows it (the refused merge's error line is on stderr)
      const { stdout } = await run('bash', ['-c', 'bash "$0" "$1" 2>&1', path.join(ROOT, 'examples', 'quickstart.sh'), path.join(t.dir, 'qs')], {
        env: { ...process.env, VARVE_CACHE_DIR: path.join(t.dir, 'cold-cache'), VARVE_REPO: '' },
        maxBuffer: 16 * 1024 * 1024,
      })
      expect(normalizeSession(block)).toEqual(normalizeSession(stdout))
    } finally {
      await t.cleanup()
    }
  }, 300_000)
})
