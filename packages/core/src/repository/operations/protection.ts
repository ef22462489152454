import { mustGetBranch } from '../../commits/commit-staged.js'
import type { RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import {
  fullProtection,
  getProtection,
  getRule,
  isBranchPattern,
  listProtections,
  setProtection,
  validatePattern,
  type BranchProtection,
} from '../../hooks/branch-protection.js'
import { guard, guardIterable } from '../guard.js'

// Branch protection rules: set, remove, read one branch's combined rules, list every stored rule.

export function protectBranch(ctx: RepoContext, name: string, rules: Partial<BranchProtection>, options: { author?: string }): Promise<BranchProtection> {
  return guard('protectBranch', async () => {
    validatePattern(name)
    if (!isBranchPattern(name)) await mustGetBranch(ctx, name)
    const full = fullProtection(rules)
    await setProtection(ctx.refs, name, full, { author: options.author ?? ctx.defaultAuthor, at: ctx.clock.now() })
    return full
  })
}

export function unprotectBranch(ctx: RepoContext, name: string, options: { author?: string }): Promise<void> {
  return guard('unprotectBranch', async () => {
    validatePattern(name)
    if (!(await getRule(ctx.refs, name)) && (isBranchPattern(name) || !(await ctx.refs.getBranch(name))))
      throw new VarveError(ErrorCodes.NOT_FOUND, `no protection rules for ${name}`, { details: { branch: name } })
    await setProtection(ctx.refs, name, null, { author: options.author ?? ctx.defaultAuthor, at: ctx.clock.now() })
  })
}

export function branchProtection(ctx: RepoContext, name: string): Promise<BranchProtection | undefined> {
  return guard('branchProtection', () => getProtection(ctx.refs, name))
}

export function protectedBranches(ctx: RepoContext): AsyncIterable<{ branch: string; rules: BranchProtection }> {
  return guardIterable('protectedBranches', () => listProtections(ctx.refs))
}
