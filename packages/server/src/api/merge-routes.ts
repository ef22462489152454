import type { MergeRequestState, MergeStrategy, ResolveRule } from '@varve/core'
import { allowed } from '../access.js'
import type { Action } from '../config.js'

// The HTTP JSON API: what S3 cannot say (branches, commits, merges with their gate results and
// conflicts, reverts, diffs, history, tags, pins, gate checks). JSON in, JSON out; an error is
// `{ "error": { "code", "message", "details" } }` with the library's stable code.

import { ApiError, actor, authorship, jsonBody, mergeSides, need, repoOf, route, str, type ApiRequest, type Params } from './api-kit.js'

// Merges and merge requests.

/** Registers the merge and merge-request routes (called where they belong in the route order). */
export function registerMergeRoutes(): void {
  route('POST', '/repositories/{repo}/merges', async (a, p) => {
    const body = await jsonBody(a)
    const { source, dest } = mergeSides(a, p.repo!, body, 'commit')
    const strategy = str(body.strategy, 'strategy', true) as MergeStrategy | undefined
    const repo = await repoOf(a, p.repo!)
    const message = str(body.message, 'message', true)
    const r = await repo.merge(source, dest, {
      ...authorship(a, body),
      ...(strategy ? { strategy } : {}),
      ...(message ? { message } : {}),
      ...(body.dryRun === true ? { dryRun: true } : {}),
      ...(body.resolve !== undefined ? { resolve: body.resolve as ResolveRule[] } : {}),
    })
    return { merged: !r.upToDate && body.dryRun !== true, ...r }
  })

  // ---- merge requests: the acting identity is the access key (a body cannot name another reviewer) ----
  const requestId = (p: Params) => {
    const n = Number(p.id)
    if (!Number.isSafeInteger(n) || n < 1) throw new ApiError(400, 'INVALID_ARGUMENT', 'a merge request id is a positive integer')
    return n
  }
  /** The request, after checking the caller may `action` on its destination (and read its source). */
  async function requestFor(a: ApiRequest, p: Params, action: Action) {
    need(a, 'read', p.repo!)
    const repo = await repoOf(a, p.repo!)
    const id = requestId(p)
    const r = await repo.mergeRequest(id, { standing: action === 'read' && a.req.method === 'GET' })
    need(a, 'read', p.repo!, r.source)
    need(a, action, p.repo!, r.dest)
    return { repo, id, r }
  }

  route('GET', '/repositories/{repo}/merge-requests', async (a, p) => {
    need(a, 'read', p.repo!)
    const state = a.query.get('state') ?? undefined
    const repo = await repoOf(a, p.repo!)
    const out = []
    for await (const r of repo.mergeRequests(state && state !== 'all' ? { state: state as MergeRequestState } : {}))
      if (allowed(a.who, 'read', p.repo!, r.dest) && allowed(a.who, 'read', p.repo!, r.source)) out.push(r)
    return { mergeRequests: out }
  })
  route(
    'POST',
    '/repositories/{repo}/merge-requests',
    async (a, p) => {
      const body = await jsonBody(a)
      const { source, dest } = mergeSides(a, p.repo!, body, 'read')
      const repo = await repoOf(a, p.repo!)
      const id = await repo.openMergeRequest(source, dest, {
        title: str(body.title, 'title')!,
        author: actor(a),
        ...(body.description !== undefined ? { description: String(body.description) } : {}),
      })
      return repo.mergeRequest(id)
    },
    201,
  )
  route('GET', '/repositories/{repo}/merge-requests/{id}', async (a, p) => {
    const { repo, id, r } = await requestFor(a, p, 'read')
    const history = []
    for await (const e of repo.mergeRequestLog(id)) history.push(e)
    return { ...r, history }
  })
  route(
    'POST',
    '/repositories/{repo}/merge-requests/{id}/approvals',
    async (a, p) => {
      const { repo, id } = await requestFor(a, p, 'approve')
      if (!a.who.accessKey) throw new ApiError(403, 'PERMISSION_DENIED', 'approvals need an access key: anonymous requests cannot approve')
      const body = await jsonBody(a)
      const head = str(body.head, 'head', true)
      // Signed approvals: the reviewer (the access key's name) signs GET .../signing-text with their SSH key.
      const signature = str(body.signature, 'signature', true)
      return repo.approve(id, { reviewer: a.who.accessKey, ...(head ? { head } : {}), ...(signature ? { signature } : {}) })
    },
    201,
  )
  route('GET', '/repositories/{repo}/merge-requests/{id}/signing-text', async (a, p) => {
    const { repo, id } = await requestFor(a, p, 'approve')
    return repo.approvalSigningText(id, actor(a))
  })
  route('DELETE', '/repositories/{repo}/merge-requests/{id}/approvals', async (a, p) => {
    const { repo, id } = await requestFor(a, p, 'approve')
    return repo.unapprove(id, { reviewer: actor(a) })
  })
  route(
    'POST',
    '/repositories/{repo}/merge-requests/{id}/comments',
    async (a, p) => {
      const { repo, id } = await requestFor(a, p, 'read')
      const body = await jsonBody(a)
      const path = str(body.path, 'path', true)
      return repo.comment(id, { author: actor(a), text: str(body.text, 'text')!, ...(path ? { path } : {}) })
    },
    201,
  )
  route('POST', '/repositories/{repo}/merge-requests/{id}/close', async (a, p) => {
    const { repo, id, r } = await requestFor(a, p, 'read')
    // Its author may withdraw a request; anyone else needs to be able to merge into the destination.
    if (r.author !== actor(a)) need(a, 'commit', p.repo!, r.dest)
    return repo.closeMergeRequest(id, { author: actor(a) })
  })
  route('POST', '/repositories/{repo}/merge-requests/{id}/merge', async (a, p) => {
    const { repo, id } = await requestFor(a, p, 'commit')
    const body = await jsonBody(a)
    const strategy = str(body.strategy, 'strategy', true) as MergeStrategy | undefined
    const message = str(body.message, 'message', true)
    return repo.mergeMergeRequest(id, {
      author: actor(a),
      ...(strategy ? { strategy } : {}),
      ...(message ? { message } : {}),
      ...(body.resolve !== undefined ? { resolve: body.resolve as ResolveRule[] } : {}),
    })
  })
}
