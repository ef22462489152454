import { commitRoot } from '../model/commit.js'
import type { Entry } from '../model/entry.js'
import { treeId, type TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { RefStore } from '../stores/ref-store.js'
import { AddressSet } from './address-set.js'
import { listPins } from '../refs/pins.js'
import { listTracking } from '../remotes/remote-settings.js'
import type { BranchRecord } from '../stores/ref-store.js'

export interface MarkOptions {
  /** Data of commits younger than this (ms since epoch) is retained, as is data at every head, tag and staged change. */
  readonly retainSince: number
  /**
   * Ref moves logged at or after this time (ms) keep the commits they name and their data, whatever
   * the retention: what moves while a collection runs is seen (default: retainSince).
   */
  readonly movesSince?: number
  /** Called as objects are marked (for progress). */
  readonly onProgress?: (marked: { commits: number; nodes: number; data: number }) => void
}

export interface Marked {
  /** Every commit reachable from any ref (commits are kept: history stays readable). */
  readonly commits: AddressSet
  /** Every tree node of those commits (trees are kept: old merge bases stay usable). */
  readonly nodes: AddressSet
  /** Data objects of retained commits and staged changes. */
  readonly data: AddressSet
  /** Packs holding data of retained commits and staged changes (decision 0007), and tree nodes of every commit (0008). */
  readonly packs: AddressSet
  readonly retainedCommits: number
}

/**
 * The mark phase of garbage collection, streamed: commits, tree nodes and retained data addresses go
 * into compact sets; nothing holds a JS object per entry.
 */
export async function markReachable(refs: RefStore, objects: ObjectStore, options: MarkOptions): Promise<Marked> {
  const commits = new AddressSet()
  const nodes = new AddressSet()
  const data = new AddressSet()
  const packs = new AddressSet()
  const markData = (e: Entry) => {
    data.add(e.address)
    if (e.pack !== undefined) packs.add(e.pack)
  }
  const dataNodes = new AddressSet()
  const retainData = new Set<string>() // commit ids whose data must stay (heads, tags, ref-log window)
  const starts: string[] = []

  const keep = (commit: string) => {
    starts.push(commit)
    retainData.add(commit)
  }
  // A branch is read, its staging listed, and read again until it held still: a commit that seals
  // and drops staging meanwhile is then seen through its new head.
  const markBranch = async (first: BranchRecord) => {
    let b: BranchRecord | undefined = first
    for (let round = 0; b && round < 100; round++) {
      keep(b.head)
      for (const token of [b.stagingToken, ...b.sealedTokens]) for await (const change of refs.listStaged(token)) if (change.entry) markData(change.entry)
      const again: BranchRecord | undefined = await refs.getBranch(b.name)
      if (!again || again.version === b.version) return
      b = again
    }
  }
  for await (const b of refs.listBranches()) await markBranch(b)
  for await (const t of refs.listTags()) keep(t.commit)
  for await (const p of listPins(refs)) keep(p.commit)
  // Remote-tracking refs keep what was fetched, as branches do (decision 0019).
  for (const t of await listTracking(refs)) if (await objects.hasCommit(t.commit)) keep(t.commit)
  // Ref-log entries are read last: a move that happened while the refs above were listed is here.
  const logSince = Math.min(options.retainSince, options.movesSince ?? options.retainSince)
  for await (const ref of refs.listRefLogRefs())
    for await (const r of refs.listRefLog(ref)) {
      if (r.at < logSince) break
      for (const id of [r.old, r.new])
        if (id && (await objects.hasCommit(id))) {
          starts.push(id)
          retainData.add(id)
        }
    }

  let retainedCommits = 0
  const stack = [...starts]
  while (stack.length) {
    const id = stack.pop()!
    if (!commits.add(id)) continue
    const c = await objects.readCommit(id)
    const root = commitRoot(c)
    await walkTree(objects, root, nodes, packs)
    if (retainData.has(id) || c.createdAt >= options.retainSince) {
      retainedCommits++
      await walkTree(objects, root, dataNodes, packs, markData)
    }
    stack.push(...c.parents)
    options.onProgress?.({ commits: commits.size, nodes: nodes.size, data: data.size })
  }
  return { commits, nodes, data, packs, retainedCommits }
}

/**
 * Visits every node of a tree not yet in `seen` (shared subtrees once), reporting leaf addresses.
 * The pack of every packed node is marked at each ref to it, even to a node already seen: the same
 * node may be stored in several packs, and each ref must stay readable (decision 0008).
 */
async function walkTree(objects: ObjectStore, root: TreeRef, seen: AddressSet, packs: AddressSet, onData?: (entry: Entry) => void): Promise<void> {
  const stack: TreeRef[] = [root]
  while (stack.length) {
    const ref = stack.pop()!
    if (typeof ref !== 'string' && ref.at?.pack.id !== undefined) packs.add(ref.at.pack.id)
    if (!seen.add(treeId(ref))) continue
    const node = await objects.readNode(ref, { cache: false })
    if (node.kind === 'leaf') {
      if (onData) for (const e of node.entries) onData(e)
    } else for (const c of node.children) stack.push(c)
  }
}
