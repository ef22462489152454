import { VarveError } from '../errors/varve-error.js'
import type { RefStore } from '../stores/ref-store.js'

/** What a protected branch allows; `false` refuses it with PROTECTED_BRANCH. Changes then arrive by merge only. */
export interface BranchProtection {
  /** Staging writes, commits, reverts and cherry-picks on the branch itself. */
  readonly directCommits: boolean
  readonly deletion: boolean
  readonly reset: boolean
}

const key = (branch: string) => `protection/${branch}`

export async function getProtection(refs: RefStore, branch: string): Promise<BranchProtection | undefined> {
  const raw = await refs.getSetting(key(branch))
  return raw === undefined ? undefined : (JSON.parse(raw) as BranchProtection)
}

export async function setProtection(refs: RefStore, branch: string, rules: BranchProtection | null): Promise<void> {
  await refs.setSetting(key(branch), rules === null ? null : JSON.stringify(rules))
}

export async function* listProtections(refs: RefStore): AsyncGenerator<{ branch: string; rules: BranchProtection }> {
  for await (const s of refs.listSettings('protection/')) yield { branch: s.key.slice('protection/'.length), rules: JSON.parse(s.value) as BranchProtection }
}

const ACTIONS: Record<keyof BranchProtection, string> = {
  directCommits: 'takes changes by merge only (direct writes and commits are refused)',
  deletion: 'cannot be deleted',
  reset: 'cannot be reset',
}

export async function assertAllowed(refs: RefStore, branch: string, action: keyof BranchProtection): Promise<void> {
  const rules = await getProtection(refs, branch)
  if (rules && rules[action] === false)
    throw new VarveError('PROTECTED_BRANCH', `branch ${branch} is protected: it ${ACTIONS[action]}`, { details: { branch, action } })
}
