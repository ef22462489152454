import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { RefStore } from '../stores/ref-store.js'
import { validateRefName } from '../util/ref-names.js'
import { settingLogRef } from '../stores/setting-log.js'
import { safeGlob } from './contracts/safe-pattern.js'

/** What a protected branch allows; `false` refuses it with PROTECTED_BRANCH. Changes then arrive by merge only. */
export interface BranchProtection {
  /** Staging writes, commits, reverts and cherry-picks on the branch itself. */
  readonly directCommits: boolean
  readonly deletion: boolean
  readonly reset: boolean
  /**
   * Approvals (by people other than its author) a merge request needs before it merges into the
   * branch. With any, merges arrive only through an approved request (APPROVAL_REQUIRED otherwise).
   */
  readonly requiredApprovals: number
  /** An approval counts only for the source head it approved: a new commit on the source voids it. */
  readonly dismissStaleApprovals: boolean
  /** Merges arrive only through a merge request, approved or not (implied by `requiredApprovals` > 0). */
  readonly requireMergeRequest: boolean
  /**
   * An approval counts only when it carries an SSH signature by a key that `_varve/allowed_signers`
   * on the branch lists for the reviewer (git's allowed-signers format).
   */
  readonly signedApprovals: boolean
}

export interface ProtectionRule {
  /** A branch name, or a glob of names (`release/*`; `*` stays within a `/` segment, `**` crosses them). */
  readonly pattern: string
  readonly rules: BranchProtection
}

// Exact names keep one setting each (as before patterns existed); patterns share one setting, so a
// write checks its branch with two reads, whatever the number of rules.
const key = (branch: string) => `protection/${branch}`
const PATTERNS = 'protection-patterns'
const MAX_APPROVALS = 100

export const isBranchPattern = (s: string) => /[*?[{]/.test(s)

export function fullProtection(rules: Partial<BranchProtection> = {}): BranchProtection {
  const requiredApprovals = rules.requiredApprovals ?? 0
  if (!Number.isInteger(requiredApprovals) || requiredApprovals < 0 || requiredApprovals > MAX_APPROVALS)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `requiredApprovals must be an integer from 0 to ${MAX_APPROVALS}`, { details: { requiredApprovals } })
  return {
    directCommits: rules.directCommits ?? false,
    deletion: rules.deletion ?? false,
    reset: rules.reset ?? false,
    requiredApprovals,
    dismissStaleApprovals: rules.dismissStaleApprovals ?? false,
    requireMergeRequest: (rules.requireMergeRequest ?? false) || requiredApprovals > 0,
    signedApprovals: rules.signedApprovals ?? false,
  }
}

/** Rules stored by versions before approvals existed lack the new fields: they mean "none". */
const parseRules = (raw: string): BranchProtection => fullProtection(JSON.parse(raw) as Partial<BranchProtection>)

const compiled = new Map<string, (branch: string) => boolean>()
function patternMatches(pattern: string, branch: string): boolean {
  let m = compiled.get(pattern)
  if (!m) {
    const g = safeGlob(pattern)
    compiled.set(pattern, (m = (b) => g.test(b)))
  }
  return m(branch)
}

export function validatePattern(pattern: string): string {
  if (!isBranchPattern(pattern)) return validateRefName(pattern)
  try {
    safeGlob(pattern)
  } catch (e) {
    throw new VarveError(ErrorCodes.INVALID_REF, `invalid branch pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`, { details: { pattern } })
  }
  return pattern
}

async function readPatterns(refs: RefStore): Promise<{ raw: string | undefined; rules: Record<string, BranchProtection> }> {
  const raw = await refs.getSetting(PATTERNS)
  if (raw === undefined) return { raw, rules: {} }
  const parsed = JSON.parse(raw) as Record<string, unknown>
  return { raw, rules: Object.fromEntries(Object.entries(parsed).map(([p, r]) => [p, parseRules(JSON.stringify(r))])) }
}

/** The rules one branch is under: its own and every matching pattern's, the strictest of each. */
export async function getProtection(refs: RefStore, branch: string): Promise<BranchProtection | undefined> {
  const [own, patterns] = await Promise.all([refs.getSetting(key(branch)), readPatterns(refs)])
  const all = [
    ...(own === undefined ? [] : [parseRules(own)]),
    ...Object.entries(patterns.rules)
      .filter(([p]) => patternMatches(p, branch))
      .map(([, r]) => r),
  ]
  return combineRules(all)
}

/** Several rules over one branch: the strictest of each. */
export function combineRules(all: readonly BranchProtection[]): BranchProtection | undefined {
  if (!all.length) return undefined
  return {
    directCommits: all.every((r) => r.directCommits),
    deletion: all.every((r) => r.deletion),
    reset: all.every((r) => r.reset),
    requiredApprovals: Math.max(...all.map((r) => r.requiredApprovals)),
    dismissStaleApprovals: all.some((r) => r.dismissStaleApprovals),
    requireMergeRequest: all.some((r) => r.requireMergeRequest),
    signedApprovals: all.some((r) => r.signedApprovals),
  }
}

/** The rules stored under exactly this name or pattern (not combined with others). */
export async function getRule(refs: RefStore, pattern: string): Promise<BranchProtection | undefined> {
  if (isBranchPattern(pattern)) return (await readPatterns(refs)).rules[pattern]
  const raw = await refs.getSetting(key(pattern))
  return raw === undefined ? undefined : parseRules(raw)
}

/**
 * Every change of rules, oldest first, as recorded in the ref log of the setting `protection-log`
 * (what `verifyApprovals` replays to know the rules in force when a commit landed).
 */
export async function protectionHistory(refs: RefStore): Promise<{ at: number; pattern: string; rules: BranchProtection | null; author: string }[]> {
  const out: { at: number; pattern: string; rules: BranchProtection | null; author: string }[] = []
  for await (const e of refs.listRefLog(settingLogRef(HISTORY))) {
    try {
      const m = JSON.parse(e.message ?? '') as { pattern: string; rules: Partial<BranchProtection> | null }
      out.push({ at: e.at, pattern: m.pattern, rules: m.rules === null ? null : fullProtection(m.rules), author: e.author })
    } catch {
      // an entry this version cannot read grants nothing
    }
  }
  return out.reverse()
}

/** The rules a branch was under at time `at`, from the history (undefined: none). */
export function rulesAt(history: Awaited<ReturnType<typeof protectionHistory>>, branch: string, at: number): BranchProtection | undefined {
  const state = new Map<string, BranchProtection>()
  for (const h of history) {
    if (h.at > at) break
    if (h.rules === null) state.delete(h.pattern)
    else state.set(h.pattern, h.rules)
  }
  return combineRules([...state].filter(([p]) => (isBranchPattern(p) ? patternMatches(p, branch) : p === branch)).map(([, r]) => r))
}

const HISTORY = 'protection-log'

/** Appends a change of rules to the history (before the change itself: a crash in between records a change that did not happen, never the reverse). */
async function recordProtection(refs: RefStore, pattern: string, rules: BranchProtection | null, who: { author: string; at: number }): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const cur = await refs.getSetting(HISTORY)
    const next = String((cur === undefined ? 0 : Number(cur) || 0) + 1)
    const entry = {
      ref: settingLogRef(HISTORY),
      old: null,
      new: null,
      operation: rules === null ? 'unprotect' : 'protect',
      author: who.author,
      at: who.at,
      message: JSON.stringify({ pattern, rules }),
    }
    if (await refs.compareAndSetSetting(HISTORY, cur, next, entry)) return
  }
  throw new VarveError(ErrorCodes.CONFLICT, `recording the protection of ${pattern} kept racing with other changes`, { details: { pattern } })
}

export async function setProtection(refs: RefStore, pattern: string, rules: BranchProtection | null, who: { author: string; at: number }): Promise<void> {
  await recordProtection(refs, pattern, rules, who)
  if (!isBranchPattern(pattern)) return refs.setSetting(key(pattern), rules === null ? null : JSON.stringify(rules))
  for (let attempt = 0; attempt < 50; attempt++) {
    const cur = await readPatterns(refs)
    const next = { ...cur.rules }
    if (rules === null) delete next[pattern]
    else next[pattern] = rules
    if (await refs.compareAndSetSetting(PATTERNS, cur.raw, JSON.stringify(next))) return
  }
  throw new VarveError(ErrorCodes.CONFLICT, `changing the protection of ${pattern} kept racing with other changes`, { details: { pattern } })
}

/** Every rule: exact names, then patterns, each in name order. */
export async function* listProtections(refs: RefStore): AsyncGenerator<{ branch: string; rules: BranchProtection }> {
  for await (const s of refs.listSettings('protection/')) yield { branch: s.key.slice('protection/'.length), rules: parseRules(s.value) }
  const patterns = (await readPatterns(refs)).rules
  for (const p of Object.keys(patterns).sort()) yield { branch: p, rules: patterns[p]! }
}

const ACTIONS: Record<'directCommits' | 'deletion' | 'reset', string> = {
  directCommits: 'takes changes by merge only (direct writes and commits are refused)',
  deletion: 'cannot be deleted',
  reset: 'cannot be reset',
}

export async function assertAllowed(refs: RefStore, branch: string, action: 'directCommits' | 'deletion' | 'reset'): Promise<void> {
  const rules = await getProtection(refs, branch)
  if (rules && rules[action] === false)
    throw new VarveError(ErrorCodes.PROTECTED_BRANCH, `branch ${branch} is protected: it ${ACTIONS[action]}`, { details: { branch, action } })
}
