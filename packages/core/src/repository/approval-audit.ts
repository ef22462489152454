import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { getProtection, protectionHistory, rulesAt, type BranchProtection } from '../hooks/branch-protection.js'
import { MergeRequestStore, type MergeRequestRecord } from '../merge-requests/merge-request-store.js'
import type { Commit } from '../model/commit.js'
import { validateRefName } from '../util/ref-names.js'
import { checkApprovalSignatures } from './allowed-signers.js'
import type { RepoContext } from '../context/repo-context.js'
import { approvalStatus, REQUEST_METADATA } from './merge-requests.js'

export interface ApprovalAuditProblem {
  readonly branch: string
  /** The commit on the branch's first-parent line that did not arrive as its rules required. */
  readonly commit: string
  readonly message: string
  readonly author: string
  readonly at: number
  readonly reason: string
}

export interface ApprovalAudit {
  readonly ok: boolean
  /** Branches audited, each with the commits checked (those that landed under rules requiring merge requests). */
  readonly branches: readonly { readonly branch: string; readonly checked: number }[]
  readonly problems: readonly ApprovalAuditProblem[]
}

export interface ApprovalAuditOptions {
  /** One branch (default: every branch that is, or was, under rules requiring merge requests). */
  readonly branch?: string
  /** Commits walked per branch, newest first (default: all). */
  readonly limit?: number
}

/**
 * Walks the first-parent history of protected branches and reports every commit that landed while
 * the rules then in force required merge requests, but that is not the merge of a request approved
 * as those rules required: a direct commit, a reset onto foreign history, a merge naming no request
 * or one not merged as that commit, too few approvals, or (under `signedApprovals`) signatures that
 * do not verify against the allowed signers the branch had. Rules come from the protection history
 * in the ref log; rules set before it existed count from the first merge of a request on the branch.
 * It detects what a writer that bypassed the library did; it cannot prevent it.
 */
export async function auditApprovals(ctx: RepoContext, options: ApprovalAuditOptions = {}): Promise<ApprovalAudit> {
  const history = await protectionHistory(ctx.refs)
  const branches: string[] = []
  if (options.branch !== undefined) {
    validateRefName(options.branch)
    if (!(await ctx.refs.getBranch(options.branch)))
      throw new VarveError(ErrorCodes.NOT_FOUND, `branch ${options.branch} not found`, { details: { branch: options.branch } })
    branches.push(options.branch)
  } else {
    for await (const b of ctx.refs.listBranches()) {
      const now = await getProtection(ctx.refs, b.name)
      if (now?.requireMergeRequest || history.some((h) => rulesAt(history, b.name, h.at)?.requireMergeRequest)) branches.push(b.name)
    }
  }
  const requests = new MergeRequestStore(ctx)
  const out: ApprovalAudit['branches'][number][] = []
  const problems: ApprovalAuditProblem[] = []
  for (const branch of branches) {
    const b = await ctx.refs.getBranch(branch)
    if (!b) continue
    const current = await getProtection(ctx.refs, branch)
    // Whether any recorded change of rules ever applied to this branch (else: rules older than the history).
    const recorded = history.some((h) => h.pattern === branch || rulesAt(history, branch, h.at) !== undefined)
    const rulesFor = (c: Commit): BranchProtection | undefined => (recorded ? rulesAt(history, branch, c.createdAt) : current)
    const line: Commit[] = []
    for (let id: string | undefined = b.head; id && line.length < (options.limit ?? Infinity); ) {
      const c = await ctx.objects.readCommit(id)
      line.push(c)
      id = c.parents[0]
    }
    // Without a recorded history, protection is taken to start at the oldest merge of a request.
    let from = line.length
    if (!recorded) {
      let oldest = -1
      line.forEach((c, i) => {
        if (typeof c.metadata[REQUEST_METADATA] === 'number') oldest = i
      })
      from = oldest + 1
    }
    let checked = 0
    for (const c of line.slice(0, from)) {
      const rules = rulesFor(c)
      if (!rules?.requireMergeRequest || !c.parents.length) continue
      checked++
      const reason = await whyNotApproved(ctx, requests, branch, c, rules)
      if (reason) problems.push({ branch, commit: c.id, message: c.message, author: c.committer ?? c.author, at: c.createdAt, reason })
    }
    out.push({ branch, checked })
  }
  return { ok: problems.length === 0, branches: out, problems }
}

async function whyNotApproved(ctx: RepoContext, requests: MergeRequestStore, branch: string, c: Commit, rules: BranchProtection): Promise<string | undefined> {
  if (c.parents.length !== 2)
    return `not a merge (${c.parents.length} parent${c.parents.length === 1 ? '' : 's'}): it landed on ${branch} while its rules required merge requests`
  const id = c.metadata[REQUEST_METADATA]
  if (typeof id !== 'number') return 'a merge that names no merge request'
  let r: MergeRequestRecord
  try {
    r = await requests.get(id)
  } catch (err) {
    if (VarveError.is(err, ErrorCodes.NOT_FOUND)) return `names merge request ${id}, which does not exist`
    throw err
  }
  if (r.dest !== branch) return `names merge request ${id}, which is into ${r.dest}`
  if (r.state !== 'merged' || r.merged?.commit !== c.id)
    return `names merge request ${id}, which was not merged as this commit (it is ${r.state}${r.merged ? `, merged as ${r.merged.commit.slice(0, 12)}` : ''})`
  if (c.parents[1] !== r.merged.sourceHead)
    return `merged ${c.parents[1]!.slice(0, 12)}, not the source head the request's approvals were counted for (${r.merged.sourceHead.slice(0, 12)})`
  // The keys the branch had when the merge landed: those on its first parent.
  const signatures = rules.signedApprovals ? await checkApprovalSignatures(ctx, r, r.approvals, c.parents[0]!) : undefined
  const status = approvalStatus(r, rules, r.merged.sourceHead, signatures)
  if (!status.satisfied) {
    const rejected = status.rejected?.length ? `; not counted: ${status.rejected.map((x) => `${x.reviewer} (${x.reason})`).join(', ')}` : ''
    return `merge request ${id} had ${status.counted.length} of ${status.required} required approval${status.required === 1 ? '' : 's'}${rejected}`
  }
  return undefined
}
