import { getCloneState } from '../remotes/remote-settings.js'
import { VarveError } from '../errors/varve-error.js'
import { commitRoot } from '../model/commit.js'
import type { DataRef } from '../model/entry.js'
import { treeId, type TreeRef } from '../model/tree-node.js'
import type { RepoContext } from '../context/repo-context.js'
import { AddressSet } from './address-set.js'
import { validatePath } from '../util/paths.js'
import { listPins } from '../refs/pins.js'
import { readGcState } from './gc-state.js'

export interface VerifyOptions {
  /** Also re-hash every data object (reads all the data); default: check that each exists. */
  readonly full?: boolean
  /**
   * Check data of commits younger than this many days, besides heads, tags and staged changes
   * (default: every reachable commit). Use the retention GC runs with: older data is collected.
   */
  readonly retainDays?: number
  readonly onProgress?: (p: { commits: number; nodes: number; dataObjects: number; problems: number }) => void
}

export interface VerifyProblem {
  /**
   * 'missing': not in the store; 'corrupt': bytes no longer match the address or do not decode;
   * 'invalid-path': a tree entry whose path Varve refuses today (control characters, written by an
   * older version or by hand): rename it (put under a valid path, delete the old one).
   */
  /** `changed`: an imported entry's source object is no longer the one imported (decision 0017). */
  readonly kind: 'missing' | 'corrupt' | 'invalid-path' | 'changed'
  readonly objectType: 'commit' | 'tree' | 'data' | 'pack'
  readonly object: string
  readonly path?: string
  readonly commit?: string
  readonly message: string
}

export interface VerifyResult {
  readonly ok: boolean
  readonly problems: VerifyProblem[]
  /**
   * Data objects missing because garbage collection collected them on purpose: they belong only to
   * commits outside the retention of a collection that ran (not problems; tag or pin what must stay).
   */
  readonly collectedDataObjects: number
  /** In a partial or lazy clone (decision 0019): data objects it did not fetch, not problems (and never fetched by verify). */
  readonly notFetchedDataObjects: number
  readonly commits: number
  readonly nodes: number
  readonly dataObjects: number
}

/**
 * Checks that everything reachable from refs exists and decodes: every commit and tree node, every
 * data object of retained commits and staged changes (and with `full`, that its bytes re-hash to its
 * address). Streams through the history; reports each problem with its path and commit.
 */
export async function verifyRepository(ctx: RepoContext, options: VerifyOptions = {}): Promise<VerifyResult> {
  const problems: VerifyProblem[] = []
  const commits = new AddressSet()
  const nodes = new AddressSet()
  const dataChecked = new AddressSet()
  const dataNodes = new AddressSet()
  const retainSince = options.retainDays === undefined ? -Infinity : ctx.clock.now() - options.retainDays * 86_400_000
  const report = (p: VerifyProblem) => problems.push(p)
  const classify = (err: unknown): 'missing' | 'corrupt' | 'changed' | undefined =>
    VarveError.is(err, 'NOT_FOUND')
      ? 'missing'
      : VarveError.is(err, 'CORRUPT_OBJECT') || VarveError.is(err, 'UNSUPPORTED_FORMAT')
        ? 'corrupt'
        : VarveError.is(err, 'IMPORTED_OBJECT_CHANGED')
          ? 'changed'
          : undefined
  const progress = () => options.onProgress?.({ commits: commits.size, nodes: nodes.size, dataObjects: dataChecked.size, problems: problems.length })

  const { state: gc } = await readGcState(ctx.refs)
  // A partial or lazy clone holds only some data: what is not here was not fetched, and verify fetches nothing.
  const clone = await getCloneState(ctx.refs)
  const fetchesSome = !!(clone?.prefix || clone?.lazy)
  let notFetched = 0
  const collectedBefore = gc.collectedBefore ?? -Infinity
  let collected = 0
  // Addresses found collected: a retained commit that also refers to one still reports it missing.
  const collectedAddresses = new Set<string>()
  const packs = new Map<string, boolean>() // pack id -> stored (checked once, however many entries it holds)
  const dataStored = async (e: DataRef): Promise<boolean> => {
    if (e.pack === undefined) return ctx.objects.hasData(e)
    let stored = packs.get(e.pack)
    if (stored === undefined) packs.set(e.pack, (stored = await ctx.objects.hasData(e)))
    return stored
  }
  // --full also checks each pack's own index once (its footer and index hash to the pack id).
  const checkPackIndex = async (pack: string, path?: string) => {
    if (packs.has(pack)) return
    packs.set(pack, true)
    try {
      await ctx.objects.readPackIndex(pack)
    } catch (err) {
      const kind = classify(err)
      if (!kind) throw err
      if (kind === 'missing') return // reported for the entries that use it
      report({ kind, objectType: 'pack', object: pack, ...(path !== undefined ? { path } : {}), message: (err as Error).message })
    }
  }
  const checkData = async (e: DataRef, path: string, commit?: string, collectable = false) => {
    const address = e.address
    if (collectedAddresses.has(address)) {
      if (collectable) return
      collectedAddresses.delete(address)
      collected--
      report({
        kind: 'missing',
        objectType: 'data',
        object: address,
        path,
        ...(commit ? { commit } : {}),
        message: `data object ${address} (${path}) is missing`,
      })
      return
    }
    if (!dataChecked.add(address)) return
    if (fetchesSome && e.external === undefined && !(await dataStored(e))) {
      notFetched++
      return
    }
    try {
      if (options.full && e.pack !== undefined) await checkPackIndex(e.pack, path)
      if (options.full) await ctx.objects.readData({ ...e, path })
      else if (!(await dataStored(e)))
        throw new VarveError(
          'NOT_FOUND',
          e.pack === undefined ? `data object ${address} (${path}) is missing` : `pack ${e.pack} holding ${address} (${path}) is missing`,
        )
    } catch (err) {
      const kind = classify(err)
      if (!kind) throw err
      if (kind === 'missing' && collectable) {
        collected++
        collectedAddresses.add(address)
        return
      }
      report({ kind, objectType: 'data', object: address, path, ...(commit ? { commit } : {}), message: (err as Error).message })
    }
  }

  const walkTree = async (root: TreeRef, commit: string, withData: boolean, collectable: boolean) => {
    const stack: TreeRef[] = [root]
    while (stack.length) {
      const ref = stack.pop()!
      const id = treeId(ref)
      const pack = typeof ref === 'string' ? undefined : ref.at?.pack.id
      if (options.full && pack !== undefined) await checkPackIndex(pack)
      const fresh = nodes.add(id)
      // Each node is read once for structure and at most once more for data, however many commits share it.
      if (withData ? !dataNodes.add(id) : !fresh) continue
      let node
      try {
        node = await ctx.objects.readNode(ref, { cache: false })
      } catch (err) {
        const kind = classify(err)
        if (!kind) throw err
        report({ kind, objectType: 'tree', object: id, commit, message: (err as Error).message })
        continue
      }
      if (node.kind === 'leaf') {
        if (fresh && options.full)
          for (const e of node.entries)
            try {
              validatePath(e.path)
            } catch (err) {
              report({ kind: 'invalid-path', objectType: 'tree', object: id, path: e.path, commit, message: (err as Error).message })
            }
        if (withData) for (const e of node.entries) await checkData(e, e.path, commit, collectable)
      } else for (const c of node.children) stack.push(c)
    }
  }

  const heads = new Set<string>()
  const starts: string[] = []
  for await (const b of ctx.refs.listBranches()) {
    starts.push(b.head)
    heads.add(b.head)
    for (const token of [b.stagingToken, ...b.sealedTokens]) for await (const c of ctx.refs.listStaged(token)) if (c.entry) await checkData(c.entry, c.path)
  }
  for await (const t of ctx.refs.listTags()) {
    starts.push(t.commit)
    heads.add(t.commit)
  }
  for await (const p of listPins(ctx.refs)) {
    starts.push(p.commit)
    heads.add(p.commit)
  }
  const stack = [...starts]
  while (stack.length) {
    const id = stack.pop()!
    if (!commits.add(id)) continue
    let c
    try {
      c = await ctx.objects.readCommit(id)
    } catch (err) {
      const kind = classify(err)
      if (!kind) throw err
      report({ kind, objectType: 'commit', object: id, message: (err as Error).message })
      continue
    }
    const withData = heads.has(id) || c.createdAt >= retainSince
    await walkTree(commitRoot(c), id, withData, !heads.has(id) && c.createdAt < collectedBefore)
    stack.push(...c.parents)
    progress()
  }
  progress()
  return {
    ok: problems.length === 0,
    problems,
    collectedDataObjects: collected,
    notFetchedDataObjects: notFetched,
    commits: commits.size,
    nodes: nodes.size,
    dataObjects: dataChecked.size,
  }
}
