import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { Approval, MergeRequestRecord } from '../merge-requests/merge-request-store.js'
import { checkSignature, parseAllowedSigners, type AllowedSigner } from '../merge-requests/ssh-signature.js'
import { commitRoot } from '../model/commit.js'
import { getEntry } from '../tree/tree-reader.js'
import type { RepoContext } from '../context/repo-context.js'
import { REPOSITORY_ID_SETTING } from './manifest.js'

/** Where a protected branch keeps the keys that may sign approvals (git's allowed-signers format). */
export const ALLOWED_SIGNERS_PATH = '_varve/allowed_signers'
const MAX_ALLOWED_SIGNERS_BYTES = 256 * 1024

/** The allowed signers committed at `commit` (none when the file is absent, too large or unusable). */
export async function allowedSignersAt(ctx: Pick<RepoContext, 'objects'>, commit: string): Promise<AllowedSigner[]> {
  const root = commitRoot(await ctx.objects.readCommit(commit))
  const entry = await getEntry(ctx.objects, root, ALLOWED_SIGNERS_PATH)
  if (!entry || entry.size > MAX_ALLOWED_SIGNERS_BYTES) return []
  return parseAllowedSigners(Buffer.from(await ctx.objects.readData({ ...entry, path: ALLOWED_SIGNERS_PATH })).toString('utf8'))
}

/** The repository's id: what a signed approval names, so it cannot be replayed in another repository. */
export async function repositoryIdOf(ctx: Pick<RepoContext, 'refs'>): Promise<string> {
  const id = await ctx.refs.getSetting(REPOSITORY_ID_SETTING)
  if (!id) throw new VarveError(ErrorCodes.NOT_A_REPOSITORY, 'the ref store has no repository id')
  return id
}

/** What an approval's SSH signature covers: the repository, the request, both branches, the head and the reviewer. */
export function approvalSigningText(a: { repository: string; request: number; source: string; sourceHead: string; dest: string; reviewer: string }): string {
  return [
    'varve approval v1',
    `repository ${a.repository}`,
    `request ${a.request}`,
    `source ${a.source}`,
    `source-head ${a.sourceHead}`,
    `destination ${a.dest}`,
    `reviewer ${a.reviewer}`,
    '',
  ].join('\n')
}

/** Signature checks of a request's approvals, by reviewer (approvals without an entry do not count). */
export type SignatureChecks = ReadonlyMap<string, { readonly signature: string | undefined; readonly ok: boolean; readonly reason?: string }>

/**
 * Each approval's signature checked against the allowed signers committed at `signersAt` (the
 * destination's head when approving or merging; a merge's first parent in the audit), by reviewer.
 * The one place approvals are verified: approve, show, merge and the audit all call it.
 */
export async function checkApprovalSignatures(
  ctx: Pick<RepoContext, 'objects' | 'refs'>,
  r: Pick<MergeRequestRecord, 'id' | 'source' | 'dest'>,
  approvals: readonly Pick<Approval, 'reviewer' | 'sourceHead' | 'signature' | 'at'>[],
  signersAt: string,
): Promise<SignatureChecks> {
  const [signers, repository] = await Promise.all([allowedSignersAt(ctx, signersAt), repositoryIdOf(ctx)])
  const out = new Map<string, { signature: string | undefined; ok: boolean; reason?: string }>()
  for (const a of approvals) {
    const c = signers.length
      ? checkSignature(
          signers,
          a.reviewer,
          a.signature,
          approvalSigningText({ repository, request: r.id, source: r.source, sourceHead: a.sourceHead, dest: r.dest, reviewer: a.reviewer }),
          a.at,
        )
      : { ok: false as const, reason: `no allowed signers: commit ${ALLOWED_SIGNERS_PATH} on ${r.dest}` }
    out.set(a.reviewer, { signature: a.signature, ok: c.ok, ...(c.ok ? {} : { reason: c.reason }) })
  }
  return out
}
