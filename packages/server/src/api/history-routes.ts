import picomatch from 'picomatch'
import { comparePaths } from '@varve/core'
import { allowed } from '../access.js'
import { ApiError, authorship, jsonBody, limitOf, need, needReadSomewhere, parentOption, readRef, repoOf, route, str, take } from './api-kit.js'

// History and the ref log, blame, hook runs, cherry-picks and a path search: what the web UI's
// commit, branch and search pages read (each checks the key's grants on every ref it touches).

/** Entries a path search looks at per request at most: a glob over a million paths answers in pages, never runs unbounded. */
const SEARCH_SCAN = 100_000

export function registerHistoryRoutes(): void {
  route(
    'POST',
    '/repositories/{repo}/branches/{branch*}/cherry-picks',
    async (a, p) => {
      need(a, 'commit', p.repo!, p.branch!)
      const body = await jsonBody(a)
      const parent = parentOption(body)
      const commit = str(body.commit, 'commit')!
      const repo = await repoOf(a, p.repo!)
      // A cherry-pick brings the picked commit's changes: the key must be able to read it (by name, or
      // through the history of a branch it can read, as a commit page shows it).
      await needReadSomewhere(a, repo, p.repo!, commit)
      return repo.cherryPick(p.branch!, commit, { ...authorship(a, body), ...parent })
    },
    201,
  )

  route('GET', '/repositories/{repo}/reflog', async (a, p) => {
    const ref = readRef(a, p.repo!)
    const repo = await repoOf(a, p.repo!)
    const limit = limitOf(a.query, 100, 10_000)
    const { items } = await take(repo.refLog(ref, { limit }), limit)
    return { entries: items }
  })

  route('GET', '/repositories/{repo}/blame', async (a, p) => {
    const ref = readRef(a, p.repo!)
    const repo = await repoOf(a, p.repo!)
    const { items, truncated } = await take(repo.blame(ref, a.query.get('prefix') ?? ''), limitOf(a.query, 100, 1000))
    return { lines: items.map((l) => ({ path: l.path, commit: l.commit, size: l.entry.size, address: l.entry.address })), truncated }
  })

  route('GET', '/repositories/{repo}/hook-runs', async (a, p) => {
    need(a, 'read', p.repo!)
    const branch = a.query.get('branch') ?? undefined
    if (branch !== undefined) need(a, 'read', p.repo!, branch)
    const repo = await repoOf(a, p.repo!)
    const limit = limitOf(a.query, 100, 1000)
    const runs = []
    // Runs of branches the key cannot read are left out (their findings name that branch's files).
    for await (const r of repo.hookRuns({ ...(branch ? { branch } : {}), limit: branch ? limit : limit * 4 }))
      if (allowed(a.who, 'read', p.repo!, r.branch) && runs.length < limit) runs.push(r)
    return { runs }
  })

  // Paths at a ref under a prefix that match a glob (`**/*.parquet`), a page at a time. At most
  // SEARCH_SCAN entries are looked at per request; `next` goes on from the last one looked at.
  route('GET', '/repositories/{repo}/search', async (a, p) => {
    const ref = readRef(a, p.repo!)
    const prefix = a.query.get('prefix') ?? ''
    const glob = a.query.get('glob') ?? '**'
    if (glob.length > 1000) throw new ApiError(400, 'INVALID_ARGUMENT', 'a glob is at most 1,000 characters')
    let match: (path: string) => boolean
    try {
      // Globs compile to regular expressions picomatch builds without backtracking traps for `*` runs.
      const m = picomatch(glob, { dot: true, maxLength: 1000 })
      match = (path) => m(path.slice(prefix.length))
    } catch {
      throw new ApiError(400, 'INVALID_ARGUMENT', `not a valid glob: ${glob}`)
    }
    const after = a.query.get('after') ?? undefined
    const limit = limitOf(a.query, 100, 1000)
    const repo = await repoOf(a, p.repo!)
    const paths: { path: string; size: number }[] = []
    let scanned = 0
    let last: string | undefined
    let more = false
    for await (const item of repo.list(ref, { prefix, ...(after ? { after } : {}) })) {
      if (item.type !== 'object') continue
      if (paths.length === limit || scanned === SEARCH_SCAN) {
        more = true
        break
      }
      scanned++
      last = item.path
      if (match(item.path)) paths.push({ path: item.path, size: item.size })
    }
    if (last !== undefined && after !== undefined && comparePaths(last, after) <= 0) last = undefined
    return { paths, scanned, truncated: more, ...(more && last !== undefined ? { next: last } : {}) }
  })
}

/** Registers the garbage-collection route: a dry run only (a real collection is `varve gc`, which can run long). */
export function registerGcRoutes(): void {
  route('POST', '/repositories/{repo}/gc', async (a, p) => {
    need(a, 'admin', p.repo!)
    const body = await jsonBody(a)
    if (body.dryRun !== true) throw new ApiError(400, 'INVALID_ARGUMENT', 'only a dry run is served here ({"dryRun": true}); collect with varve gc')
    const retainDays = body.retainDays
    if (retainDays !== undefined && (typeof retainDays !== 'number' || !Number.isFinite(retainDays) || retainDays < 0 || retainDays > 3650))
      throw new ApiError(400, 'INVALID_ARGUMENT', 'retainDays is a number of days from 0 to 3650')
    const repo = await repoOf(a, p.repo!)
    return repo.gc({ dryRun: true, ...(retainDays !== undefined ? { retainDays } : {}) })
  })
}
