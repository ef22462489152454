import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { parseAllowedSigners, type AllowedSigner } from '../merge-requests/ssh-signature.js'
import { commitRoot } from '../model/commit.js'
import { getEntry } from '../tree/tree-reader.js'
import type { RepoContext } from './context.js'
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
