import type { BranchProtection } from '@varve/core'
import { allowed } from '../access.js'
import { actor, ApiError, jsonBody, need, repoOf, route } from './api-kit.js'

// Branch protection over the API: the rules a branch or a pattern is under, set and removed by
// admins of that name.

const RULES: readonly (keyof BranchProtection)[] = [
  'directCommits',
  'deletion',
  'reset',
  'requiredApprovals',
  'dismissStaleApprovals',
  'requireMergeRequest',
  'signedApprovals',
] as (keyof BranchProtection)[]

export function registerProtectionRoutes(): void {
  route('GET', '/repositories/{repo}/protections', async (a, p) => {
    need(a, 'read', p.repo!)
    const repo = await repoOf(a, p.repo!)
    const out = []
    for await (const r of repo.protectedBranches()) if (allowed(a.who, 'read', p.repo!, r.branch)) out.push(r)
    return { protections: out }
  })
  route('PUT', '/repositories/{repo}/protections/{name*}', async (a, p) => {
    need(a, 'admin', p.repo!, p.name!)
    const body = await jsonBody(a)
    const unknown = Object.keys(body).filter((k) => !RULES.includes(k as keyof BranchProtection))
    if (unknown.length) throw new ApiError(400, 'INVALID_ARGUMENT', `unknown rules: ${unknown.join(', ')} (known: ${RULES.join(', ')})`)
    const notBoolean = Object.keys(body).filter((k) => k !== 'requiredApprovals' && typeof body[k] !== 'boolean')
    if (notBoolean.length) throw new ApiError(400, 'INVALID_ARGUMENT', `${notBoolean.join(', ')} must be true or false`)
    const repo = await repoOf(a, p.repo!)
    return repo.protectBranch(p.name!, body as Partial<BranchProtection>, { author: actor(a) })
  })
  route('DELETE', '/repositories/{repo}/protections/{name*}', async (a, p) => {
    need(a, 'admin', p.repo!, p.name!)
    await (await repoOf(a, p.repo!)).unprotectBranch(p.name!, { author: actor(a) })
    return { deleted: p.name }
  })
}
