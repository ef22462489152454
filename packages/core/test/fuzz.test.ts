import fc from 'fast-check'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseContract, Repository, VarveError } from '@varve/core'
import { collect, tempDir } from './helpers.js'

// Random bytes and strings as paths, refs, branch names, rules files and contents: every call either
// works or fails with a VarveError that has a code; never a crash, a hang or a change from a failure.
const RUNS = Number(process.env.VARVE_FUZZ_RUNS ?? 150)
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme-composite', maxLength: 20 }),
  fc.constantFrom('', '.', '..', '/', 'a//b', 'main', 'main~1', 'main^2', 'x:y', '@{u}', 'a.lock', '-x', 'ok/name', '\0', 'ab'.repeat(3000)),
)

let t: Awaited<ReturnType<typeof tempDir>>
let repo: Repository
beforeAll(async () => {
  t = await tempDir('fuzz')
  repo = await Repository.init(path.join(t.dir, 'lake'), { durable: false })
  await repo.put('main', 'seed.txt', 'seed')
  await repo.commit('main', { message: 'seed' })
})
afterAll(async () => {
  await repo.close()
  await t.cleanup()
})

async function state() {
  const branches = await collect(repo.branches())
  const tags = await collect(repo.tags())
  return JSON.stringify({ branches, tags })
}

async function expectTyped(call: () => Promise<unknown>): Promise<'ok' | string> {
  const before = await state()
  try {
    await call()
    return 'ok'
  } catch (e) {
    expect(e, `threw ${e}`).toBeInstanceOf(VarveError)
    expect(typeof (e as VarveError).code).toBe('string')
    expect(await state()).toBe(before) // a failure changed nothing
    return (e as VarveError).code
  }
}

describe('fuzz', () => {
  it('paths, refs and names', async () => {
    await fc.assert(
      fc.asyncProperty(anyString, anyString, fc.uint8Array({ maxLength: 64 }), async (a, b, bytes) => {
        await expectTyped(() => repo.stat('main', a))
        await expectTyped(() => repo.resolve(a))
        await expectTyped(() => collect(repo.list(a, { prefix: b })))
        await expectTyped(() => collect(repo.list('main', { prefix: a, after: b, delimiter: b.slice(0, 2) })))
        await expectTyped(() => collect(repo.diff(a, b)))
        await expectTyped(() => repo.merge(a, b))
        await expectTyped(() => repo.createTag(a, b))
        const created = await expectTyped(() => repo.createBranch(a, { from: 'main' }))
        if (created === 'ok') await repo.deleteBranch(a)
        const put = await expectTyped(() => repo.put('fuzz', a, bytes))
        expect(['ok', 'NOT_FOUND', 'INVALID_PATH', 'INVALID_REF']).toContain(put)
      }),
      { numRuns: RUNS, seed: 99 },
    )
  })

  it('object contents round-trip exactly', async () => {
    await repo.createBranch('fuzz').catch(() => {})
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), async (bytes) => {
        await repo.put('fuzz', 'blob', bytes)
        expect(Buffer.from(await repo.get('fuzz', 'blob')).equals(Buffer.from(bytes))).toBe(true)
      }),
      { numRuns: RUNS, seed: 7 },
    )
  })

  it('rules files: any text is a valid contract or INVALID_CONFIG with a line, never a crash', async () => {
    const yamlish = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .array(
          fc.constantFrom(
            'id: x\n',
            'on: [pre-merge]\n',
            'checks:\n',
            '  - type: row-count\n',
            '    files: "**"\n',
            '    min: 1\n',
            '  - {type: unique}\n',
            'branches: [main\n',
            '  : :\n',
            '- a\n',
            '    columns: 3\n',
            'timeoutMs: -1\n',
            '&a [*a]\n',
          ),
          { maxLength: 12 },
        )
        .map((l) => l.join('')),
    )
    await fc.assert(
      fc.property(yamlish, (text) => {
        try {
          parseContract('_varve/hooks/fuzz.yaml', text)
        } catch (e) {
          expect(e).toBeInstanceOf(VarveError)
          expect((e as VarveError).code).toBe('INVALID_CONFIG')
          expect((e as VarveError).message).toMatch(/^_varve\/hooks\/fuzz\.yaml:\d+: /)
        }
      }),
      { numRuns: RUNS * 4, seed: 3 },
    )
  })
})

describe('hostile signatures and allowed-signers files (issue 22)', () => {
  it('random armored text, random wire bytes and random allowed-signers lines never throw past a result, and never verify', async () => {
    const { parseAllowedSigners, parseSshSignature } = await import('@varve/core')
    const armored = fc.oneof(
      anyString,
      fc
        .uint8Array({ maxLength: 600 })
        .map((b) => `-----BEGIN SSH SIGNATURE-----\n${Buffer.concat([Buffer.from('SSHSIG'), Buffer.from(b)]).toString('base64')}\n-----END SSH SIGNATURE-----`),
      // plausible headers with absurd lengths
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => {
        const x = Buffer.alloc(14)
        x.write('SSHSIG')
        x.writeUInt32BE(1, 6)
        x.writeUInt32BE(a, 10)
        return `-----BEGIN SSH SIGNATURE-----\n${Buffer.concat([x, Buffer.alloc(b % 64)]).toString('base64')}\n-----END SSH SIGNATURE-----`
      }),
    )
    await fc.assert(
      fc.asyncProperty(armored, fc.array(anyString, { maxLength: 5 }), async (sig, lines) => {
        const signers = parseAllowedSigners(lines.join('\n'))
        expect(Array.isArray(signers)).toBe(true)
        try {
          parseSshSignature(sig)
        } catch (e) {
          expect(e).toBeInstanceOf(VarveError)
        }
      }),
      { numRuns: RUNS },
    )
  })
})
