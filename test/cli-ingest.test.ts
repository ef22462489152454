import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Repository } from '@varve/core'
import { tempDir } from './helpers/processes.js'
import { varve, VARVE_BIN } from './helpers/varve-cli.js'

// `varve put <folder>` as a process (issue 14): Ctrl-C stages what was read and says so, a re-run
// continues; an unreadable file or a bad name is an error naming it; unchanged files are not read.
describe('varve put of a folder, spawned', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let env: NodeJS.ProcessEnv
  const run = (...args: string[]) => varve(args, { cwd: t.dir, env, timeoutMs: 300_000 })

  beforeEach(async () => {
    t = await tempDir('cli-ingest-')
    env = { VARVE_REPO: path.join(t.dir, 'lake'), VARVE_CACHE_DIR: path.join(t.dir, 'cache') }
    expect((await run('init')).code).toBe(0)
  })
  afterEach(async () => t.cleanup())

  async function folder(name: string, files: number, size: number): Promise<string> {
    const dir = path.join(t.dir, name)
    for (let d = 0; d < 10; d++) await fs.mkdir(path.join(dir, `d${d}`), { recursive: true })
    for (let i = 0; i < files; i++) await fs.writeFile(path.join(dir, `d${i % 10}`, `f${i}.bin`), randomBytes(size))
    return dir
  }

  it('Ctrl-C stages what was read and prints a summary (exit 130); running it again continues', async () => {
    const dir = await folder('data', 8000, 24 * 1024) // ~190 MiB: about a dozen packs
    const packs = path.join(t.dir, 'lake', 'blocks', 'packs')
    const child = spawn(process.execPath, [VARVE_BIN, 'put', dir, 'main:data/'], {
      cwd: t.dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
    // Interrupt after observed progress (the first pack is stored), not on a timer.
    for (let i = 0; i < 6000; i++) {
      const found = await fs.readdir(packs).catch(() => [])
      if (found.length) break
      await new Promise((r) => setTimeout(r, 10))
    }
    child.kill('SIGINT')
    const code = await exited
    expect(code, stdout).toBe(130)
    const m = /^Interrupted: staged (\d+) files .* (\d+) not read \(run the command again to continue\)\n$/.exec(stdout)
    expect(m, stdout).not.toBeNull()
    const staged = Number(m![1])
    expect(staged).toBeGreaterThan(0)
    expect(staged + Number(m![2])).toBe(8000)
    const repo = await Repository.open(path.join(t.dir, 'lake'))
    const listed = []
    for await (const e of repo.list('main', { prefix: 'data/' })) listed.push(e)
    expect(listed).toHaveLength(staged)
    await repo.close()
    const again = await run('put', dir, 'main:data/', '--json')
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ files: 8000, uploaded: 8000 - staged, skipped: staged, interrupted: false })
  }, 300_000)

  it('re-put reads nothing unchanged; a touched file is hashed, not stored again; a changed one is stored', async () => {
    const dir = await folder('data', 200, 2048)
    expect((await run('put', dir, 'main:data/')).code).toBe(0)
    expect((await run('commit', 'main', '-m', 'one')).code).toBe(0)
    await new Promise((r) => setTimeout(r, 2100)) // past the racily-clean window of the cache rows
    const same = JSON.parse((await run('put', dir, 'main:data/', '--json')).stdout)
    expect(same).toMatchObject({ uploaded: 0, skipped: 200 })
    const touched = path.join(dir, 'd3', 'f3.bin')
    const now = new Date()
    await fs.utimes(touched, now, now) // stat moved, bytes did not
    await fs.writeFile(path.join(dir, 'd4', 'f4.bin'), randomBytes(2048))
    const next = JSON.parse((await run('put', dir, 'main:data/', '--json')).stdout)
    expect(next).toMatchObject({ uploaded: 1, skipped: 199 })
    const status = await run('status', 'main')
    expect(status.stdout).toContain('data/d4/f4.bin')
    expect(status.stdout).not.toContain('data/d3/f3.bin')
  }, 120_000)

  it('a bad name fails the command before any file is read or staged, naming the file', async () => {
    // (An unreadable item is covered by the repository suite: as root, no permission makes a file unreadable here.)
    const bad = path.join(t.dir, 'bad')
    await fs.mkdir(path.join(bad, 'ok'), { recursive: true })
    await fs.writeFile(path.join(bad, 'ok', 'a.bin'), 'a')
    await fs.writeFile(path.join(bad, 'line\nbreak.bin'), 'b') // a control character: INVALID_PATH
    const r = await run('put', bad, 'main:bad/')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/INVALID_PATH/)
    expect(r.stderr).toContain(path.join(bad, 'line'))
    expect((await run('status', 'main')).stdout).not.toContain('bad/ok/a.bin')
    expect(await fs.readdir(path.join(t.dir, 'lake', 'blocks', 'packs')).catch(() => [])).toEqual([])
  }, 120_000)

  it('symbolic links are skipped and said so; --follow-symlinks stores what they point to, once around a cycle (issue 23)', async () => {
    const dir = path.join(t.dir, 'links')
    const outside = path.join(t.dir, 'outside')
    await fs.mkdir(path.join(dir, 'real'), { recursive: true })
    await fs.mkdir(outside)
    await fs.writeFile(path.join(dir, 'real', 'a.txt'), 'a')
    await fs.writeFile(path.join(outside, 'b.txt'), 'b')
    await fs.symlink(path.join(outside, 'b.txt'), path.join(dir, 'link-to-file.txt'))
    await fs.symlink(outside, path.join(dir, 'link-to-dir'))
    await fs.symlink(dir, path.join(dir, 'real', 'loop')) // a cycle
    await fs.symlink(path.join(t.dir, 'nowhere'), path.join(dir, 'broken'))
    const plain = await run('put', dir, 'main:plain/')
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toMatch(
      /Staged 1 file .*; 4 symbolic links or special files not stored \(broken, link-to-dir, link-to-file\.txt, \.\.\.; --follow-symlinks stores what links point to\)/,
    )
    const followed = await run('put', dir, 'main:followed/', '--follow-symlinks', '--json')
    expect(followed.code, followed.stderr).toBe(0)
    expect(JSON.parse(followed.stdout)).toMatchObject({ uploaded: 3, symlinksNotFollowed: 2 }) // the broken link and the loop back
    const listed = (await run('ls', '-r', 'main:followed/')).stdout
    for (const p of ['followed/link-to-dir/b.txt', 'followed/link-to-file.txt', 'followed/real/a.txt']) expect(listed).toContain(p)
    expect(listed).not.toContain('loop')
  }, 120_000)
})
