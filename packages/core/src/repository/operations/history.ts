import { mergeBase, walkHistory, type LogOptions } from '../../commits/history.js'
import { blamePrefix, historyOfPrefix, type BlameLine } from '../../commits/path-history.js'
import type { RepoContext } from '../../context/repo-context.js'
import { commitRoot, type Commit } from '../../model/commit.js'
import { resolveRevision } from '../../refs/resolve.js'
import type { RefLogRecord } from '../../stores/ref-store.js'
import { diffTrees, type DiffEntry } from '../../tree/tree-diff.js'
import { validatePrefix } from '../../util/paths.js'
import { guard, guardIterable } from '../guard.js'

// Revisions and history: resolving, commits, ancestry, diffs, logs, blame and ref logs.

export function resolve(ctx: RepoContext, revision: string): Promise<string> {
  return guard('resolve', () => resolveRevision(ctx, revision))
}

export function getCommit(ctx: RepoContext, revision: string): Promise<Commit> {
  return guard('getCommit', async () => ctx.objects.readCommit(await resolveRevision(ctx, revision)))
}

export function mergeBaseOf(ctx: RepoContext, left: string, right: string): Promise<string | undefined> {
  return guard('mergeBase', async () => {
    const [a, b] = await Promise.all([resolveRevision(ctx, left), resolveRevision(ctx, right)])
    return mergeBase(ctx.objects, a, b)
  })
}

export function isAncestor(ctx: RepoContext, ancestor: string, revision: string): Promise<boolean> {
  return guard('isAncestor', async () => {
    const a = await resolveRevision(ctx, ancestor)
    return (await mergeBase(ctx.objects, a, await resolveRevision(ctx, revision))) === a
  })
}

export function diff(ctx: RepoContext, left: string, right: string, options: { prefix?: string }): AsyncIterable<DiffEntry> {
  return guardIterable('diff', async function* () {
    const prefix = validatePrefix(options.prefix)
    const [a, b] = await Promise.all([resolveRevision(ctx, left), resolveRevision(ctx, right)])
    const [ca, cb] = await Promise.all([ctx.objects.readCommit(a), ctx.objects.readCommit(b)])
    yield* diffTrees(ctx.objects, commitRoot(ca), commitRoot(cb), undefined, { prefix })
  })
}

export function log(ctx: RepoContext, revision: string, options: LogOptions): AsyncIterable<Commit> {
  return guardIterable('log', async function* () {
    if (options.prefix === undefined) return yield* walkHistory(ctx.objects, await resolveRevision(ctx, revision), options)
    const prefix = validatePrefix(options.prefix)
    yield* historyOfPrefix(ctx.objects, await resolveRevision(ctx, revision), prefix, options)
  })
}

export function blame(ctx: RepoContext, revision: string, prefix: string): AsyncIterable<BlameLine> {
  return guardIterable('blame', async function* () {
    const p = validatePrefix(prefix)
    yield* blamePrefix(ctx.objects, await resolveRevision(ctx, revision), p)
  })
}

export function refLog(ctx: RepoContext, name: string, options: { limit?: number }): AsyncIterable<RefLogRecord> {
  return guardIterable('refLog', async function* () {
    let any = false
    for await (const r of ctx.refs.listRefLog(`branch:${name}`, options)) {
      any = true
      yield r
    }
    if (!any) yield* ctx.refs.listRefLog(`tag:${name}`, options)
  })
}
