import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { isObjectId } from '../model/hash.js'
import type { RepoContext } from '../context/repo-context.js'
import { resolveTracking } from '../remotes/remote-settings.js'

export const MIN_PREFIX = 4

/**
 * Resolves a revision to a commit id: a branch (its head), a tag, a full id or a unique id prefix of
 * at least 4 hex digits, each optionally followed by git's `~N` (N-th first-parent ancestor) and
 * `^N` (N-th parent; `^` = `^1`) suffixes, e.g. `main~2`, `v1^2`, `3fa9c0~1^`. A branch may be
 * followed by `@{N}`: where it was N moves ago, by its ref log (`main@{1}`: before its last move).
 */
export async function resolveRevision(ctx: RepoContext, revision: string, options: { notABranch?: boolean } = {}): Promise<string> {
  if (typeof revision !== 'string' || revision.length === 0)
    throw new VarveError(ErrorCodes.INVALID_REF, 'a revision must be a non-empty string', { details: { ref: revision } })
  const cut = revision.search(/[~^]/)
  const base = cut < 0 ? revision : revision.slice(0, cut)
  const steps = parseSuffixes(revision, cut < 0 ? '' : revision.slice(cut))
  // A caller that already looked `revision` up as a branch says so, sparing a second ref-store read.
  let id = await resolveBase(ctx, base, revision, !!options.notABranch && base === revision)
  for (const step of steps) {
    for (let n = 0; n < step.count; n++) {
      const c = await ctx.objects.readCommit(id)
      const parent = c.parents[step.kind === '~' ? 0 : step.parent - 1]
      if (parent === undefined)
        throw new VarveError(ErrorCodes.NOT_FOUND, `${revision}: commit ${id.slice(0, 12)} has no such parent`, {
          details: { ref: revision, commit: id },
        })
      id = parent
      if (step.kind === '^') break
    }
  }
  return id
}

type Step = { kind: '~'; count: number } | { kind: '^'; count: 1; parent: number }

function parseSuffixes(revision: string, suffix: string): Step[] {
  const steps: Step[] = []
  const re = /([~^])(\d*)/y
  let pos = 0
  while (pos < suffix.length) {
    re.lastIndex = pos
    const m = re.exec(suffix)
    if (!m) throw new VarveError(ErrorCodes.INVALID_REF, `cannot parse revision ${JSON.stringify(revision)}`, { details: { ref: revision } })
    const n = m[2] === '' ? 1 : Number(m[2])
    if (!Number.isSafeInteger(n) || n > 1e9) throw new VarveError(ErrorCodes.INVALID_REF, `revision ${revision}: number too large`)
    if (m[1] === '~') steps.push({ kind: '~', count: n })
    else if (n === 0) {
      /* ^0 is the commit itself */
    } else steps.push({ kind: '^', count: 1, parent: n })
    pos = re.lastIndex
  }
  return steps
}

async function resolveBase(ctx: RepoContext, base: string, revision: string, notABranch: boolean): Promise<string> {
  if (base.length === 0) throw new VarveError(ErrorCodes.INVALID_REF, `revision ${JSON.stringify(revision)} names no ref`, { details: { ref: revision } })
  if (base.includes('@{')) return resolveRefLogEntry(ctx, base, revision)
  // A full commit id is never a ref name (validateRefName refuses them), so it is looked up as a
  // commit first: a pinned read then costs no branch and tag lookups (two requests on S3).
  if (isObjectId(base) && (await ctx.objects.hasCommit(base))) return base
  const branch = notABranch ? undefined : await ctx.refs.getBranch(base)
  if (branch) return branch.head
  const tag = await ctx.refs.getTag(base)
  if (tag) return tag.commit
  // `origin/main`: a remote-tracking ref (decision 0019), after branches and tags, as in git.
  if (base.includes('/')) {
    const tracked = await resolveTracking(ctx.refs, base)
    if (tracked) return tracked
  }
  if (isObjectId(base)) {
    if (await ctx.objects.hasCommit(base)) return base
  } else if (/^[0-9a-f]+$/.test(base) && base.length >= MIN_PREFIX) {
    const found: string[] = []
    for await (const id of ctx.objects.commitIdsWithPrefix(base)) {
      found.push(id)
      if (found.length > 10) break
    }
    if (found.length === 1) return found[0]!
    if (found.length > 1) throw new VarveError(ErrorCodes.AMBIGUOUS_REF, `commit prefix ${base} is ambiguous`, { details: { ref: base, candidates: found } })
  }
  throw new VarveError(ErrorCodes.NOT_FOUND, `no branch, tag or commit named ${JSON.stringify(base)}`, { details: { ref: revision } })
}

/** `name@{N}`: the head a branch had N moves ago (0: now), read from its ref log, newest first. */
async function resolveRefLogEntry(ctx: RepoContext, base: string, revision: string): Promise<string> {
  const m = /^(.+)@\{(\d{1,9})\}$/.exec(base)
  if (!m) throw new VarveError(ErrorCodes.INVALID_REF, `${JSON.stringify(revision)}: only name@{N} (N moves ago) is understood`, { details: { ref: revision } })
  const name = m[1]!
  const n = Number(m[2])
  let seen = 0
  for await (const r of ctx.refs.listRefLog(`branch:${name}`, { limit: n + 1 })) {
    if (seen++ < n) continue
    if (r.new !== null) return r.new
    break
  }
  if (seen === 0 && !(await ctx.refs.getBranch(name)))
    throw new VarveError(ErrorCodes.NOT_FOUND, `no branch named ${JSON.stringify(name)}`, { details: { ref: revision } })
  throw new VarveError(ErrorCodes.NOT_FOUND, `${name}@{${n}}: the ref log of ${name} has ${seen} move${seen === 1 ? '' : 's'}`, { details: { ref: revision } })
}
