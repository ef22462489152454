import { commitRoot } from '../model/commit.js'
import { sameContent, type Entry } from '../model/entry.js'
import type { TreeRef } from '../model/tree-node.js'
import type { RepoContext } from '../context/repo-context.js'
import type { BranchRecord, ListStagedOptions, StagedChange } from '../stores/ref-store.js'
import { getEntry, scanEntries } from '../tree/tree-reader.js'
import { comparePaths } from '../util/paths.js'

/** Staging tokens of a branch, newest first: a newer token's change of a path hides older ones. */
export const stagingTokens = (b: BranchRecord): string[] => [b.stagingToken, ...b.sealedTokens]

export async function hasStagedChanges(ctx: RepoContext, token: string): Promise<boolean> {
  for await (const _ of ctx.refs.listStaged(token)) return true
  return false
}

/**
 * A branch is dirty when a commit would change something: a staged entry that differs from the
 * head's, or a removal of a path the head has. Staging identical content (a re-run upload) is not.
 */
export async function isDirty(ctx: RepoContext, b: BranchRecord): Promise<boolean> {
  let root: TreeRef | undefined
  for await (const c of mergedStaged(ctx, stagingTokens(b))) {
    root ??= commitRoot(await ctx.objects.readCommit(b.head))
    const old = await getEntry(ctx.objects, root, c.path)
    if (c.entry === null ? old !== undefined : !old || !sameContent(old, c.entry)) return true
  }
  return false
}

/** True when any staging token of the branch holds a row, whether or not it changes anything. */
export async function hasStagedRows(ctx: RepoContext, b: BranchRecord): Promise<boolean> {
  for (const t of stagingTokens(b)) if (await hasStagedChanges(ctx, t)) return true
  return false
}

/** The staged change of `path` on the branch, newest token first. */
export async function getStagedChange(ctx: RepoContext, b: BranchRecord, path: string): Promise<StagedChange | undefined> {
  for (const t of stagingTokens(b)) {
    const c = await ctx.refs.getStaged(t, path)
    if (c) return c
  }
  return undefined
}

/** Staged changes of several tokens merged into one stream in path order; the newest token wins a path. */
/** Whether any staging area of `tokens` holds a change under `prefix` (one query per area, stopped at its first row). */
export async function hasStagedUnder(ctx: RepoContext, tokens: readonly string[], prefix: string): Promise<boolean> {
  for (const t of tokens) {
    const it = ctx.refs.listStaged(t, prefix ? { prefix } : {})[Symbol.asyncIterator]()
    const first = await it.next()
    await it.return?.()
    if (!first.done) return true
  }
  return false
}

export async function* mergedStaged(ctx: RepoContext, tokens: readonly string[], options: ListStagedOptions = {}): AsyncGenerator<StagedChange> {
  const iters = tokens.map((t) => ctx.refs.listStaged(t, options)[Symbol.asyncIterator]())
  const heads = await Promise.all(iters.map((it) => it.next()))
  for (;;) {
    let best = -1
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!
      if (h.done) continue
      if (best < 0 || comparePaths(h.value.path, (heads[best]!.value as StagedChange).path) < 0) best = i
    }
    if (best < 0) return
    const winner = heads[best]!.value as StagedChange
    yield winner
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!
      if (!h.done && h.value.path === winner.path) heads[i] = await iters[i]!.next()
    }
  }
}

/** The entry of `path` as a reader of the branch sees it: staged changes over the head commit. */
export async function getOnBranch(ctx: RepoContext, b: BranchRecord, path: string): Promise<Entry | undefined> {
  const staged = await getStagedChange(ctx, b, path)
  if (staged) return staged.entry ?? undefined
  const commit = await ctx.objects.readCommit(b.head)
  return getEntry(ctx.objects, commitRoot(commit), path)
}

export interface ScanOptions {
  /** Start at the first path >= from (or > from when exclusive). */
  readonly from: string
  readonly exclusive: boolean
  /** Limits staged lookups to this prefix; tree entries are filtered by the caller. */
  readonly prefix: string
}

/**
 * Entries of a tree, with a branch's staged changes laid over it when `tokens` is non-empty, in path
 * order, as batches. With nothing staged this is the tree scan itself, with no per-entry merge cost.
 */
export async function* scanView(ctx: RepoContext, root: TreeRef, tokens: readonly string[], options: ScanOptions): AsyncGenerator<readonly Entry[]> {
  const stagedOptions: ListStagedOptions = {
    ...(options.prefix ? { prefix: options.prefix } : {}),
    ...(options.from ? { after: options.exclusive ? options.from : beforeKey(options.from) } : {}),
  }
  const staged = tokens.length ? startingAt(mergedStaged(ctx, tokens, stagedOptions), options) : undefined
  let next = staged ? await staged.next() : undefined
  if (!next || next.done) {
    yield* scanEntries(ctx.objects, root, options.from, options.exclusive)
    return
  }
  for await (const batch of scanEntries(ctx.objects, root, options.from, options.exclusive)) {
    const out: Entry[] = []
    for (const e of batch) {
      while (next && !next.done && comparePaths(next.value.path, e.path) < 0) {
        if (next.value.entry) out.push(next.value.entry)
        next = await staged!.next()
      }
      if (next && !next.done && next.value.path === e.path) {
        if (next.value.entry) out.push(next.value.entry)
        next = await staged!.next()
      } else out.push(e)
    }
    if (out.length) yield out
  }
  const tail: Entry[] = []
  while (next && !next.done) {
    if (next.value.entry) tail.push(next.value.entry)
    next = await staged!.next()
  }
  if (tail.length) yield tail
}

/** A string <= every path >= `key`: staged listing takes an exclusive bound, `startingAt` trims the rest. */
const beforeKey = (key: string): string => key.slice(0, -1)

async function* startingAt(changes: AsyncGenerator<StagedChange>, options: ScanOptions): AsyncGenerator<StagedChange> {
  for await (const c of changes) {
    const cmp = comparePaths(c.path, options.from)
    if (cmp > 0 || (cmp === 0 && !options.exclusive)) yield c
  }
}
