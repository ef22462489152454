import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ForwardingRefStore,
  LocalBlockStore,
  Repository,
  SqliteRefStore,
  VarveError,
  type BranchRecord,
  type BranchState,
  type RefLogEntry,
  type StagedChange,
} from '../src/index.js'
import { collect, tempDir } from './helpers.js'

// A process merging a request dies at every write to the ref store, before or after the write
// lands. Another process then merges the request again: it ends merged, with exactly one merge
// commit on the destination, and that is the commit the request records.

class Crash extends Error {}

/** Forwards until the `at`-th write, which it loses (before) or makes and then dies (after); then refuses everything. */
class CrashingRefStore extends ForwardingRefStore {
  writes = 0
  dead = false
  constructor(
    inner: SqliteRefStore,
    private readonly at: number,
    private readonly after: boolean,
  ) {
    super(inner)
  }
  async #write<T>(op: () => Promise<T>): Promise<T> {
    if (this.dead) throw new Crash('dead')
    if (this.writes++ !== this.at) return op()
    this.dead = true
    if (this.after) await op()
    throw new Crash(`crashed at write ${this.at}`)
  }
  override compareAndSetSetting(key: string, expected: string | undefined, next: string, log?: RefLogEntry) {
    return this.#write(() => super.compareAndSetSetting(key, expected, next, log))
  }
  override updateBranch(expected: BranchRecord, next: BranchState, log?: RefLogEntry) {
    return this.#write(() => super.updateBranch(expected, next, log))
  }
  override putStaged(token: string, changes: readonly StagedChange[]) {
    return this.#write(() => super.putStaged(token, changes))
  }
  override dropStaged(token: string) {
    return this.#write(() => super.dropStaged(token))
  }
  override setSetting(key: string, value: string | null) {
    return this.#write(() => super.setSetting(key, value))
  }
}

let t: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => {
  t = await tempDir('varve-mr-crash')
})
afterAll(async () => t.cleanup())

async function lakeWithApprovedRequest(dir: string): Promise<number> {
  const repo = await Repository.init(dir, { durable: false, author: 'ann' })
  await repo.put('main', 'a', '1')
  await repo.commit('main', { message: 'a' })
  await repo.protectBranch('main', { requiredApprovals: 1 })
  await repo.createBranch('feature')
  await repo.put('feature', 'b', '2')
  await repo.commit('feature', { message: 'b' })
  const id = await repo.openMergeRequest('feature', 'main', { title: 'b' })
  await repo.approve(id, { reviewer: 'bob' })
  await repo.close()
  return id
}

describe('a merge of a request survives a crash at every ref-store write', () => {
  it('before and after each write, a second merge finishes it: merged once, recorded as that commit', async () => {
    // How many writes a clean merge makes.
    const probeDir = path.join(t.dir, 'probe')
    const probeId = await lakeWithApprovedRequest(probeDir)
    const probe = new CrashingRefStore(new SqliteRefStore(path.join(probeDir, 'refs.sqlite3')), -1, false)
    const clean = await Repository.open({ blocks: new LocalBlockStore(path.join(probeDir, 'blocks')), refs: probe })
    await clean.mergeMergeRequest(probeId)
    await clean.close()
    const writes = probe.writes
    expect(writes).toBeGreaterThanOrEqual(3) // claim, branch move, merged

    let cases = 0
    let claimsSeen = 0
    for (let at = 0; at < writes; at++)
      for (const after of [false, true]) {
        const dir = path.join(t.dir, `crash-${at}-${after}`)
        const id = await lakeWithApprovedRequest(dir)
        const refs = new CrashingRefStore(new SqliteRefStore(path.join(dir, 'refs.sqlite3')), at, after)
        const dying = await Repository.open({ blocks: new LocalBlockStore(path.join(dir, 'blocks')), refs })
        const err = await dying.mergeMergeRequest(id).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(err, `write ${at} ${after ? 'after' : 'before'}`).toBeDefined()
        expect(VarveError.is(err) ? err.code : 'crash').not.toBe('APPROVAL_REQUIRED')
        await (refs.inner as SqliteRefStore).close()

        const repo = await Repository.open(dir, { durable: false })
        const left = await repo.mergeRequest(id)
        if (left.merging && left.state === 'open') {
          // A claim left by the dead process: nothing may change the request under it but a merge.
          for (const attempt of [() => repo.unapprove(id, { reviewer: 'bob' }), () => repo.closeMergeRequest(id)])
            expect(
              await attempt().then(
                () => 'ok',
                (e: unknown) => (VarveError.is(e) ? e.code : 'crash'),
              ),
            ).toBe('CONFLICT')
          claimsSeen++
        }
        const again = await repo.mergeMergeRequest(id).then(
          (r) => r.commit.id,
          (e: unknown) => (VarveError.is(e, 'MERGE_REQUEST_NOT_OPEN') ? 'already' : Promise.reject(e)),
        )
        const view = await repo.mergeRequest(id)
        expect(view.state, `write ${at} ${after ? 'after' : 'before'}`).toBe('merged')
        expect(view.merging).toBeUndefined()
        const merges = (await collect(repo.log('main', { firstParent: true }))).filter((c) => c.metadata['varve.merge-request'] === id)
        expect(merges).toHaveLength(1)
        expect(view.merged!.commit).toBe(merges[0]!.id)
        if (again !== 'already') expect(again).toBe(merges[0]!.id)
        expect(Buffer.from(await repo.get('main', 'b')).toString()).toBe('2')
        await repo.close()
        cases++
      }
    expect(cases).toBe(writes * 2)
    expect(claimsSeen).toBeGreaterThan(0)
  }, 120_000)
})
