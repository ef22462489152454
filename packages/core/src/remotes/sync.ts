import { mergeBase } from '../commits/history.js'
import type { RepoContext } from '../context/repo-context.js'
import { newStagingToken } from '../context/repo-context.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { assertAllowed, getProtection } from '../hooks/branch-protection.js'
import { getPin, listPins, setPin, type PinRecord } from '../refs/pins.js'
import type { RefStore, TagRecord } from '../stores/ref-store.js'
import { validateRefName } from '../util/ref-names.js'
import { isDirty } from '../staging/branch-view.js'
import { moveHead } from './move-head.js'
import { listTracking, moveTracking } from './remote-settings.js'
import { Transfer, type TransferOptions, type TransferProgress } from './transfer.js'

export interface RefUpdate {
  /** A branch name, `tag:<name>` or `pin:<name>`. */
  readonly ref: string
  readonly old: string | null
  readonly new: string | null
  /** 'new', 'fast-forward', 'forced', 'up-to-date', 'deleted', or 'rejected' (with `reason`). */
  readonly status: 'new' | 'fast-forward' | 'forced' | 'up-to-date' | 'deleted' | 'rejected'
  readonly reason?: string
}

export interface SyncResult {
  readonly remote: string
  readonly updates: readonly RefUpdate[]
  readonly transferred: TransferProgress
  /** Merge requests a push opened at the remote (`mergeRequest`). */
  readonly mergeRequests?: readonly { readonly id: number; readonly source: string; readonly destination: string }[]
}

export interface FetchSpec extends Omit<TransferOptions, 'fresh'> {
  /** Branches to fetch (default: every branch of the remote). */
  readonly branches?: readonly string[]
  readonly tags?: boolean
  readonly pins?: boolean
  /** Drop remote-tracking refs of branches the remote no longer has (only when fetching every branch). */
  readonly prune?: boolean
  readonly fresh?: boolean
  readonly author: string
}

/**
 * Fetches from `remote` into `local` (decision 0019): the remote's heads are compared with the
 * remote-tracking refs, and only moved heads are transferred; then each `<remote>/<branch>` moves by
 * compare-and-swap. A fetch that finds every head where it was transfers nothing.
 */
export async function fetchFrom(local: RepoContext, remote: RepoContext, name: string, spec: FetchSpec): Promise<SyncResult> {
  const heads = new Map<string, string>()
  if (spec.branches?.length) {
    for (const b of spec.branches) {
      const rb = await remote.refs.getBranch(validateRefName(b))
      if (!rb) throw new VarveError(ErrorCodes.NOT_FOUND, `the remote ${name} has no branch ${b}`, { details: { remote: name, branch: b } })
      heads.set(b, rb.head)
    }
  } else for await (const b of remote.refs.listBranches()) heads.set(b.name, b.head)
  const tracked = new Map((await listTracking(local.refs, name)).map((t) => [t.branch, t.commit]))
  const tags = spec.tags ? await collect(remote.refs.listTags()) : []
  const pins = spec.pins ? await collect(listPins(remote.refs)) : []

  const wanted = new Set<string>()
  for (const [b, head] of heads) if (tracked.get(b) !== head) wanted.add(head)
  for (const t of tags) if ((await local.refs.getTag(t.name))?.commit !== t.commit) wanted.add(t.commit)
  for (const p of pins) if ((await getPin(local.refs, p.name))?.commit !== p.commit) wanted.add(p.commit)

  const updates: RefUpdate[] = []
  const { fresh, author, ...transfer } = spec
  const transferred = await local.fence.run(async (objects) => {
    const progress = await new Transfer(remote.objects, objects, { ...transfer, ...(fresh ? { fresh } : {}) }).commits([...wanted])
    const at = local.clock.now()
    for (const [b, head] of heads) {
      const old = tracked.get(b)
      if (old === head) continue
      const moved = await moveTracking(local.refs, name, b, old, head, { author, at, operation: 'fetch' })
      updates.push(
        moved
          ? { ref: b, old: old ?? null, new: head, status: old === undefined ? 'new' : 'fast-forward' }
          : { ref: b, old: old ?? null, new: head, status: 'rejected', reason: 'another fetch moved it meanwhile' },
      )
    }
    updates.push(...(await carryTagsAndPins(local.refs, tags, pins, { operation: 'fetch', author, at, where: 'a local tag' })))
    if (spec.prune && !spec.branches?.length)
      for (const [b, old] of tracked)
        if (!heads.has(b) && (await moveTracking(local.refs, name, b, old, null, { author, at, operation: 'prune' })))
          updates.push({ ref: b, old, new: null, status: 'deleted' })
    return progress
  })
  return { remote: name, updates, transferred }
}

export interface PushSpec extends Omit<TransferOptions, 'prefix' | 'lazy' | 'fresh'> {
  readonly branches: readonly string[]
  /** Local branch → the remote branch it is pushed to (default: the same name). */
  readonly targets?: Readonly<Record<string, string>>
  /** Replace the remote branch whatever it holds (a reset there: its protection must allow resets). */
  readonly force?: boolean
  /**
   * Replace it only if it is where we last saw it: `true` compares with the remote-tracking ref
   * (absent: the branch must not exist), a commit id with that commit (git's --force-with-lease).
   */
  readonly forceWithLease?: boolean | string
  readonly tags?: boolean
  readonly pins?: boolean
  readonly fresh?: boolean
  readonly author: string
}

/**
 * Pushes local branches to `remote`: objects first, then each remote branch moves by
 * compare-and-swap, only as a fast-forward unless forced (decision 0019). The remote's branch
 * protection and gates decide as they would for a merge there.
 */
export async function pushTo(local: RepoContext, remote: RepoContext, name: string, spec: PushSpec): Promise<SyncResult> {
  const plans: { branch: string; head: string; expected: string | undefined; remoteHead: string | undefined; forced: boolean }[] = []
  const trackedAtStart = new Map((await listTracking(local.refs, name)).map((t) => [t.branch, t.commit]))
  for (const localBranch of spec.branches) {
    validateRefName(localBranch)
    const mine = await local.refs.getBranch(localBranch)
    if (!mine) throw new VarveError(ErrorCodes.NOT_FOUND, `no local branch ${localBranch} to push`, { details: { branch: localBranch } })
    // The remote branch it goes to: its own name, or the one `targets` gives (a merge request's source).
    const branch = validateRefName(spec.targets?.[localBranch] ?? localBranch)
    const theirs = await remote.refs.getBranch(branch)
    const tracked = trackedAtStart.get(branch)
    const lease = spec.forceWithLease === true ? tracked : typeof spec.forceWithLease === 'string' ? spec.forceWithLease : undefined
    if (spec.forceWithLease !== undefined && spec.forceWithLease !== false && theirs?.head !== lease)
      throw new VarveError(
        ErrorCodes.NOT_FAST_FORWARD,
        `push to ${name}/${branch} rejected: the remote branch is at ${theirs ? theirs.head.slice(0, 12) : '(none)'}, not at ${lease ? lease.slice(0, 12) : '(none)'} as the lease expects (varve fetch ${name}, then look)`,
        { details: { remote: name, branch, remoteHead: theirs?.head ?? null, expected: lease ?? null } },
      )
    let forced = false
    if (theirs && theirs.head !== mine.head) {
      const fastForward = (await local.objects.hasCommit(theirs.head)) && (await mergeBase(local.objects, theirs.head, mine.head)) === theirs.head
      if (!fastForward && !spec.force && !spec.forceWithLease)
        throw new VarveError(
          ErrorCodes.NOT_FAST_FORWARD,
          `push to ${name}/${branch} rejected: the remote branch is at ${theirs.head.slice(0, 12)}, which ${localBranch} does not contain (varve pull ${name} ${branch}, then push again)`,
          { details: { remote: name, branch, remoteHead: theirs.head, localHead: mine.head } },
        )
      forced = !fastForward
    }
    plans.push({ branch, head: mine.head, expected: theirs?.head, remoteHead: theirs?.head, forced })
  }

  // The remote's rules, before anything is sent: a refusal costs no transfer.
  for (const p of plans) {
    if (p.remoteHead === p.head) continue
    if (p.remoteHead !== undefined) {
      const rules = await getProtection(remote.refs, p.branch)
      if (rules?.requireMergeRequest)
        throw new VarveError(
          ErrorCodes.APPROVAL_REQUIRED,
          `${name}/${p.branch} takes changes through approved merge requests only: push to another branch, then open a merge request there (varve mr open <branch> ${p.branch})`,
          { details: { remote: name, branch: p.branch, required: rules.requiredApprovals } },
        )
      await assertAllowed(remote.refs, p.branch, p.forced ? 'reset' : 'directCommits')
      const b = await remote.refs.getBranch(p.branch)
      if (b && (await isDirty(remote, b)))
        throw new VarveError(ErrorCodes.DIRTY_BRANCH, `${name}/${p.branch} has uncommitted changes: commit them there first, then pull and push`, {
          details: { remote: name, branch: p.branch },
        })
    }
  }

  const tags = spec.tags ? await collect(local.refs.listTags()) : []
  const pins = spec.pins ? await collect(listPins(local.refs)) : []
  const { force: _f, forceWithLease: _l, fresh, author, branches: _b, tags: _t, pins: _p, ...transfer } = spec
  const updates: RefUpdate[] = []
  const transferred = await remote.fence.run(async (objects) => {
    const want = [...plans.filter((p) => p.remoteHead !== p.head).map((p) => p.head), ...tags.map((t) => t.commit), ...pins.map((p) => p.commit)]
    const progress = await new Transfer(local.objects, objects, { ...transfer, ...(fresh ? { fresh } : {}) }).commits(want)
    const at = remote.clock.now()
    for (const p of plans) {
      const tracked = (await listTracking(local.refs, name)).find((t) => t.branch === p.branch)?.commit
      const track = () => moveTracking(local.refs, name, p.branch, tracked, p.head, { author, at: local.clock.now(), operation: 'push' })
      if (p.remoteHead === p.head) {
        if (tracked !== p.head) await track()
        updates.push({ ref: p.branch, old: p.head, new: p.head, status: 'up-to-date' })
        continue
      }
      const gate = { branch: p.branch, source: `push from ${local.location}`, candidate: p.head, ...(p.remoteHead ? { base: p.remoteHead } : {}) }
      await remote.gates.pre({ event: p.remoteHead === undefined ? 'pre-create-branch' : 'pre-merge', ...gate })
      const log = { operation: 'push', author, message: `push from ${local.location}` }
      let moved: boolean
      if (p.remoteHead === undefined) {
        moved = await remote.refs
          .createBranch(
            { name: p.branch, head: p.head, stagingToken: newStagingToken(remote), sealedTokens: [] },
            { ref: `branch:${p.branch}`, old: null, new: p.head, at, ...log },
          )
          .then(
            () => true,
            (e) => (VarveError.is(e, ErrorCodes.BRANCH_EXISTS) ? false : Promise.reject(e)),
          )
      } else {
        const b = await remote.refs.getBranch(p.branch)
        moved = b !== undefined && b.head === p.remoteHead && (await moveHead(remote, b, p.head, log))
      }
      if (!moved)
        throw new VarveError(
          ErrorCodes.NOT_FAST_FORWARD,
          `push to ${name}/${p.branch} rejected: the remote branch moved while this push ran (varve pull ${name} ${p.branch}, then push again)`,
          { details: { remote: name, branch: p.branch, expected: p.remoteHead ?? null } },
        )
      updates.push({ ref: p.branch, old: p.remoteHead ?? null, new: p.head, status: p.remoteHead === undefined ? 'new' : p.forced ? 'forced' : 'fast-forward' })
      if (p.remoteHead !== undefined) await remote.gates.post({ event: 'post-merge', ...gate })
      await track()
    }
    updates.push(...(await carryTagsAndPins(remote.refs, tags, pins, { operation: 'push', author, at, where: 'the remote has a tag' })))
    return progress
  })
  return { remote: name, updates, transferred }
}

/**
 * Creates the tags and sets the pins `to` lacks (fetch: the local repository; push: the remote). A tag
 * never moves: one of the same name naming another commit is reported rejected. A pin may be moved
 * on purpose (re-pinning a training set), so it follows.
 */
async function carryTagsAndPins(
  to: RefStore,
  tags: readonly TagRecord[],
  pins: readonly PinRecord[],
  log: { operation: string; author: string; at: number; where: string },
): Promise<RefUpdate[]> {
  const updates: RefUpdate[] = []
  for (const t of tags) {
    const there = await to.getTag(t.name)
    if (there?.commit === t.commit) continue
    if (there) {
      updates.push({ ref: `tag:${t.name}`, old: there.commit, new: t.commit, status: 'rejected', reason: `${log.where} of that name naming another commit` })
      continue
    }
    await to.createTag(t, { ref: `tag:${t.name}`, old: null, new: t.commit, operation: log.operation, author: log.author, at: log.at })
    updates.push({ ref: `tag:${t.name}`, old: null, new: t.commit, status: 'new' })
  }
  for (const p of pins) {
    const there = await getPin(to, p.name)
    if (there?.commit === p.commit) continue
    await setPin(to, p)
    updates.push({ ref: `pin:${p.name}`, old: there?.commit ?? null, new: p.commit, status: there ? 'forced' : 'new' })
  }
  return updates
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
