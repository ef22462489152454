import { VarveError } from '@varve/core'

/** The CLI's contract with scripts. */
export const EXIT = { ok: 0, error: 1, usage: 2, mergeConflict: 3, hookFailed: 4 } as const

const HINTS: Record<string, (e: VarveError) => string | undefined> = {
  MERGE_CONFLICT: (e) => {
    const d = e.details as { branch?: string }
    return `run: varve diff ${d.branch ?? '<dest>'} <source> to see both sides, or merge with --strategy source-wins|dest-wins`
  },
  HOOK_FAILED: (e) => `run: varve hooks runs ${(e.details as { branch?: string }).branch ?? ''} to see every check`.trimEnd(),
  DIRTY_BRANCH: (e) => `run: varve status ${(e.details as { branch?: string }).branch ?? '<branch>'}, then commit or reset --discard-changes`,
  NOTHING_TO_COMMIT: (e) => `run: varve status ${(e.details as { branch?: string }).branch ?? '<branch>'}`,
  PROTECTED_BRANCH: () => 'changes reach a protected branch by merge: varve merge <source> <branch>',
  NOT_A_REPOSITORY: (e) => (e.details as { hint?: string }).hint ?? 'run: varve init, or pass --repo',
  INVALID_CONFIG: () => 'fix the rules file (see the line above), then retry',
  CONFLICT: () => 'another writer won the race: retry',
  PERMISSION_DENIED: () => 'check the credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE) and the bucket policy',
}

export function exitCodeOf(err: VarveError): number {
  if (err.code === 'MERGE_CONFLICT') return EXIT.mergeConflict
  if (err.code === 'HOOK_FAILED') return EXIT.hookFailed
  if ((err.details as { usage?: boolean }).usage) return EXIT.usage
  return EXIT.error
}

/** One line: `error[CODE]: message; hint`. Stack traces only with VARVE_DEBUG=1. */
export function formatError(err: VarveError): string {
  const hint = HINTS[err.code]?.(err)
  return `error[${err.code}]: ${err.message}${hint ? `; ${hint}` : ''}`
}
