import { errorKindOf, EXIT_CODES, type VarveError } from '@varve/core'

/** The CLI's contract with scripts (core's error table says which code exits how). */
export const EXIT = EXIT_CODES

type Details = { branch?: string; source?: string; operation?: string; hint?: string; request?: number; id?: number; reason?: string; commit?: string }
const detailsOf = (e: VarveError) => e.details as Details

/** What to run next, with the real names from the error (never a placeholder the user must fill in). */
const HINTS: Record<string, (e: VarveError) => string | undefined> = {
  MERGE_CONFLICT: (e) => {
    const { branch, source, operation } = detailsOf(e)
    if (operation !== 'merge' || !branch || !source) return 'resolve the listed paths on the branch and commit, then retry'
    const first = (e.details as { conflicts?: { path: string }[] }).conflicts?.[0]?.path
    // Quoted for a POSIX shell: a path may hold a quote; glob characters in it are escaped for the rule.
    const rule = `${(first ?? '**').replace(first ? /[*?[\]{}()!@+\\]/g : /$^/, '\\$&')}=source`.replace(/'/g, "'\\''")
    return `run: varve merge ${source} ${branch} --dry-run to see both sides of each path, then settle them per path (--resolve '${rule}' or =dest) or all at once (--strategy source-wins or dest-wins)`
  },
  HOOK_FAILED: (e) => {
    const { branch, source } = detailsOf(e)
    return branch
      ? `run: varve hooks runs ${branch} to see every check${source ? `, fix ${source} and: varve hooks check ${source} ${branch}` : ''}`
      : 'run: varve hooks runs'
  },
  DIRTY_BRANCH: (e) => {
    const b = detailsOf(e).branch
    return b ? `run: varve status ${b}, then varve commit ${b} -m <message>, or drop them: varve reset ${b} ${b} --discard-changes` : undefined
  },
  NOTHING_TO_COMMIT: (e) => (detailsOf(e).branch ? `run: varve status ${detailsOf(e).branch}` : undefined),
  PROTECTED_BRANCH: (e) => {
    const b = detailsOf(e).branch
    return b
      ? `changes reach ${b} by merge: varve branch create my-change --from ${b}, change that branch, then varve merge my-change ${b}`
      : 'changes reach a protected branch by merge (varve merge)'
  },
  NOT_A_REPOSITORY: (e) => detailsOf(e).hint ?? 'run: varve init, or pass --repo',
  INVALID_CONFIG: () => 'fix the rules file (see the line above), then retry',
  CONFLICT: () => 'another writer won the race: retry',
  PERMISSION_DENIED: (e) => {
    const { reason, id } = detailsOf(e)
    const reviewer = (e.details as { reviewer?: string }).reviewer
    if (reason === 'self-approval')
      return `a reviewer other than ${reviewer ?? 'its author'} approves it, acting as themselves: varve mr approve ${id} --author their-name (or with VARVE_AUTHOR set)`
    // (the reviewer's own key: another's is refused the same way, so the hint names no other person's)
    if (reason === 'signature')
      return `the reviewer signs with a key _varve/allowed_signers lists for them: varve mr approve ${id}${reviewer ? ` --author ${reviewer}` : ''} --signing-key ~/.ssh/id_ed25519 (or set VARVE_SIGNING_KEY)`
    return 'check the credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE) and the bucket policy'
  },
  APPROVAL_REQUIRED: (e) => {
    const { branch, request } = detailsOf(e)
    if (request !== undefined) return `run: varve mr show ${request} to see who approved what; a reviewer runs: varve mr approve ${request}`
    const source = detailsOf(e).source
    return branch && source
      ? `open a merge request: varve mr open ${source} ${branch} -t "Merge ${source}", get it approved (varve mr approve), then merge it (varve mr merge)`
      : 'merges into this branch go through merge requests: varve mr open --help'
  },
  MERGE_REQUEST_NOT_OPEN: (e) => (detailsOf(e).id !== undefined ? `run: varve mr show ${detailsOf(e).id}` : undefined),
}

export function exitCodeOf(err: VarveError): number {
  const exit = errorKindOf(err.code).exit
  if (exit === EXIT.error && (err.details as { usage?: boolean }).usage) return EXIT.usage
  return exit
}

export const hintFor = (err: VarveError): string | undefined => HINTS[err.code]?.(err)

/** One line: `error[CODE]: message; hint`. Stack traces only with VARVE_DEBUG=1. */
export function formatError(err: VarveError): string {
  const hint = hintFor(err)
  return `error[${err.code}]: ${err.message}${hint ? `; ${hint}` : ''}`
}

/** With --json: one document, `{ "error": { code, message, details, hint? } }`. */
export function formatJsonError(err: VarveError): string {
  const hint = hintFor(err)
  const details = { ...err.details }
  delete (details as { usage?: unknown }).usage
  return JSON.stringify({ error: { code: err.code, message: err.message, details, ...(hint ? { hint } : {}) } }, (_k, v) =>
    typeof v === 'bigint' ? v.toString() : v,
  )
}
