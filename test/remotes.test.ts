import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository } from '@varve/core'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { collect, tempDir } from './helpers/processes.js'
import { s3CliEnv, varve } from './helpers/varve-cli.js'

// Issue 27 through the built CLI, against real MinIO servers: clone into <dir>/.varve, push to a
// location holding nothing yet, partial and lazy clones, S3 to S3 across two servers with their own
// credentials, two machines pushing to one branch at once, and a protected remote branch.

let a: TestS3
let b: TestS3
const bucket = `varve-remotes-${randomBytes(4).toString('hex')}`
beforeAll(async () => {
  await import('@varve/s3-adapter')
  a = await startTestS3()
  // A second server with a root user of its own: a remote on another account.
  b = await startTestS3({ credentials: { accessKeyId: 'otheraccount', secretAccessKey: 'otheraccount-secret' } })
  await a.createBucket(bucket)
  await b.createBucket(bucket)
}, 180_000)
afterAll(async () => {
  await a?.stop()
  await b?.stop()
})

const ok = async (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => {
  const r = await varve(args, { cwd, env: { VARVE_AUTHOR: 'ann', ...env }, timeoutMs: 180_000 })
  if (r.code !== 0) throw new Error(`varve ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r
}
const fails = async (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => {
  const r = await varve(args, { cwd, env: { VARVE_AUTHOR: 'ann', ...env }, timeoutMs: 180_000 })
  expect(r.code, `varve ${args.join(' ')} should fail`).not.toBe(0)
  return r
}

/** A working folder with a repository: train/ (two packs' worth) and eval/ committed on main. */
async function project(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'data', 'train'), { recursive: true })
  await fs.mkdir(path.join(dir, 'data', 'eval'), { recursive: true })
  for (let i = 0; i < 40; i++) await fs.writeFile(path.join(dir, 'data', 'train', `t${i}.txt`), `train ${i}\n`)
  for (let i = 0; i < 5; i++) await fs.writeFile(path.join(dir, 'data', 'eval', `e${i}.txt`), `eval ${i}\n`)
  await ok(['init'], dir)
  await ok(['put', 'data/train', 'main:train/'], dir)
  await ok(['put', 'data/eval', 'main:eval/'], dir)
  await ok(['commit', 'main', '-m', 'first'], dir)
}

describe('varve clone / remote / fetch / push / pull (CLI, MinIO)', () => {
  it('moves a repository: local folder → S3 (created on push) → a clone in <dir>/.varve, and back', async () => {
    const t = await tempDir('remotes-cli')
    const env = s3CliEnv(a.options)
    try {
      const proj = path.join(t.dir, 'proj')
      await fs.mkdir(proj)
      await project(proj)
      const location = `s3://${bucket}/moved-${randomBytes(3).toString('hex')}`
      await ok(['remote', 'add', 'origin', location], proj, env)
      const pushed = JSON.parse((await ok(['push', 'origin', 'main', '--json'], proj, env)).stdout)
      expect(pushed.updates).toEqual([expect.objectContaining({ ref: 'main', status: 'new' })])
      expect(pushed.transferred.objects).toBe(45)

      const cloned = JSON.parse((await ok(['clone', location, 'copy', '--json'], t.dir, env)).stdout)
      expect(cloned).toMatchObject({ repository: path.join(t.dir, 'copy', '.varve'), objects: 45 })
      const copy = path.join(t.dir, 'copy')
      // Commands inside <dir> find <dir>/.varve, as git's do.
      expect((await ok(['cat', 'main:eval/e3.txt'], copy)).stdout).toBe('eval 3\n')
      expect((await ok(['log', 'origin/main', '--oneline'], copy)).stdout).toContain('first')
      expect((await ok(['remote', 'list'], copy)).stdout).toContain(location)
      expect((await ok(['branch', 'list', '-r'], copy)).stdout).toMatch(/^origin\/main\s+[0-9a-f]{12}/m)

      // A change made in the clone goes back; the project pulls it (a fast-forward).
      await fs.writeFile(path.join(t.dir, 'note.txt'), 'from the clone\n')
      await ok(['put', path.join(t.dir, 'note.txt'), 'main:note.txt'], copy)
      await ok(['commit', 'main', '-m', 'a note'], copy)
      await ok(['push'], copy, env)
      expect((await ok(['pull'], proj, env)).stdout).toContain('fast-forwarded')
      expect((await ok(['cat', 'main:note.txt'], proj)).stdout).toBe('from the clone\n')
      expect((await ok(['fetch'], proj, env)).stdout).toContain('up to date')
      expect((await ok(['verify', '--full'], proj)).code).toBe(0)
    } finally {
      await t.cleanup()
    }
  }, 600_000)

  it('a partial clone refuses reads outside its prefix with NOT_FETCHED; a lazy one fetches them', async () => {
    const t = await tempDir('remotes-partial')
    try {
      const proj = path.join(t.dir, 'proj')
      await fs.mkdir(proj)
      await project(proj)
      await ok(['clone', proj, 'part', '--prefix', 'eval/'], t.dir)
      const part = path.join(t.dir, 'part')
      expect((await ok(['cat', 'main:eval/e1.txt'], part)).stdout).toBe('eval 1\n')
      const refused = await fails(['cat', 'main:train/t1.txt'], part)
      expect(refused.stderr).toMatch(/NOT_FETCHED.*under "eval\/" only/)
      expect((await ok(['ls', 'main:train/'], part)).stdout).toContain('t39.txt') // listing needs no data

      await ok(['clone', proj, 'lazy', '--lazy'], t.dir)
      const lazy = path.join(t.dir, 'lazy')
      const blocks = path.join(lazy, '.varve', 'blocks', 'packs')
      expect(await fs.readdir(blocks).catch(() => [])).toHaveLength(1) // tree nodes only
      expect((await ok(['cat', 'main:train/t7.txt'], lazy)).stdout).toBe('train 7\n')
      expect((await fs.readdir(blocks)).length).toBeGreaterThan(1) // the pack holding it is here now
    } finally {
      await t.cleanup()
    }
  }, 600_000)

  it('S3 → S3 across two servers, each with its own endpoint and credentials', async () => {
    const t = await tempDir('remotes-s3s3')
    try {
      const here = `s3://${bucket}/s3s3-${randomBytes(3).toString('hex')}`
      const repo = await Repository.init(here, { s3: a.options, author: 'ann' })
      await repo.putMany(
        'main',
        Array.from({ length: 30 }, (_, i) => ({ path: `x/${i}.txt`, data: `x ${i}` })),
      )
      await repo.put('main', 'big.bin', randomBytes(9 * 1024 * 1024))
      await repo.commit('main', { message: 'on a' })
      const head = await repo.resolve('main')
      await repo.close()
      const there = `s3://${bucket}/s3s3-copy`
      // The CLI's own S3 settings reach server a; the remote names server b and its own keys.
      const env = {
        ...s3CliEnv(a.options),
        VARVE_REMOTE_OTHER_ACCESS_KEY_ID: b.options.credentials!.accessKeyId,
        VARVE_REMOTE_OTHER_SECRET_ACCESS_KEY: b.options.credentials!.secretAccessKey,
      }
      await ok(['--repo', here, 'remote', 'add', 'other', there, '--endpoint', b.options.endpoint!, '--path-style'], t.dir, env)
      await ok(['--repo', here, 'push', 'other', 'main'], t.dir, env)
      const copy = await Repository.open(there, { s3: b.options })
      expect(await copy.resolve('main')).toBe(head)
      expect((await copy.get('main', 'big.bin')).byteLength).toBe(9 * 1024 * 1024)
      expect((await copy.verify({ full: true })).problems).toEqual([])
      await copy.close()
      // Without the remote's keys, server b refuses server a's.
      const denied = await fails(['--repo', here, 'fetch', 'other'], t.dir, s3CliEnv(a.options))
      expect(denied.stderr).toMatch(/error\[/)
    } finally {
      await t.cleanup()
    }
  }, 600_000)

  for (const where of ['local', 's3'] as const)
    it(`two machines push to one ${where} branch at once: one wins, the other is refused, nothing is lost`, async () => {
      const t = await tempDir('remotes-race')
      const env = where === 's3' ? s3CliEnv(a.options) : {}
      try {
        const origin = where === 's3' ? `s3://${bucket}/race-${randomBytes(3).toString('hex')}` : path.join(t.dir, 'origin')
        await ok(['init', origin], t.dir, env)
        for (const m of ['m1', 'm2']) await ok(['clone', origin, m], t.dir, env)
        for (let round = 0; round < 3; round++) {
          for (const m of ['m1', 'm2']) {
            await fs.writeFile(path.join(t.dir, `${m}-${round}.txt`), `${m} round ${round}\n`)
            await ok(['put', path.join(t.dir, `${m}-${round}.txt`), `main:${m}/${round}.txt`], path.join(t.dir, m))
            await ok(['commit', 'main', '-m', `${m} ${round}`], path.join(t.dir, m))
          }
          const results = await Promise.all(
            ['m1', 'm2'].map((m) => varve(['push'], { cwd: path.join(t.dir, m), env: { ...env, VARVE_AUTHOR: m }, timeoutMs: 180_000 })),
          )
          const won = results.filter((r) => r.code === 0)
          expect(won, results.map((r) => r.stderr).join('\n')).toHaveLength(1)
          const lost = results.find((r) => r.code !== 0)!
          expect(lost.stderr).toMatch(/NOT_FAST_FORWARD.*varve pull/)
          const loser = ['m1', 'm2'][results.indexOf(lost)]!
          await ok(['pull'], path.join(t.dir, loser), env)
          await ok(['push'], path.join(t.dir, loser), env)
          await ok(['pull'], path.join(t.dir, loser === 'm1' ? 'm2' : 'm1'), env)
        }
        const check = path.join(t.dir, 'check')
        await ok(['clone', origin, check], t.dir, env)
        for (let round = 0; round < 3; round++)
          for (const m of ['m1', 'm2']) expect((await ok(['cat', `main:${m}/${round}.txt`], check)).stdout).toBe(`${m} round ${round}\n`)
        expect((await ok(['verify', '--full'], check)).code).toBe(0)
      } finally {
        await t.cleanup()
      }
    }, 900_000)

  it("the remote's protection and gates decide on a push as on a merge there", async () => {
    const t = await tempDir('remotes-protected')
    try {
      const originDir = path.join(t.dir, 'origin')
      const origin = await Repository.init(originDir, { author: 'admin' })
      await origin.put(
        'main',
        '_varve/hooks/no-csv.yaml',
        'id: no-csv\non: [pre-merge]\nbranches: [main]\nchecks:\n  - { type: path-pattern, forbid: ["[.]csv$"] }\n',
      )
      await origin.commit('main', { message: 'rules' })
      await origin.close()
      await ok(['clone', originDir, 'work'], t.dir)
      const work = path.join(t.dir, 'work')
      await fs.writeFile(path.join(t.dir, 'bad.csv'), 'a,b\n')
      await ok(['put', path.join(t.dir, 'bad.csv'), 'main:bad.csv'], work)
      await ok(['commit', 'main', '-m', 'a csv'], work)
      const gated = await fails(['push'], work)
      expect(gated.code).toBe(4)
      expect(gated.stderr).toContain('HOOK_FAILED')
      await ok(['rm', 'main:bad.csv'], work)
      await ok(['commit', 'main', '-m', 'no csv'], work)

      const again = await Repository.open(originDir)
      const before = await again.resolve('main')
      await again.protectBranch('main', { requiredApprovals: 1 })
      await again.close()
      const needsReview = await fails(['push'], work)
      expect(needsReview.stderr).toMatch(/APPROVAL_REQUIRED.*merge request/)
      // --merge-request sends it to push/main/<head> there and opens the request into main.
      const opened = await ok(['push', '--merge-request', '--title', 'the csv is gone'], work)
      expect(opened.stdout).toMatch(/Opened merge request #1 on origin: push\/main\/[0-9a-f]{12} → main/)
      const reviewed = await Repository.open(originDir)
      const [mr] = await collect(reviewed.mergeRequests())
      expect(mr).toMatchObject({ id: 1, title: 'the csv is gone', dest: 'main', state: 'open' })
      await reviewed.close()
      // Pushed to another branch instead, it is reviewed there.
      await ok(['branch', 'create', 'review'], work)
      await ok(['push', 'origin', 'review'], work)
      const after = await Repository.open(originDir)
      expect(await after.resolve('main')).toBe(before)
      expect(await after.resolve('review')).toBe(
        await (async () => {
          const w = await Repository.open(path.join(work, '.varve'))
          const h = await w.resolve('main')
          await w.close()
          return h
        })(),
      )
      await after.close()
    } finally {
      await t.cleanup()
    }
  }, 600_000)
})
