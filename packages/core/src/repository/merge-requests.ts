// Over 400 lines on purpose: one protocol, the merge request's life (open, approve, comment, claim,
// merge, release), whose steps share the claim and approval checks; its types are in merge-request-types.ts.
import { mergeBase } from '../commits/history.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { getProtection, type BranchProtection } from '../hooks/branch-protection.js'
import type { HookFailure, HookRun } from '../hooks/hook-types.js'
import type { ConflictRows } from '../merge/conflict-rows.js'
import type { ResolveRule } from '../merge/resolve-rules.js'
import type { Conflict, MergeStrategy } from '../merge/three-way.js'
import { MergeRequestStore, type MergeRequestComment, type MergeRequestRecord, type MergeRequestState } from '../merge-requests/merge-request-store.js'
import type { Commit } from '../model/commit.js'
import type { RefLogRecord } from '../stores/ref-store.js'
import type { DiffEntry } from '../tree/tree-diff.js'
import { validatePath } from '../util/paths.js'
import { validateRefName } from '../util/ref-names.js'
import type { RepoContext } from '../context/repo-context.js'
import { approvalSigningText, checkApprovalSignatures, repositoryIdOf, type SignatureChecks } from './allowed-signers.js'
import type { ApprovalStatus, MergeMergeRequestOptions, MergeRequestMergeResult, MergeRequestView, OpenMergeRequestOptions } from './merge-request-types.js'
import { signWithSshKeygen } from '../merge-requests/ssh-signature.js'

export type { ApprovalStatus, MergeMergeRequestOptions, MergeRequestMergeResult, MergeRequestView, OpenMergeRequestOptions } from './merge-request-types.js'

/** How the Repository merges for a request (its gates, fence and retries), without the approval rule. */
export interface RequestMerger {
  merge(
    sourceCommit: string,
    sourceLabel: string,
    dest: string,
    options: {
      author: string
      strategy?: MergeStrategy
      resolve?: readonly ResolveRule[]
      message: string
      metadata: Record<string, string | number | string[]>
      dryRun?: boolean
    },
  ): Promise<{
    readonly commit: Commit
    readonly upToDate: boolean
    readonly conflicts?: readonly (Conflict & { rows?: ConflictRows })[]
    readonly gateRuns?: readonly HookRun[]
  }>
  diff(from: string, to: string): AsyncIterable<DiffEntry>
  commitsOf(branch: string, limit: number): AsyncIterable<Commit>
}

const MAX_TITLE = 500
const MAX_TEXT = 64 * 1024
const MAX_COMMENTS = 1000
/** A request's stored record, comments included. */
const MAX_RECORD_BYTES = 1024 * 1024
const MAX_NAME = 255
const SHOWN_PATHS = 100
/** How far back a finished merge is looked for in the destination's history, by the request it names. */
const MERGE_SEARCH = 1000
export const REQUEST_METADATA = 'varve.merge-request'
export const APPROVERS_METADATA = 'varve.merge-request.approvers'

const text = (v: unknown, what: string, max: number, optional = false): string => {
  if (v === undefined && optional) return ''
  if (typeof v !== 'string' || (!optional && !v.trim()))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${what} must be a non-empty string`, { details: { field: what } })
  if (v.length > max) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${what} is longer than ${max} characters`, { details: { field: what } })
  return v
}
/**
 * A name as stored: NFC, without surrounding spaces or control characters. Names are compared by
 * `samePerson` (case and Unicode compatibility folded), so `Ann` or `ann ` is `ann`: an author cannot
 * approve her own request under another spelling, and one reviewer counts once.
 */
const person = (v: unknown, what: string, fallback: string): string => {
  const name = (v === undefined ? fallback : text(v, what, MAX_NAME)).normalize('NFC').trim()
  // eslint-disable-next-line no-control-regex
  if (!name || /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/.test(name))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${what} must be a name without control or invisible characters`, { details: { field: what } })
  return name
}
const identityKey = (name: string) => name.normalize('NFKC').trim().toLowerCase()
export const samePerson = (a: string, b: string): boolean => identityKey(a) === identityKey(b)

/** Counts approvals for `sourceHead` under `rules`; the author's own never counts. */
export function approvalStatus(
  r: MergeRequestRecord,
  rules: BranchProtection | undefined,
  sourceHead: string | null,
  signatures?: SignatureChecks,
): ApprovalStatus {
  const required = rules?.requiredApprovals ?? 0
  const counted: string[] = []
  const stale: string[] = []
  const rejected: { reviewer: string; reason: string }[] = []
  const seen = new Set<string>()
  for (const a of r.approvals) {
    if (samePerson(a.reviewer, r.author) || seen.has(identityKey(a.reviewer))) continue
    seen.add(identityKey(a.reviewer))
    if (rules?.signedApprovals) {
      const check = signatures?.get(a.reviewer)
      // (a check made for another signature, e.g. before the reviewer approved again, does not count)
      if (!check || check.signature !== a.signature || !check.ok) {
        rejected.push({ reviewer: a.reviewer, reason: check && check.signature === a.signature ? (check.reason ?? 'not verified') : 'not verified' })
        continue
      }
    }
    const current = a.sourceHead === sourceHead
    if (!current) stale.push(a.reviewer)
    if (current || !rules?.dismissStaleApprovals) counted.push(a.reviewer)
  }
  return { required, counted, stale, satisfied: counted.length >= required, ...(rules?.signedApprovals ? { rejected } : {}) }
}

export function approvalRequired(dest: string, status: ApprovalStatus, about: { request?: number; source?: string } = {}): VarveError {
  const { request, source } = about
  const how =
    request === undefined
      ? `merges into ${dest} go through a merge request${status.required ? ` with ${status.required} approval${status.required === 1 ? '' : 's'}` : ''}`
      : `merge request ${request} into ${dest} has ${status.counted.length} of ${status.required} required approval${status.required === 1 ? '' : 's'}${status.stale.length ? ` (${status.stale.join(', ')} approved an older source head)` : ''}`
  const rejected = status.rejected?.length ? `; not counted: ${status.rejected.map((x) => `${x.reviewer} (${x.reason})`).join(', ')}` : ''
  return new VarveError(ErrorCodes.APPROVAL_REQUIRED, how + rejected, {
    details: {
      branch: dest,
      required: status.required,
      approvals: status.counted,
      stale: status.stale,
      ...(status.rejected ? { rejected: status.rejected } : {}),
      ...(request !== undefined ? { request } : {}),
      ...(source !== undefined ? { source } : {}),
    },
  })
}

const notOpen = (r: MergeRequestRecord, wanted: string) =>
  new VarveError(
    ErrorCodes.MERGE_REQUEST_NOT_OPEN,
    `merge request ${r.id} is ${r.state}${r.merged ? ` (as ${r.merged.commit.slice(0, 12)})` : ''}: cannot ${wanted}`,
    {
      details: { id: r.id, state: r.state, ...(r.merged ? { commit: r.merged.commit } : {}) },
    },
  )

/** Merge requests: reviews and approvals in the ref store, merged through the destination's gates. */
export class MergeRequests {
  readonly #store: MergeRequestStore

  constructor(
    private readonly ctx: RepoContext,
    private readonly merger: RequestMerger,
  ) {
    this.#store = new MergeRequestStore(ctx)
  }

  async open(source: string, dest: string, options: OpenMergeRequestOptions): Promise<number> {
    validateRefName(source)
    validateRefName(dest)
    if (!options || typeof options !== 'object') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a merge request needs { title }')
    const title = text(options.title, 'title', MAX_TITLE)
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(title))
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a title is one line, without control characters', { details: { field: 'title' } })
    const description = text(options.description, 'description', MAX_TEXT, true)
    const author = person(options.author, 'author', this.ctx.defaultAuthor)
    if (source === dest) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a merge request merges one branch into another, not ${source} into itself`)
    const [src] = await Promise.all([this.#branchHead(source), this.#branchHead(dest)])
    const r = await this.#store.create({ title, description, author, source, dest, openedAt: src })
    return r.id
  }

  async *list(options: { state?: MergeRequestState } = {}): AsyncGenerator<MergeRequestRecord> {
    const state = options.state
    if (state !== undefined && !['open', 'closed', 'merged'].includes(state))
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `state must be open, closed or merged, not ${JSON.stringify(state)}`)
    for await (const r of this.#store.list()) if (state === undefined || r.state === state) yield r
  }

  log(id: number): AsyncIterable<RefLogRecord> {
    return this.#store.log(id)
  }

  async show(id: number, options: { standing?: boolean } = {}): Promise<MergeRequestView> {
    const r = await this.#store.get(id)
    const [sourceHead, destHead] = await Promise.all([this.#headOrNull(r.source), this.#headOrNull(r.dest)])
    if (r.state !== 'open' || options.standing === false) return { ...r, sourceHead, destHead }
    const rules = await getProtection(this.ctx.refs, r.dest)
    const approval = approvalStatus(
      r,
      rules,
      sourceHead,
      rules?.signedApprovals && destHead ? await checkApprovalSignatures(this.ctx, r, r.approvals, destHead) : undefined,
    )
    const blockers: string[] = []
    if (!approval.satisfied) blockers.push(`${approval.counted.length} of ${approval.required} required approvals`)
    if (sourceHead === null || destHead === null) {
      blockers.push(`branch ${sourceHead === null ? r.source : r.dest} no longer exists`)
      return { ...r, sourceHead, destHead, approval, gates: { status: 'not-run', reason: 'a branch is gone' }, mergeable: false, blockers }
    }
    const base = (await mergeBase(this.ctx.objects, sourceHead, destHead)) ?? null
    const changes = await this.#changes(base, sourceHead)
    let conflicts: readonly (Conflict & { rows?: ConflictRows })[] = []
    let gates: NonNullable<MergeRequestView['gates']>
    try {
      const dry = await this.merger.merge(sourceHead, r.source, r.dest, { author: r.author, message: `Merge request ${r.id}`, metadata: {}, dryRun: true })
      conflicts = dry.conflicts ?? []
      if (dry.upToDate) gates = { status: 'not-run', reason: `${r.dest} already contains ${r.source}` }
      else if (conflicts.length) gates = { status: 'not-run', reason: `${conflicts.length} conflicting path${conflicts.length === 1 ? '' : 's'}` }
      else gates = { status: 'passed', runs: dry.gateRuns ?? [] }
    } catch (err) {
      if (!VarveError.is(err, ErrorCodes.HOOK_FAILED)) throw err
      const d = err.details as { runId?: string; failures?: HookFailure[] }
      gates = { status: 'failed', ...(d.runId ? { runId: d.runId } : {}), failures: d.failures ?? [] }
    }
    if (conflicts.length) blockers.push(`${conflicts.length} conflicting path${conflicts.length === 1 ? '' : 's'} (merge with --resolve or --strategy)`)
    if (gates.status === 'failed') blockers.push('pre-merge gates fail')
    if (r.merging) blockers.push(`a merge by ${r.merging.by} is in progress`)
    return { ...r, sourceHead, destHead, changes, conflicts, gates, approval, mergeable: blockers.length === 0, blockers }
  }

  async approve(id: number, options: { reviewer?: string; head?: string; signature?: string }): Promise<MergeRequestRecord> {
    const reviewer = person(options?.reviewer, 'reviewer', this.ctx.defaultAuthor)
    const r0 = await this.#store.get(id)
    if (r0.state !== 'open') throw notOpen(r0, 'approve it')
    const head = await this.#branchHead(r0.source)
    if (options.head !== undefined && options.head !== head && !(options.head.length >= 7 && head.startsWith(options.head)))
      throw new VarveError(
        ErrorCodes.CONFLICT,
        `${r0.source} moved to ${head.slice(0, 12)} since ${String(options.head).slice(0, 12)}: review the new head, then approve it`,
        {
          details: { id, source: r0.source, head, expected: options.head },
        },
      )
    if (samePerson(reviewer, r0.author))
      throw new VarveError(ErrorCodes.PERMISSION_DENIED, `${reviewer} opened merge request ${id} and cannot approve it`, {
        details: { id, reviewer, reason: 'self-approval' },
      })
    const signature = options.signature
    const rules = await getProtection(this.ctx.refs, r0.dest)
    if (signature !== undefined || rules?.signedApprovals) {
      // Checked now, so a reviewer learns at once; checked again when the request merges.
      const checks = await checkApprovalSignatures(
        this.ctx,
        r0,
        [{ reviewer, sourceHead: head, at: this.ctx.clock.now(), ...(signature !== undefined ? { signature } : {}) }],
        await this.#branchHead(r0.dest),
      )
      const check = checks.get(reviewer)!
      if (!check.ok)
        throw new VarveError(
          ErrorCodes.PERMISSION_DENIED,
          `${r0.dest} requires approvals signed by a key _varve/allowed_signers lists for the reviewer; ${reviewer}'s ${signature === undefined ? 'approval is not signed' : `signature does not hold: ${check.reason}`}`,
          {
            details: { id, reviewer, reason: 'signature', why: check.reason },
          },
        )
    }
    return this.#store.update(id, reviewer, (r) => {
      if (r.state !== 'open') throw notOpen(r, 'approve it')
      if (samePerson(reviewer, r.author))
        throw new VarveError(ErrorCodes.PERMISSION_DENIED, `${reviewer} opened merge request ${id} and cannot approve it`, {
          details: { id, reviewer, reason: 'self-approval' },
        })
      const approvals = [
        ...r.approvals.filter((a) => !samePerson(a.reviewer, reviewer)),
        { reviewer, at: this.ctx.clock.now(), sourceHead: head, ...(signature !== undefined ? { signature } : {}) },
      ]
      return { record: { ...r, approvals }, operation: 'mr-approve', new: head, message: `approved ${r.source} at ${head.slice(0, 12)}` }
    })
  }

  async unapprove(id: number, options: { reviewer?: string }): Promise<MergeRequestRecord> {
    const reviewer = person(options?.reviewer, 'reviewer', this.ctx.defaultAuthor)
    return this.#store.update(id, reviewer, (r) => {
      if (r.state !== 'open') throw notOpen(r, 'withdraw an approval')
      if (r.merging)
        throw new VarveError(
          ErrorCodes.CONFLICT,
          `merge request ${id} is being merged (by ${r.merging.by}) with the approvals it had: too late to withdraw one`,
          { details: { id, merging: r.merging } },
        )
      if (!r.approvals.some((a) => samePerson(a.reviewer, reviewer)))
        throw new VarveError(ErrorCodes.NOT_FOUND, `${reviewer} has not approved merge request ${id}`, { details: { id, reviewer } })
      return { record: { ...r, approvals: r.approvals.filter((a) => !samePerson(a.reviewer, reviewer)) }, operation: 'mr-unapprove' }
    })
  }

  async comment(id: number, options: { author?: string; text: string; path?: string }): Promise<MergeRequestComment> {
    if (!options || typeof options !== 'object') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a comment needs { text }')
    const author = person(options.author, 'author', this.ctx.defaultAuthor)
    const body = text(options.text, 'text', MAX_TEXT)
    const path = options.path === undefined ? undefined : validatePath(options.path)
    let added: MergeRequestComment | undefined
    await this.#store.update(id, author, (r) => {
      // Closed and merged requests take comments too: a review can go on after the fact.
      if (r.comments.length >= MAX_COMMENTS)
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `merge request ${id} has ${MAX_COMMENTS} comments, the most one holds`, { details: { id } })
      const c: MergeRequestComment = {
        id: (r.comments.at(-1)?.id ?? 0) + 1,
        author,
        text: body,
        ...(path !== undefined ? { path } : {}),
        at: this.ctx.clock.now(),
      }
      const record = { ...r, comments: [...r.comments, c] }
      // Every change rewrites the whole record (one S3 object): its size is what each approval costs.
      if (Buffer.byteLength(JSON.stringify(record)) > MAX_RECORD_BYTES)
        throw new VarveError(
          ErrorCodes.INVALID_ARGUMENT,
          `merge request ${id} would grow past ${MAX_RECORD_BYTES / 1024} KiB of review: continue in a new request`,
          { details: { id } },
        )
      added = c
      return { record, operation: 'mr-comment', message: path ? `on ${path}` : 'comment' }
    })
    return added!
  }

  async close(id: number, options: { author?: string } = {}): Promise<MergeRequestRecord> {
    const by = person(options.author, 'author', this.ctx.defaultAuthor)
    return this.#store.update(id, by, (r) => {
      if (r.state !== 'open') throw notOpen(r, 'close it')
      if (r.merging)
        throw new VarveError(
          ErrorCodes.CONFLICT,
          `merge request ${id} is being merged (by ${r.merging.by}); if that process died, run the merge again to finish it`,
          {
            details: { id, merging: r.merging },
          },
        )
      return { record: { ...r, state: 'closed', closed: { by, at: this.ctx.clock.now() } }, operation: 'mr-close' }
    })
  }

  /**
   * Merges an open request: checks the approvals against the destination's rules for the source head,
   * claims the request (so `close` waits and a second merge joins this one instead of starting
   * another), merges that head through the pre-merge gates, and records the merge. A failure
   * releases the claim; a crash leaves it, and the next merge of the request finishes the job.
   */
  async merge(id: number, options: MergeMergeRequestOptions = {}): Promise<MergeRequestMergeResult> {
    const by = person(options.author, 'author', this.ctx.defaultAuthor)
    const r0 = await this.#store.get(id)
    if (r0.state !== 'open') throw notOpen(r0, 'merge it')
    const claim = await this.#claim(r0, by)
    const r = claim.record
    const approvers = claim.approvers
    let result
    try {
      result = await this.merger.merge(claim.sourceHead, r.source, r.dest, {
        author: by,
        ...(options.strategy ? { strategy: options.strategy } : {}),
        ...(options.resolve ? { resolve: options.resolve } : {}),
        message: options.message ?? `Merge request ${id}: ${r.title} (${r.source} into ${r.dest})`,
        metadata: { [REQUEST_METADATA]: id, [APPROVERS_METADATA]: [...approvers] },
      })
    } catch (err) {
      await this.#release(id, by, claim.sourceHead, err)
      throw err
    }
    const commit = result.upToDate ? ((await this.#mergeCommitOf(r)) ?? result.commit) : result.commit
    const done = await this.#store.update(id, by, (cur) => {
      if (cur.state === 'merged') return 'unchanged' // another process finished the same merge
      const { merging: _claim, ...rest } = cur
      return {
        record: { ...rest, state: 'merged', merged: { commit: commit.id, by, at: this.ctx.clock.now(), sourceHead: claim.sourceHead, approvers } },
        operation: 'mr-merge',
        old: claim.sourceHead,
        new: commit.id,
        message: `merged into ${r.dest}`,
      }
    })
    const mergedAs = done.merged?.commit === commit.id ? commit : await this.ctx.objects.readCommit(done.merged!.commit)
    return { request: done, commit: mergedAs, upToDate: result.upToDate }
  }

  /**
   * Claims the request for a merge of the source head, or joins the claim another merge holds (after
   * a crash, or alongside). Returns the head to merge, who approved it, and the record claimed.
   */
  async #claim(r: MergeRequestRecord, by: string): Promise<{ sourceHead: string; approvers: readonly string[]; record: MergeRequestRecord }> {
    const rules = await getProtection(this.ctx.refs, r.dest)
    // Signatures are checked against the allowed signers on the destination as it is now, before the
    // claim (an approval added meanwhile has no check and does not count).
    const signatures = rules?.signedApprovals ? await checkApprovalSignatures(this.ctx, r, r.approvals, await this.#branchHead(r.dest)) : undefined
    const joined = (cur: MergeRequestRecord, head: string) => ({
      sourceHead: head,
      approvers: approvalStatus(cur, rules, head, signatures).counted,
      record: cur,
    })
    if (r.merging) return joined(r, r.merging.sourceHead)
    const sourceHead = await this.#branchHead(r.source)
    let claim: { sourceHead: string; approvers: readonly string[]; record: MergeRequestRecord } | undefined
    const record = await this.#store.update(r.id, by, (cur) => {
      if (cur.state !== 'open') throw notOpen(cur, 'merge it')
      if (cur.merging) {
        claim = joined(cur, cur.merging.sourceHead)
        return 'unchanged'
      }
      const status = approvalStatus(cur, rules, sourceHead, signatures)
      if (!status.satisfied) throw approvalRequired(cur.dest, status, { request: cur.id })
      claim = { sourceHead, approvers: status.counted, record: cur }
      return {
        record: { ...cur, merging: { by, at: this.ctx.clock.now(), sourceHead } },
        operation: 'mr-merging',
        new: sourceHead,
        message: `merging ${sourceHead.slice(0, 12)} into ${cur.dest}`,
      }
    })
    return { ...claim!, record }
  }

  async #release(id: number, by: string, sourceHead: string, err: unknown): Promise<void> {
    const code = VarveError.is(err) ? err.code : 'ERROR'
    await this.#store
      .update(id, by, (cur) => {
        if (cur.state !== 'open' || cur.merging?.sourceHead !== sourceHead) return 'unchanged'
        const { merging: _m, ...rest } = cur
        return { record: rest, operation: 'mr-merge-failed', message: code }
      })
      .catch(() => {}) // the merge's own error is what the caller needs; a left claim is finished by the next merge
  }

  /** The destination commit that merged the request (found by the request it names), after another process made it. */
  async #mergeCommitOf(r: MergeRequestRecord): Promise<Commit | undefined> {
    for await (const c of this.merger.commitsOf(r.dest, MERGE_SEARCH)) if (c.metadata[REQUEST_METADATA] === r.id) return c
    return undefined
  }

  async #changes(base: string | null, head: string): Promise<NonNullable<MergeRequestView['changes']>> {
    const counts = { added: 0, removed: 0, changed: 0 }
    const paths: DiffEntry[] = []
    if (base === null) return { ...counts, paths, truncated: false }
    for await (const d of this.merger.diff(base, head)) {
      counts[d.type]++
      if (paths.length < SHOWN_PATHS) paths.push(d)
    }
    return { ...counts, paths, truncated: counts.added + counts.removed + counts.changed > paths.length }
  }

  /** What a reviewer signs to approve request `id` at the source's current head (`varve mr approve` signs it). */
  async signingText(id: number, reviewer: string): Promise<{ text: string; sourceHead: string }> {
    const r = await this.#store.get(id)
    const sourceHead = await this.#branchHead(r.source)
    return {
      text: approvalSigningText({ repository: await repositoryIdOf(this.ctx), request: id, source: r.source, sourceHead, dest: r.dest, reviewer }),
      sourceHead,
    }
  }

  /** Signs the approval with an SSH key through `ssh-keygen -Y sign` and approves with it. */
  async signApproval(id: number, options: { reviewer?: string; keyFile: string; head?: string }): Promise<MergeRequestRecord> {
    if (!options || typeof options.keyFile !== 'string' || !options.keyFile)
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'signApproval needs { keyFile }: an SSH private key, or a public key held by ssh-agent')
    const reviewer = options.reviewer ?? this.ctx.defaultAuthor
    const { text, sourceHead } = await this.signingText(id, reviewer)
    const signature = await signWithSshKeygen(text, options.keyFile)
    // (with `head`, approve refuses if the source moved from what the reviewer looked at)
    return this.approve(id, { reviewer, head: options.head ?? sourceHead, signature })
  }

  async #branchHead(name: string): Promise<string> {
    const b = await this.ctx.refs.getBranch(name)
    if (!b) throw new VarveError(ErrorCodes.NOT_FOUND, `branch ${name} not found`, { details: { branch: name } })
    return b.head
  }

  async #headOrNull(name: string): Promise<string | null> {
    return (await this.ctx.refs.getBranch(name))?.head ?? null
  }
}
