import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import type { RepoContext } from '../context/repo-context.js'
import { LOST_RACE, retryOnLostRace } from '../util/retry.js'
import { getOnBranch } from './branch-view.js'
import { stageChanges } from './stage-changes.js'

/** A put that happens only if the path is absent (`ifNoneMatch: '*'`) or holds exactly `ifMatch` (an address). */
export type PutCondition = { readonly ifNoneMatch: '*' } | { readonly ifMatch: string }

/**
 * How long a conditional write announced but not yet staged counts as present. Its writer stages
 * within milliseconds; one that died before staging never answered, and frees the path after this.
 */
export const PENDING_TTL_MS = 10 * 60_000

interface Pending {
  readonly path: string
  readonly address: string
  readonly at: number
  readonly id: string
}

const settingOf = (branch: string) => `conditional/${branch}`

/**
 * Stages `entry` on `branch` if the condition holds, atomically with respect to every other
 * conditional write on the branch, on one machine or many (S3's If-None-Match / If-Match, what
 * delta-rs commits `_delta_log/N.json` with). Conditional writers of a branch announce their write in
 * one setting, moved by compare-and-swap, before they stage it, and judge the path by the newest
 * announcement as well as by the branch: of two writers racing for an absent path, the second sees
 * the first's announcement and gets PRECONDITION_FAILED even before the first has staged.
 * (docs/decisions/0013-conditional-writes.md)
 */
export async function stageConditionally(ctx: RepoContext, branch: string, entry: Entry, condition: PutCondition): Promise<void> {
  const mine: Pending = { path: entry.path, address: entry.address, at: ctx.clock.now(), id: ctx.random.hex(8) }
  await changePending(ctx, branch, async (pending) => {
    // The setting first (read by changePending), then the branch: a writer whose announcement is
    // gone has staged by then.
    const b = await ctx.refs.getBranch(branch)
    if (!b) throw new VarveError(ErrorCodes.NOT_FOUND, `branch ${branch} not found`, { details: { branch } })
    const now = ctx.clock.now()
    const live = pending.filter((p) => now - p.at < PENDING_TTL_MS)
    const announced = live.filter((p) => p.path === entry.path).at(-1)
    // Another write of the path is announced and not staged yet. For ifNoneMatch the path exists
    // (it is being created): refuse. For ifMatch its content is in flux (that write may stage after
    // ours and undo it): wait for it to land, as S3 answers 409 to a conflicting operation.
    if (announced && 'ifMatch' in condition) return LOST_RACE
    const current = announced ? announced.address : (await getOnBranch(ctx, b, entry.path))?.address
    check(condition, current, branch, entry.path)
    return [...live.filter((p) => p.path !== entry.path), mine]
  })
  await stageChanges(ctx, branch, [{ path: entry.path, entry }])
  // Staged: the branch now shows it, the announcement can go (if this fails, the TTL takes it).
  await changePending(ctx, branch, async (pending) => (pending.some((p) => p.id === mine.id) ? pending.filter((p) => p.id !== mine.id) : 'unchanged')).catch(
    () => undefined,
  )
}

/**
 * Replaces the branch's announcements by compare-and-swap, retried from a fresh read when another
 * writer moved them first; `change` may refuse (throw), ask for a retry (LOST_RACE) or change nothing.
 * Every swap raises `seq` (see State).
 */
async function changePending(
  ctx: RepoContext,
  branch: string,
  change: (pending: readonly Pending[]) => Promise<readonly Pending[] | 'unchanged' | typeof LOST_RACE>,
): Promise<void> {
  const key = settingOf(branch)
  await retryOnLostRace(`conditional put on ${branch}`, ctx.retry, ctx.random, async () => {
    const raw = await ctx.refs.getSetting(key)
    const state = parse(raw)
    const next = await change(state.pending)
    if (next === LOST_RACE) return LOST_RACE
    if (next === 'unchanged') return true
    return (await ctx.refs.compareAndSetSetting(key, raw, JSON.stringify({ seq: state.seq + 1, pending: next } satisfies State))) ? true : LOST_RACE
  })
}

function check(condition: PutCondition, current: string | undefined, branch: string, path: string): void {
  const fail = (why: string) => {
    throw new VarveError(ErrorCodes.PRECONDITION_FAILED, `${branch}:${path} ${why}`, { details: { branch, path, current: current ?? null } })
  }
  if ('ifNoneMatch' in condition) {
    if (condition.ifNoneMatch !== '*') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, "ifNoneMatch takes '*' only (the path must not exist)")
    if (current !== undefined) fail('already exists (ifNoneMatch: *)')
    return
  }
  if (typeof condition.ifMatch !== 'string' || !condition.ifMatch)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'ifMatch takes the address (ETag) the path must hold')
  if (current !== condition.ifMatch.replace(/^"|"$/g, ''))
    fail(current === undefined ? 'does not exist (ifMatch)' : `holds ${current.slice(0, 12)}, not ${condition.ifMatch.slice(0, 12)} (ifMatch)`)
}

/**
 * The setting's value. `seq` grows with every change: without it, a writer that read the value
 * before another announced and cleared its write would find the same text again and win its swap
 * (ABA), though the other's write landed in between (seen on MinIO: two winners of one version).
 */
interface State {
  readonly seq: number
  readonly pending: readonly Pending[]
}

function parse(raw: string | undefined): State {
  if (raw === undefined) return { seq: 0, pending: [] }
  try {
    const v = JSON.parse(raw) as { seq?: unknown; pending?: unknown }
    const seq = typeof v.seq === 'number' && Number.isSafeInteger(v.seq) ? v.seq : 0
    const pending = Array.isArray(v.pending)
      ? (v.pending as Pending[]).filter((p) => p && typeof p.path === 'string' && typeof p.address === 'string' && typeof p.at === 'number')
      : []
    return { seq, pending }
  } catch {
    return { seq: 0, pending: [] }
  }
}
