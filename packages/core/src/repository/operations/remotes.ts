import path from 'node:path'
import { newStagingToken, type RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import { HookRegistry } from '../../hooks/hook-registry.js'
import { mergeBase } from '../../commits/history.js'
import { moveHead } from '../../remotes/move-head.js'
import {
  addRemote as storeRemote,
  getCloneState,
  getTracking,
  listRemotes as storedRemotes,
  listTracking,
  removeRemote as dropRemote,
  requireRemote,
  setCloneState,
  remoteSetting,
  CLONE_SETTING,
  type RemoteConfig,
  type TrackingRef,
} from '../../remotes/remote-settings.js'
import { fetchFrom, pushTo, type SyncResult } from '../../remotes/sync.js'
import { validateRefName } from '../../util/ref-names.js'
import { guard } from '../guard.js'
import type { MergeRequests } from '../merge-requests.js'
import type { RepositoryLocation, RepositoryOptions } from '../types.js'
import type { CloneOptions, FetchOptions, PullOptions, PullResult, PushOptions, RemoteTransferOptions } from '../../remotes/remote-options.js'
import { closeRepository, initRepository, openRepository, remoteOptions, wireRepository, type Opened } from './lifecycle.js'
import { merge } from './merging.js'

export function addRemote(ctx: RepoContext, name: string, location: string, options: { s3?: RemoteConfig['s3'] } = {}): Promise<RemoteConfig> {
  return guard('remote add', async () => {
    const config: RemoteConfig = { name, location: absoluteLocation(location), ...(options.s3 ? { s3: options.s3 } : {}) }
    await storeRemote(ctx.refs, config)
    return config
  })
}

export function removeRemote(ctx: RepoContext, name: string): Promise<void> {
  return guard('remote remove', () => dropRemote(ctx.refs, name))
}

export function listRemotes(ctx: RepoContext): Promise<RemoteConfig[]> {
  return guard('remote list', () => storedRemotes(ctx.refs))
}

export function trackingRefs(ctx: RepoContext, remote?: string): Promise<TrackingRef[]> {
  return guard('remote refs', () => listTracking(ctx.refs, remote))
}

export function fetch(ctx: RepoContext, options: RepositoryOptions, remote: string, o: FetchOptions = {}): Promise<SyncResult> {
  return guard('fetch', async () => {
    const config = await requireRemote(ctx.refs, remote)
    const clone = await getCloneState(ctx.refs)
    const partial = clone?.origin === remote ? { ...(clone.prefix ? { prefix: clone.prefix } : {}), ...(clone.lazy ? { lazy: true } : {}) } : {}
    return withRemote(
      config,
      options,
      false,
      async (theirs) => fetchFrom(ctx, theirs.ctx, remote, { ...transferOf(o), ...partial, ...pick(o), author: o.author ?? ctx.defaultAuthor }),
      ctx,
    )
  })
}

export function push(ctx: RepoContext, options: RepositoryOptions, remote: string, o: PushOptions = {}): Promise<SyncResult> {
  return guard('push', async () => {
    const config = await requireRemote(ctx.refs, remote)
    const branches = o.branches?.length ? o.branches : [ctx.defaultBranch]
    // A merge request's source: push/<branch>/<head>, one per pushed head, so a later push opens a new one.
    const targets: Record<string, string> = {}
    if (o.mergeRequest) for (const b of branches) targets[b] = `push/${b}/${(await ctx.refs.getBranch(validateRefName(b)))?.head.slice(0, 12) ?? 'none'}`
    const run = async (theirs: { ctx: RepoContext; requests: MergeRequests }, created: boolean): Promise<SyncResult> => {
      const result = await pushTo(ctx, theirs.ctx, remote, {
        ...transferOf(o),
        branches,
        ...(o.mergeRequest ? { targets } : {}),
        ...(o.force ? { force: true } : {}),
        ...(o.forceWithLease !== undefined ? { forceWithLease: o.forceWithLease } : {}),
        ...(o.tags ? { tags: true } : {}),
        ...(o.pins ? { pins: true } : {}),
        ...(created ? { fresh: true } : {}),
        author: o.author ?? ctx.defaultAuthor,
      })
      if (!o.mergeRequest) return result
      const about = typeof o.mergeRequest === 'object' ? o.mergeRequest : {}
      const mergeRequests: { id: number; source: string; destination: string }[] = []
      for (const b of branches) {
        const id = await theirs.requests.open(targets[b]!, b, {
          title: about.title ?? `${b} from ${ctx.location}`,
          ...(about.description ? { description: about.description } : {}),
          author: o.author ?? ctx.defaultAuthor,
        })
        mergeRequests.push({ id, source: targets[b]!, destination: b })
      }
      return { ...result, mergeRequests }
    }
    return withRemote(config, options, { tree: ctx.objects.treeFormat, defaultBranch: branches[0]! }, run, ctx)
  })
}

/** Fetches the branch, then brings the local branch up to it: a fast-forward when it can, else a merge (gates run as for any merge). */
export function pull(ctx: RepoContext, options: RepositoryOptions, remote: string, o: PullOptions = {}): Promise<PullResult> {
  return guard('pull', async () => {
    const branch = validateRefName(o.branch ?? ctx.defaultBranch)
    const fetched = await fetch(ctx, options, remote, { ...o, branches: [branch] })
    const theirs = await getTracking(ctx.refs, remote, branch)
    if (!theirs) throw new VarveError(ErrorCodes.NOT_FOUND, `the remote ${remote} has no branch ${branch}`, { details: { remote, branch } })
    for (let attempt = 0; attempt < 5; attempt++) {
      const mine = await ctx.refs.getBranch(branch)
      if (!mine) {
        await ctx.refs.createBranch(
          { name: branch, head: theirs, stagingToken: newStagingToken(ctx), sealedTokens: [] },
          { ref: `branch:${branch}`, old: null, new: theirs, operation: 'pull', author: o.author ?? ctx.defaultAuthor, at: ctx.clock.now() },
        )
        return { ...fetched, branch, outcome: 'fast-forward', head: theirs }
      }
      if (mine.head === theirs || (await mergeBase(ctx.objects, theirs, mine.head)) === theirs)
        return { ...fetched, branch, outcome: 'up-to-date', head: mine.head }
      if ((await mergeBase(ctx.objects, mine.head, theirs)) === mine.head) {
        await ctx.gates.pre({ event: 'pre-merge', branch, source: `${remote}/${branch}`, candidate: theirs, base: mine.head })
        const log = { operation: 'pull', author: o.author ?? ctx.defaultAuthor, message: `pull ${remote}/${branch} (fast-forward)` }
        if (!(await moveHead(ctx, mine, theirs, log))) continue
        await ctx.gates.post({ event: 'post-merge', branch, source: `${remote}/${branch}`, candidate: theirs, base: mine.head })
        return { ...fetched, branch, outcome: 'fast-forward', head: theirs }
      }
      const result = await merge(ctx, `${remote}/${branch}`, branch, {
        message: o.message ?? `Merge ${remote}/${branch} into ${branch}`,
        ...(o.author ? { author: o.author } : {}),
      })
      return { ...fetched, branch, outcome: 'merged', head: result.commit?.id ?? mine.head, merge: result }
    }
    throw new VarveError(ErrorCodes.CONFLICT, `branch ${branch} kept moving while it was pulled; pull again`, { details: { branch } })
  })
}

/**
 * Clones `location` into `dir` (decision 0019): a repository in the origin's format, the remote
 * `origin`, every branch fetched as `origin/<branch>`, and the origin's default branch checked out
 * as a local branch. Interrupted, the same call continues where it stopped; the clone is marked
 * complete only at the end.
 */
export function clone(location: string, dir: RepositoryLocation, options: RepositoryOptions, o: CloneOptions = {}): Promise<Opened> {
  return guard('clone', async () => {
    if (o.prefix !== undefined && (typeof o.prefix !== 'string' || o.prefix.length === 0))
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a clone prefix must be a non-empty string')
    const config: RemoteConfig = { name: 'origin', location: absoluteLocation(location), ...(o.s3 ? { s3: o.s3 } : {}) }
    const theirs = await openRepository(config.location, remoteOptions(options, config))
    let mine: Opened | undefined
    try {
      const resumed = await openRepository(dir, options).catch((e) => (VarveError.is(e, ErrorCodes.NOT_A_REPOSITORY) ? undefined : Promise.reject(e)))
      const state = resumed && (await getCloneState(resumed.ctx.refs))
      if (resumed && (!state || state.complete || state.origin !== 'origin')) {
        await closeRepository(resumed.ctx)
        throw new VarveError(ErrorCodes.REPOSITORY_EXISTS, `${typeof dir === 'string' ? dir : 'the destination'} already holds a repository`, { details: {} })
      }
      const shapeOf = (c: { prefix?: string | undefined; lazy?: boolean | undefined }) => ({
        ...(c.prefix ? { prefix: c.prefix } : {}),
        ...(c.lazy ? { lazy: true } : {}),
      })
      const shape = shapeOf(state ?? o)
      // The remote and the clone state are stored before the manifest: a clone is resumable from its first byte.
      mine =
        resumed ??
        (await initRepository(dir, options, {
          tree: theirs.ctx.objects.treeFormat,
          defaultBranch: theirs.ctx.defaultBranch,
          settings: { ...remoteSetting(config), [CLONE_SETTING]: JSON.stringify({ origin: 'origin', ...shape, complete: false }) },
        }))
      const ctx = mine.ctx
      const author = o.author ?? ctx.defaultAuthor
      await fetchFrom(ctx, theirs.ctx, 'origin', { ...transferOf(o), ...shape, fresh: !resumed, author })
      const head = await getTracking(ctx.refs, 'origin', ctx.defaultBranch)
      if (head && !(await ctx.refs.getBranch(ctx.defaultBranch)))
        await ctx.refs.createBranch(
          { name: ctx.defaultBranch, head, stagingToken: newStagingToken(ctx), sealedTokens: [] },
          { ref: `branch:${ctx.defaultBranch}`, old: null, new: head, operation: 'clone', author, at: ctx.clock.now() },
        )
      await setCloneState(ctx.refs, { origin: 'origin', ...shape, complete: true })
      return mine
    } catch (e) {
      if (mine) await closeRepository(mine.ctx)
      throw e
    } finally {
      await closeRepository(theirs.ctx)
    }
  })
}

/** Opens the remote (wired with its own gates: a push runs them); `create` makes one where none is yet. */
async function withRemote<T>(
  config: RemoteConfig,
  options: RepositoryOptions,
  create: false | { tree: RepoContext['objects']['treeFormat']; defaultBranch: string },
  run: (theirs: { ctx: RepoContext; requests: MergeRequests }, created: boolean) => Promise<T>,
  local?: RepoContext,
): Promise<T> {
  const opts = remoteOptions(options, config)
  let created = false
  const opened = await openRepository(config.location, opts).catch(async (e) => {
    if (!create || !VarveError.is(e, ErrorCodes.NOT_A_REPOSITORY)) throw e
    created = true
    return initRepository(config.location, opts, create)
  })
  const wired = wireRepository(opened, new HookRegistry())
  if (local && !sameTreeFormat(local.objects.treeFormat, wired.ctx.objects.treeFormat)) {
    await closeRepository(wired.ctx)
    throw new VarveError(
      ErrorCodes.UNSUPPORTED_FORMAT,
      `${config.name} (${config.location}) stores its trees in another format than this repository: clone it instead of fetching into or pushing from this one`,
      { details: { remote: config.name } },
    )
  }
  try {
    return await run({ ctx: wired.ctx, requests: wired.requests }, created)
  } finally {
    await closeRepository(wired.ctx)
  }
}

const transferOf = (o: RemoteTransferOptions) => ({
  ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  ...(o.signal ? { signal: o.signal } : {}),
  ...(o.width ? { width: o.width } : {}),
})

const pick = (o: FetchOptions) => ({
  ...(o.branches?.length ? { branches: o.branches } : {}),
  ...(o.tags ? { tags: true } : {}),
  ...(o.pins ? { pins: true } : {}),
  ...(o.prune ? { prune: true } : {}),
})

/** Trees of two repositories can be mixed only when they are chunked and stored alike (decision 0008). */
const sameTreeFormat = (a: { leafBits: number; packNodes: boolean }, b: { leafBits: number; packNodes: boolean }) =>
  a.leafBits === b.leafBits && a.packNodes === b.packNodes

/** A folder is stored absolute: the remote must mean the same place from any working directory. */
function absoluteLocation(location: string): string {
  if (typeof location !== 'string' || location.length === 0) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a remote location must be a non-empty string')
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) ? location : path.resolve(location)
}
