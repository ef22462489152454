import { comparePaths, errorKindOf, VarveError, type DiffEntry } from '@varve/core'
import { allowed, seesRepository } from '../access.js'
import { OPENAPI } from './openapi.js'

// The HTTP JSON API: what S3 cannot say (branches, commits, merges with their gate results and
// conflicts, reverts, diffs, history, tags, pins, gate checks). JSON in, JSON out; an error is
// `{ "error": { "code", "message", "details" } }` with the library's stable code.

import {
  ApiError,
  actor,
  authorship,
  jsonBody,
  limitOf,
  mergeSides,
  need,
  readRef,
  needRead,
  parentOption,
  repoOf,
  route,
  routes,
  SENT,
  sendJson,
  str,
  take,
  type ApiRequest,
} from './api-kit.js'
import { registerImportRoutes } from './import-routes.js'
import { registerMergeRoutes } from './merge-routes.js'
import { registerGcRoutes, registerHistoryRoutes } from './history-routes.js'
import { registerObjectRoutes } from './object-routes.js'
import { registerProtectionRoutes } from './protection-routes.js'

export type { ApiRequest } from './api-kit.js'

route('GET', '/repositories', async (a) => ({ repositories: a.repos.names.filter((n) => seesRepository(a.who, n)).map((name) => ({ name })) }))

route('GET', '/repositories/{repo}/branches', async (a, p) => {
  need(a, 'read', p.repo!)
  const repo = await repoOf(a, p.repo!)
  const out = []
  for await (const b of repo.branches()) if (allowed(a.who, 'read', p.repo!, b.name)) out.push(b)
  return { branches: out }
})
route(
  'POST',
  '/repositories/{repo}/branches',
  async (a, p) => {
    const body = await jsonBody(a)
    const name = str(body.name, 'name')!
    need(a, 'write', p.repo!, name)
    const repo = await repoOf(a, p.repo!)
    // The new branch reads what it starts from (the default branch when the body names none).
    const from = str(body.from, 'from', true) ?? repo.defaultBranch
    need(a, 'read', p.repo!, from)
    return repo.createBranch(name, { from, author: actor(a) })
  },
  201,
)
route(
  'POST',
  '/repositories/{repo}/branches/{branch*}/commits',
  async (a, p) => {
    need(a, 'commit', p.repo!, p.branch!)
    const body = await jsonBody(a)
    const metadata = body.metadata
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)))
      throw new ApiError(400, 'INVALID_ARGUMENT', 'metadata must be an object')
    // `varve.*` keys are what Varve itself records (the request a merge closes, its approvers, ...):
    // a client writing them could make history show approvals that never happened.
    const reserved = metadata ? Object.keys(metadata).filter((k) => k.toLowerCase().startsWith('varve.')) : []
    if (reserved.length)
      throw new ApiError(400, 'INVALID_ARGUMENT', `metadata keys starting with varve. are reserved (${reserved.slice(0, 3).join(', ')})`, { keys: reserved })
    const repo = await repoOf(a, p.repo!)
    return repo.commit(p.branch!, {
      message: str(body.message, 'message')!,
      ...authorship(a, body),
      ...(metadata ? { metadata: metadata as Record<string, never> } : {}),
      ...(body.allowEmpty === true ? { allowEmpty: true } : {}),
    })
  },
  201,
)
route('GET', '/repositories/{repo}/branches/{branch*}/changes', async (a, p) => {
  need(a, 'read', p.repo!, p.branch!)
  const repo = await repoOf(a, p.repo!)
  const prefix = a.query.get('prefix') ?? undefined
  const { items, truncated } = await take(repo.uncommitted(p.branch!, prefix ? { prefix } : {}), limitOf(a.query, 1000, 10_000))
  return { changes: items, truncated }
})
route(
  'POST',
  '/repositories/{repo}/branches/{branch*}/reverts',
  async (a, p) => {
    need(a, 'commit', p.repo!, p.branch!)
    const body = await jsonBody(a)
    const parent = parentOption(body)
    // A revert brings the reverted commit's parent's content onto the branch: the key must be able to read that commit.
    const commit = str(body.commit, 'commit')!
    const repo = await repoOf(a, p.repo!)
    await needRead(a, repo, p.repo!, commit, p.branch!)
    return repo.revert(p.branch!, commit, { ...authorship(a, body), ...parent })
  },
  201,
)
route('POST', '/repositories/{repo}/branches/{branch*}/reset', async (a, p) => {
  const repo = await repoOf(a, p.repo!)
  // A rollback of a protected branch rewrites what everyone reads: admins only.
  need(a, (await repo.branchProtection(p.branch!)) ? 'admin' : 'commit', p.repo!, p.branch!)
  const body = await jsonBody(a)
  // The branch then reads what `to` names: a reset must not reveal a ref the key cannot read.
  const to = str(body.to, 'to')!
  await needRead(a, repo, p.repo!, to, p.branch!)
  return repo.reset(p.branch!, to, { author: actor(a), ...(body.discardChanges === true ? { discardChanges: true } : {}) })
})
route('GET', '/repositories/{repo}/branches/{branch*}', async (a, p) => {
  need(a, 'read', p.repo!, p.branch!)
  const repo = await repoOf(a, p.repo!)
  const b = await repo.getBranch(p.branch!)
  const protection = await repo.branchProtection(p.branch!)
  return { ...b, protected: protection !== undefined, ...(protection ? { protection } : {}) }
})
route('DELETE', '/repositories/{repo}/branches/{branch*}', async (a, p) => {
  need(a, 'admin', p.repo!, p.branch!)
  await (await repoOf(a, p.repo!)).deleteBranch(p.branch!, { author: actor(a) })
  return { deleted: p.branch }
})

registerMergeRoutes()
registerImportRoutes()
registerObjectRoutes()
registerHistoryRoutes()
registerGcRoutes()
registerProtectionRoutes()

route('POST', '/repositories/{repo}/hooks/check', async (a, p) => {
  const { source, dest } = mergeSides(a, p.repo!, await jsonBody(a), 'read')
  const repo = await repoOf(a, p.repo!)
  try {
    const r = await repo.merge(source, dest, { dryRun: true })
    if (r.conflicts?.length) return { ok: false, conflicts: r.conflicts }
    return { ok: true, upToDate: r.upToDate, runs: r.gateRuns ?? [] }
  } catch (err) {
    if (VarveError.is(err, 'HOOK_FAILED')) return { ok: false, failures: err.details.failures }
    throw err
  }
})

route('GET', '/repositories/{repo}/diff', async (a, p) => {
  const left = str(a.query.get('left') ?? undefined, 'left')!
  const right = str(a.query.get('right') ?? undefined, 'right')!
  need(a, 'read', p.repo!, left)
  need(a, 'read', p.repo!, right)
  const prefix = a.query.get('prefix') ?? undefined
  const after = a.query.get('after') ?? undefined
  const repo = await repoOf(a, p.repo!)
  const all = repo.diff(left, right, prefix ? { prefix } : {})
  // Paging: the next page starts after the last path of this one (`next`).
  async function* from(): AsyncGenerator<DiffEntry> {
    for await (const d of all) if (after === undefined || comparePaths(d.path, after) > 0) yield d
  }
  const { items, truncated } = await take(from(), limitOf(a.query, 1000, 10_000))
  return { changes: items, truncated, ...(truncated ? { next: items.at(-1)!.path } : {}) }
})
route('GET', '/repositories/{repo}/diff/rows', async (a, p) => {
  const left = str(a.query.get('left') ?? undefined, 'left')!
  const right = str(a.query.get('right') ?? undefined, 'right')!
  const file = str(a.query.get('path') ?? undefined, 'path')!
  // By key (`key=id[,..]`), or by position (`positional=true`: row i against row i).
  const positional = a.query.get('positional') === 'true'
  const key = positional
    ? []
    : str(a.query.get('key') ?? undefined, 'key')!
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean)
  const columns = a.query
    .get('columns')
    ?.split(',')
    .map((k) => k.trim())
    .filter(Boolean)
  need(a, 'read', p.repo!, left)
  need(a, 'read', p.repo!, right)
  const repo = await repoOf(a, p.repo!)
  const limit = limitOf(a.query, 1000, 100_000)
  // The whole diff runs (its summary comes last); at most `limit` row records are returned.
  let schema: unknown
  let summary: unknown
  const rows: unknown[] = []
  let more = 0
  for await (const r of repo.diffTable(left, right, file, { key, ...(positional ? { positional } : {}), ...(columns?.length ? { columns } : {}) })) {
    if (r.type === 'schema') schema = r
    else if (r.type === 'summary') summary = r
    else if (rows.length < limit) rows.push(r)
    else more++
  }
  return { schema, rows, summary, truncated: more > 0 }
})
route('GET', '/repositories/{repo}/log', async (a, p) => {
  const ref = readRef(a, p.repo!)
  const repo = await repoOf(a, p.repo!)
  const prefix = a.query.get('prefix') ?? undefined
  const limit = limitOf(a.query, 100, 10_000)
  const { items, truncated } = await take(
    repo.log(ref, { limit: limit + 1, ...(prefix !== undefined ? { prefix } : {}), ...(a.query.get('firstParent') === 'true' ? { firstParent: true } : {}) }),
    limit,
  )
  return { commits: items, truncated }
})
route('GET', '/repositories/{repo}/commits/{rev*}', async (a, p) => {
  need(a, 'read', p.repo!, p.rev!)
  return (await repoOf(a, p.repo!)).getCommit(p.rev!)
})

route('GET', '/repositories/{repo}/tags', async (a, p) => {
  need(a, 'read', p.repo!)
  const out = []
  for await (const t of (await repoOf(a, p.repo!)).tags()) if (allowed(a.who, 'read', p.repo!, t.name)) out.push(t)
  return { tags: out }
})
route(
  'POST',
  '/repositories/{repo}/tags',
  async (a, p) => {
    const body = await jsonBody(a)
    const name = str(body.name, 'name')!
    const ref = str(body.ref, 'ref')!
    need(a, 'admin', p.repo!, name)
    need(a, 'read', p.repo!, ref)
    return (await repoOf(a, p.repo!)).createTag(name, ref, { author: actor(a) })
  },
  201,
)
route('DELETE', '/repositories/{repo}/tags/{tag*}', async (a, p) => {
  need(a, 'admin', p.repo!, p.tag!)
  await (await repoOf(a, p.repo!)).deleteTag(p.tag!, { author: actor(a) })
  return { deleted: p.tag }
})

route('GET', '/repositories/{repo}/pins', async (a, p) => {
  need(a, 'read', p.repo!)
  const out = []
  // A pin shows the commit of the ref it pinned: only pins of refs the key can read.
  for await (const pin of (await repoOf(a, p.repo!)).pins()) if (allowed(a.who, 'read', p.repo!, pin.ref)) out.push(pin)
  return { pins: out }
})
route(
  'POST',
  '/repositories/{repo}/pins',
  async (a, p) => {
    const body = await jsonBody(a)
    const ref = str(body.ref, 'ref')!
    need(a, 'read', p.repo!, ref)
    need(a, 'admin', p.repo!, ref)
    const repo = await repoOf(a, p.repo!)
    const name = str(body.name, 'name')!
    // Re-pinning a name moves it: the key must also have admin on what it pinned before.
    const old = await repo.getPin(name).catch((err: unknown) => (VarveError.is(err, 'NOT_FOUND') ? undefined : Promise.reject(err)))
    if (old) need(a, 'admin', p.repo!, old.ref)
    return repo.pin(name, ref, { author: actor(a) })
  },
  201,
)
route('DELETE', '/repositories/{repo}/pins/{name}', async (a, p) => {
  need(a, 'admin', p.repo!)
  const repo = await repoOf(a, p.repo!)
  // A pin keeps its ref's data from gc: removing it needs admin on that ref (and a hidden one is not found).
  const pin = await repo.getPin(p.name!)
  if (!allowed(a.who, 'read', p.repo!, pin.ref)) throw new ApiError(404, 'NOT_FOUND', `no pin named ${p.name}`)
  need(a, 'admin', p.repo!, pin.ref)
  await repo.unpin(p.name!)
  return { deleted: p.name }
})

/** Serves `/api/...`; `path` is what follows `/api`. */
export async function handleApi(a: ApiRequest): Promise<void> {
  if (a.path === '/openapi.json' && a.req.method === 'GET') return sendJson(a.res, 200, OPENAPI)
  try {
    if (!a.path.startsWith('/v1/'))
      throw new ApiError(404, 'NOT_FOUND', `no API at /api${a.path} (the API is under /api/v1; its description is /api/openapi.json)`)
    const rest = a.path.slice(3)
    let decoded: string
    try {
      decoded = decodeURIComponent(rest)
    } catch {
      throw new ApiError(400, 'INVALID_ARGUMENT', 'the path is not URL-encoded correctly')
    }
    let methodMismatch = false
    for (const r of routes) {
      const m = r.pattern.exec(decoded)
      if (!m) continue
      if (r.method !== a.req.method) {
        methodMismatch = true
        continue
      }
      const params = Object.fromEntries(r.keys.map((k, i) => [k, m[i + 1]!]))
      const value = await r.handler(a, params)
      if (value !== SENT) sendJson(a.res, r.status ?? 200, value)
      return
    }
    if (methodMismatch) throw new ApiError(405, 'INVALID_ARGUMENT', `${a.req.method} is not allowed on ${a.path}`)
    throw new ApiError(404, 'NOT_FOUND', `no API at /api${a.path}`)
  } catch (err) {
    // A body already under way (an object's bytes) cannot become an error reply: the connection is cut.
    if (a.res.headersSent) return void a.res.destroy()
    if (err instanceof ApiError) return sendJson(a.res, err.status, { error: { code: err.code, message: err.message, details: err.details } })
    if (err instanceof VarveError) return sendJson(a.res, errorKindOf(err.code).http, { error: { code: err.code, message: err.message, details: err.details } })
    return sendJson(a.res, 500, { error: { code: 'INTERNAL', message: 'internal error', details: {} } })
  }
}
