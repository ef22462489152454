import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainPartition } from '@varve/core/testing'
import { tempDir } from './helpers/processes.js'
import { ndjson, varve, VARVE_BIN, type CliResult } from './helpers/varve-cli.js'

// Issue 10, "git and lakectl habits" and "JSON for scripts", through the built CLI as a process.

const hasShell = (shell: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${shell}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('varve CLI: git and lakectl habits (issue 10)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  const ids: Record<string, string> = {}
  const run = (...args: string[]) => varve(args, { cwd: t.dir, env: { VARVE_AUTHOR: 'engineer', VARVE_CACHE_DIR: path.join(t.dir, '.cache') } })
  const ok = async (...args: string[]) => {
    const r = await run(...args)
    expect(r.code, `varve ${args.join(' ')}: ${r.stderr}`).toBe(0)
    return r.stdout
  }
  const file = async (rel: string, content: string | Uint8Array) => {
    await fs.mkdir(path.dirname(path.join(t.dir, rel)), { recursive: true })
    await fs.writeFile(path.join(t.dir, rel), content)
  }
  const commit = async (branch: string, message: string) => {
    const c = JSON.parse(await ok('commit', branch, '-m', message, '--json')) as { id: string }
    ids[message] = c.id
    return c.id
  }

  // main: c1 (day=1/a, day=10/a, other) — c2 (day=10/a) — merge side (day=1/b) — c3 (other)
  beforeAll(async () => {
    t = await tempDir('cli-habits')
    execFileSync('git', ['init', '-q', t.dir])
    await fs.writeFile(path.join(t.dir, '.gitignore'), 'node_modules/') // no newline at the end: init must add one
    await ok('init')
    await file('src/day=1/a.parquet', trainPartition(10))
    await file('src/day=10/a.parquet', trainPartition(20))
    await file('other.txt', 'v1')
    await ok('put', 'src/', 'main:train/')
    await ok('put', 'other.txt', 'main:other.txt')
    await commit('main', 'c1')
    await ok('branch', 'create', 'side')
    await file('b.parquet', trainPartition(5))
    await ok('put', 'b.parquet', 'side:train/day=1/b.parquet')
    await commit('side', 's1')
    await file('a10.parquet', trainPartition(21))
    await ok('put', 'a10.parquet', 'main:train/day=10/a.parquet')
    await commit('main', 'c2')
    ids.merge = (JSON.parse(await ok('merge', 'side', 'main', '--json')) as { commit: { id: string } }).commit.id
    await file('other2.txt', 'v2')
    await ok('put', 'other2.txt', 'main:other.txt')
    await commit('main', 'c3')
  }, 120_000)
  afterAll(async () => t?.cleanup())

  it('init inside a git working tree adds .varve/ to .gitignore and says so; a second init elsewhere leaves it alone', async () => {
    expect(await fs.readFile(path.join(t.dir, '.gitignore'), 'utf8')).toBe('node_modules/\n.varve/\n')
    const away = await tempDir('cli-habits-nogit')
    try {
      const r = await varve(['init'], { cwd: away.dir })
      expect(r.stdout).not.toContain('.gitignore')
      await expect(fs.stat(path.join(away.dir, '.gitignore'))).rejects.toThrow()
    } finally {
      await away.cleanup()
    }
    // said, in the first init's output (re-run in a fresh git folder to see it)
    const g = await tempDir('cli-habits-git')
    try {
      execFileSync('git', ['init', '-q', g.dir])
      const r = await varve(['init'], { cwd: g.dir })
      expect(r.stdout).toContain('Added .varve/ to .gitignore')
      expect(await fs.readFile(path.join(g.dir, '.gitignore'), 'utf8')).toBe('.varve/\n')
      await varve(['init', 'second'], { cwd: g.dir })
      expect(await fs.readFile(path.join(g.dir, '.gitignore'), 'utf8')).toBe('.varve/\nsecond/\n')
    } finally {
      await g.cleanup()
    }
  })

  it('log -- <path>: the commits that changed something under it, along first parents unless --full-history', async () => {
    const messages = async (...args: string[]) => ndjson(await ok('log', 'main', '--json', ...args)).map((c) => c.message)
    expect(await messages('--', 'train/day=1/')).toEqual(['Merge side into main', 'c1'])
    // a folder named without its slash is that folder, not every path starting with the text (day=10)
    expect(await messages('--', 'train/day=1')).toEqual(['Merge side into main', 'c1'])
    expect(await messages('--full-history', '--', 'train/day=1/')).toEqual(['Merge side into main', 's1', 'c1'])
    expect(await messages('--', 'train/day=10/a.parquet')).toEqual(['c2', 'c1'])
    expect(await messages('-n', '1', '--', 'other.txt')).toEqual(['c3'])
    expect(await messages('--', 'nothing/')).toEqual([])
    const human = await ok('log', 'main', '--oneline', '--', 'train/day=10/')
    expect(human.trim().split('\n')).toEqual([`${ids.c2!.slice(0, 12)} c2`, `${ids.c1!.slice(0, 12)} c1`])
  })

  it('log --graph draws the merge beside the commits', async () => {
    const lines = (await ok('log', 'main', '--graph')).trimEnd().split('\n')
    expect(lines.map((l) => l.replace(/[0-9a-f]{12} /, ''))).toEqual([
      '* c3',
      '* merge Merge side into main',
      '|\\',
      '* | c2',
      '| * s1',
      '|/',
      '* c1',
      '* Repository created',
    ])
  })

  it('blame <ref>:<prefix>: for each file the commit that last changed it', async () => {
    const lines = ndjson(await ok('blame', 'main:train/', '--json'))
    expect(Object.fromEntries(lines.map((l) => [l.path, l.commit]))).toEqual({
      'train/day=1/a.parquet': ids.c1,
      'train/day=1/b.parquet': ids.merge,
      'train/day=10/a.parquet': ids.c2,
    })
    expect(lines[0]).toMatchObject({
      author: 'engineer',
      message: expect.any(String),
      address: expect.stringMatching(/^[0-9a-f]{64}$/),
      size: expect.any(Number),
    })
    const human = await ok('blame', 'main:train/day=10')
    expect(human).toMatch(new RegExp(`^${ids.c2!.slice(0, 12)}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ  engineer  train/day=10/a.parquet\\n$`))
    expect((await ok('blame', 'side')).split('\n').filter(Boolean)).toHaveLength(4) // a bare ref: the whole tree
  })

  it('reflog, stat, branch show, ls <bare ref>, get <folder without slash>', async () => {
    const moves = ndjson(await ok('reflog', 'main', '--json'))
    expect(moves.map((m) => m.operation)).toEqual(['commit', 'merge', 'commit', 'commit', 'create'])
    expect(moves[0]).toMatchObject({ ref: 'branch:main', new: ids.c3, author: 'engineer' })
    expect(await ok('reflog', 'main', '-n', '1')).toContain(`${ids.merge!.slice(0, 12)} -> ${ids.c3!.slice(0, 12)}`)

    const st = JSON.parse(await ok('stat', 'main:other.txt', '--json'))
    expect(st).toMatchObject({ path: 'other.txt', size: 2 })
    expect(await ok('stat', 'main:other.txt')).toContain(`address       sha256:${st.address}`)
    expect((await run('stat', 'main:missing.txt')).code).toBe(1)

    await file('wip.txt', 'wip')
    await ok('put', 'wip.txt', 'side:wip.txt')
    const show = JSON.parse(await ok('branch', 'show', 'side', '--json'))
    expect(show).toMatchObject({ name: 'side', head: ids.s1, dirty: true, protected: false, staged: { added: 1, changed: 0, removed: 0, total: 1 } })
    await ok('branch', 'protect', 'main')
    const showMain = JSON.parse(await ok('branch', 'show', 'main', '--json'))
    expect(showMain).toMatchObject({ dirty: false, default: true, protected: true, protection: { directCommits: false }, staged: { total: 0 } })
    expect(await ok('branch', 'show', 'side')).toContain('1 uncommitted (1 added, 0 changed, 0 removed)')
    const listed = ndjson(await ok('branch', 'list', '--json'))
    expect(listed.map((b) => [b.name, b.dirty, b.protected])).toEqual([
      ['main', false, true],
      ['side', true, false],
    ])
    await ok('branch', 'unprotect', 'main')

    expect((await ok('ls', 'main')).trim().split('\n')).toEqual(['other.txt', 'train/'])
    expect(await ok('ls', 'main')).toBe(await ok('ls', 'main:'))
    await ok('get', 'main:train/day=1', path.join(t.dir, 'out'))
    expect((await fs.readdir(path.join(t.dir, 'out'))).sort()).toEqual(['a.parquet', 'b.parquet'])
    await ok('get', 'main:other.txt', path.join(t.dir, 'o.txt')) // a file is still a file
    expect(await fs.readFile(path.join(t.dir, 'o.txt'), 'utf8')).toBe('v2')
    expect((await run('get', 'main:train/day=9', path.join(t.dir, 'none'))).code).toBe(1)
  })

  it('status --json: NDJSON of changes, and one document on a clean branch', async () => {
    expect(JSON.parse(await ok('status', 'main', '--json'))).toEqual({ branch: 'main', head: ids.c3, clean: true })
    expect(ndjson(await ok('status', 'side', '--json')).map((c) => [c.type, c.path])).toEqual([['added', 'wip.txt']])
  })

  it('status: a one-line summary, and --stat one line per folder (issue 24)', async () => {
    await ok('branch', 'create', 'summary', '--from', ids.c3!)
    await file('sum/x.bin', 'x'.repeat(1000))
    await file('sum/y.bin', 'y'.repeat(2000))
    await ok('put', 'sum/', 'summary:data/')
    await ok('put', 'sum/x.bin', 'summary:other.txt')
    await ok('rm', 'summary:train/day=10/a.parquet')
    const lines = (await ok('status', 'summary')).trim().split('\n')
    expect(lines.slice(0, 2)).toEqual([`On branch summary at ${ids.c3!.slice(0, 12)}`, '4 changes: 2 added, 1 changed, 1 removed (3.9 KiB staged)'])
    expect(lines.slice(2).map((l) => l.split(/\s+/))).toEqual([
      ['added', 'data/x.bin'],
      ['added', 'data/y.bin'],
      ['changed', 'other.txt'],
      ['removed', 'train/day=10/a.parquet'],
    ])
    const stat = (await ok('status', 'summary', '--stat')).trim().split('\n')
    expect(stat[1]).toBe(lines[1])
    expect(stat.slice(2).map((l) => l.split(/\s+/))).toEqual([
      ['data/', '+2', '~0', '-0', '2.9', 'KiB'],
      ['/', '+0', '~1', '-0', '1000', 'B'],
      ['train/day=10/', '+0', '~0', '-1', '0', 'B'],
    ])
    await ok('commit', 'summary', '-m', 'summary')
    expect((await ok('status', 'summary')).trim().split('\n')[1]).toBe('nothing to commit')
  })

  it('name@{N} names where a branch was N moves ago, in every command that takes a revision (issue 24)', async () => {
    // main moved: create, c1, c2, merge, c3 (newest first in its ref log)
    const show = async (rev: string) => (JSON.parse(await ok('show', rev, '--json')) as { id: string }).id
    expect(await show('main@{0}')).toBe(ids.c3)
    expect(await show('main@{1}')).toBe(ids.merge)
    expect(await show('main@{1}~1')).toBe(ids.c2)
    expect(await ok('cat', 'main@{3}:other.txt')).toBe('v1')
    const tooFar = await run('show', 'main@{9}')
    expect([tooFar.code, tooFar.stderr]).toEqual([1, expect.stringContaining('the ref log of main has 5 moves')])
    const bad = await run('show', 'main@{yesterday}')
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining('only name@{N}')])
  })

  it('a put to a tag says it is a tag (issue 24)', async () => {
    await ok('tag', 'create', 'v-habits', ids.c3!)
    const r = await run('put', path.join(t.dir, 'other.txt'), 'v-habits:x.txt')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('v-habits is a tag, and tags never move')
  })

  it('merging from a source with uncommitted changes warns that they are not merged', async () => {
    await ok('branch', 'create', 'target', '--from', ids.c1!)
    const r = await run('merge', 'side', 'target')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('warning: side has uncommitted changes; they are not merged (commit them first: varve commit side -m <message>)\n')
    const clean = await run('merge', 'main', 'target')
    expect(clean.stderr).toBe('')
    const json = await run('merge', 'side', 'target', '--json')
    expect(JSON.parse(json.stdout)).toMatchObject({ merged: false, upToDate: true, warnings: [expect.stringContaining('side has uncommitted changes')] })
    expect(json.stderr).toBe('')
  })
})

describe('varve CLI: JSON for scripts (issue 10)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  const run = (...args: string[]) => varve(args, { cwd: t.dir, env: { VARVE_AUTHOR: 'engineer', VARVE_CACHE_DIR: path.join(t.dir, '.cache') } })
  const errorOf = (r: CliResult) => {
    const lines = r.stderr.trim().split('\n')
    expect(lines, r.stderr).toHaveLength(1)
    return (JSON.parse(lines[0]!) as { error: { code: string; message: string; details: Record<string, unknown>; hint?: string } }).error
  }

  /** Writes `content` to the branch at `at` and commits it with `message`. */
  const commitFile = async (branch: string, at: string, content: string, message: string) => {
    await fs.writeFile(path.join(t.dir, 'upload.tmp'), content)
    await run('put', 'upload.tmp', `${branch}:${at}`)
    await run('commit', branch, '-m', message)
  }

  beforeAll(async () => {
    t = await tempDir('cli-json')
    await run('init')
    await commitFile('main', 'a.txt', 'base', 'base')
    await run('branch', 'create', 'exp')
    await commitFile('exp', 'a.txt', 'exp', 'exp')
    await commitFile('main', 'a.txt', 'main', 'main')
  }, 60_000)
  afterAll(async () => t?.cleanup())

  it('an error is one JSON document on stderr, with the exit code unchanged', async () => {
    const r = await run('log', 'nosuch', '--json')
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(errorOf(r)).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('nosuch'), details: { ref: 'nosuch' } })
    const usage = await run('log', '--json')
    expect(usage.code).toBe(2)
    expect(errorOf(usage)).toMatchObject({ code: 'INVALID_ARGUMENT', message: "missing required argument 'ref'" })
    const badFlag = await run('status', 'main', '--json', '--bogus')
    expect(badFlag.code).toBe(2)
    expect(errorOf(badFlag).message).toContain("unknown option '--bogus'")
    const count = await run('log', 'main', '-n', 'x', '--json')
    expect(count.code).toBe(2)
    expect(errorOf(count)).toEqual({ code: 'INVALID_ARGUMENT', message: '-n wants a positive whole number, not "x"', details: {} })
    // without --json, the same error is the one-line human form
    expect((await run('log', 'nosuch')).stderr).toMatch(/^error\[NOT_FOUND\]: .*\n$/)
  })

  it('merge --json on a conflict prints the conflict list, and the hint names the real source', async () => {
    const r = await run('merge', 'exp', 'main', '--json')
    expect(r.code).toBe(3)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({ merged: false, source: 'exp', destination: 'main', conflicts: [{ path: 'a.txt', source: 'changed', dest: 'changed' }] })
    expect(out.conflicts[0].sourceEntry.address).not.toBe(out.conflicts[0].destEntry.address) // both sides, as issue 13 asks
    const e = errorOf(r)
    expect(e).toMatchObject({ code: 'MERGE_CONFLICT', details: { branch: 'main', source: 'exp', conflicts: [{ path: 'a.txt' }] } })
    const hint =
      "run: varve merge exp main --dry-run to see both sides of each path, then settle them per path (--resolve 'a.txt=source' or =dest) or all at once (--strategy source-wins or dest-wins)"
    expect(e.hint).toBe(hint)
    const human = await run('merge', 'exp', 'main')
    expect(human.stderr).toContain(`; ${hint}`)
    // and the flags it names are real: the dry run lists the path, the rule settles it
    expect((await run('merge', 'exp', 'main', '--dry-run')).stdout).toContain('a.txt')
    const settled = await run('merge', 'exp', 'main', '--dry-run', '--resolve', 'a.txt=source')
    expect(settled.code, settled.stderr).toBe(0)
  })

  it('merge --json on a refused gate prints the failures (exit 4)', async () => {
    const rules = 'id: need-ok\non: [pre-merge]\nbranches: [main]\nchecks:\n  - { type: required-files, files: "new/**", require: OK }\n'
    await commitFile('main', '_varve/hooks/need-ok.yaml', rules, 'rules')
    await run('branch', 'create', 'feed')
    await commitFile('feed', 'new/b.txt', 'b', 'feed')
    const r = await run('merge', 'feed', 'main', '--json')
    expect(r.code).toBe(4)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({
      merged: false,
      source: 'feed',
      destination: 'main',
      gate: { event: 'pre-merge', failures: [{ hookId: 'need-ok', file: 'new/OK' }] },
    })
    expect(errorOf(r)).toMatchObject({ code: 'HOOK_FAILED', details: { source: 'feed', branch: 'main' } })
  })

  it('hints print real names and flags', async () => {
    await fs.writeFile(path.join(t.dir, 'c.txt'), 'c')
    await run('put', 'c.txt', 'exp:c.txt')
    const dirty = await run('merge', 'main', 'exp')
    expect(dirty.code).toBe(1)
    expect(dirty.stderr).toContain('run: varve status exp, then varve commit exp -m <message>, or drop them: varve reset exp exp --discard-changes')
    await run('branch', 'protect', 'main')
    const prot = await run('put', 'c.txt', 'main:c.txt')
    expect(prot.stderr).toContain('changes reach main by merge: varve branch create my-change --from main, change that branch, then varve merge my-change main')
    // and the flag the DIRTY_BRANCH hint names is real
    const reset = await run('reset', 'exp', 'exp', '--discard-changes')
    expect(reset.code, reset.stderr).toBe(0)
  })
})

describe('varve --help (issue 10)', () => {
  it('every verb and sub-verb shows an example', async () => {
    const t = await tempDir('cli-help')
    try {
      const { buildProgram } = (await import(path.join(path.dirname(VARVE_BIN), 'main.js'))) as typeof import('../packages/cli/src/main.js')
      const verbs: string[][] = []
      const visit = (c: ReturnType<typeof buildProgram>['program'], names: string[]) => {
        for (const s of c.commands) {
          if (s.name().startsWith('__')) continue
          verbs.push([...names, s.name()])
          visit(s, [...names, s.name()])
        }
      }
      visit(buildProgram().program, [])
      expect(verbs.length).toBeGreaterThan(35)
      const missing: string[] = []
      for (const v of verbs) {
        const r = await varve([...v, '--help'], { cwd: t.dir })
        expect(r.code).toBe(0)
        if (!/^Examples?:\n {2}varve /m.test(r.stdout) && !/^Install:\n {2}varve /m.test(r.stdout)) missing.push(v.join(' '))
      }
      expect(missing).toEqual([])
    } finally {
      await t.cleanup()
    }
  }, 300_000)
})

describe('varve completion (issue 10)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let env: NodeJS.ProcessEnv
  beforeAll(async () => {
    t = await tempDir('cli-complete')
    // the scripts call `varve __refs` at TAB time: a `varve` on PATH, in a folder with a repository
    await fs.mkdir(path.join(t.dir, 'bin'))
    await fs.writeFile(path.join(t.dir, 'bin', 'varve'), `#!/bin/sh\nexec "${process.execPath}" "${VARVE_BIN}" "$@"\n`, { mode: 0o755 })
    env = { ...process.env, PATH: `${path.join(t.dir, 'bin')}:${process.env.PATH}`, VARVE_REPO: '' }
    for (const args of [['init'], ['branch', 'create', 'backfill'], ['tag', 'create', 'tag-1', 'main']]) await varve(args, { cwd: t.dir })
    for (const shell of ['bash', 'zsh', 'fish'])
      await fs.writeFile(path.join(t.dir, `varve.${shell}`), (await varve(['completion', shell], { cwd: t.dir })).stdout)
  }, 60_000)
  afterAll(async () => t?.cleanup())
  const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: t.dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

  it('bash completes verbs, flags, and branch and tag names (as name: where an address is wanted)', () => {
    const probe = (words: string[]) =>
      sh('bash', [
        '-c',
        `source varve.bash; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _varve; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ])
        .trim()
        .split('\n')
    expect(probe(['varve', 'bla'])).toEqual(['blame'])
    expect(probe(['varve', 'log', '--gr'])).toEqual(['--graph'])
    expect(probe(['varve', 'merge', 'back'])).toEqual(['backfill'])
    expect(probe(['varve', 'log', 'tag-'])).toEqual(['tag-1'])
    expect(probe(['varve', 'ls', 'ma'])).toEqual(['main:'])
  })

  it.runIf(hasShell('zsh') || !!process.env.CI)('zsh completes verbs and names (compsys stubbed: compadd prints what it is offered)', () => {
    const probe = (words: string[]) =>
      sh('zsh', [
        '-c',
        `compdef() {}; _files() {}; compadd() { local -a a; while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break }; [[ $1 == -S ]] && shift; shift; done; print -l -- "$@" }; source ./varve.zsh; words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; PREFIX='${words.at(-1)}'; _varve`,
      ])
        .trim()
        .split('\n')
        .filter((w) => w.startsWith(words.at(-1)!))
    expect(probe(['varve', 'bla'])).toEqual(['blame'])
    expect(probe(['varve', 'merge', 'back'])).toEqual(['backfill'])
    expect(probe(['varve', 'ls', 'ma'])).toEqual(['main:'])
    expect(probe(['varve', 'log', '--gr'])).toEqual(['--graph'])
  })

  it.runIf(hasShell('fish') || !!process.env.CI)('fish completes verbs, flags and names', () => {
    const probe = (line: string) =>
      sh('fish', ['-c', `source varve.fish; complete -C '${line}'`])
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[0])
    expect(probe('varve bla')).toEqual(['blame'])
    expect(probe('varve log --gr')).toEqual(['--graph'])
    expect(probe('varve merge back')).toContain('backfill')
    expect(probe('varve ls ma')).toContain('main:')
  })
})
