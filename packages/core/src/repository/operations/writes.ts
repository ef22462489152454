import fs from 'node:fs/promises'
import { commitStaged, mustGetBranch, type CommitOptions } from '../../commits/commit-staged.js'
import type { RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import { assertAllowed } from '../../hooks/branch-protection.js'
import { putMany, type PutManyItem, type PutManyOptions, type PutManySummary } from '../../ingest/put-many.js'
import { commitRoot, type Commit } from '../../model/commit.js'
import { sameContent, validateMetadata, type Entry } from '../../model/entry.js'
import type { DataSource } from '../../objects/byte-source.js'
import { getOnBranch, mergedStaged, stagingTokens } from '../../staging/branch-view.js'
import { stageConditionally, type PutCondition } from '../../staging/conditional-put.js'
import { stageChanges } from '../../staging/stage-changes.js'
import { putFolder as putFolderOf, type FolderTarget, type PutFolderOptions, type PutFolderSummary } from '../../ingest/folder/put-folder.js'
import type { BranchRecord } from '../../stores/ref-store.js'
import { getEntry } from '../../tree/tree-reader.js'
import { validateNewPath, validatePath, validatePrefix } from '../../util/paths.js'
import { validateRefName } from '../../util/ref-names.js'
import { guard, guardIterable } from '../guard.js'
import type { PutOptions, UncommittedChange } from '../types.js'
import { checkPerson } from './checks.js'
import { statAt, viewOf } from './reads.js'

// Writing to a branch: staging puts, copies and deletions, and committing what is staged.

/**
 * What every write to a branch checks before it reads a byte of data: a valid name, an existing
 * branch (a tag is NOT_FOUND as a branch, and the message says it is a tag), rules that allow
 * direct commits. Returns the branch as read.
 */
export async function checkWritableBranch(ctx: RepoContext, branch: string): Promise<BranchRecord> {
  validateRefName(branch)
  const b = await ctx.refs.getBranch(branch) // fail before uploading gigabytes to a missing or protected branch
  if (!b) {
    const tag = await ctx.refs.getTag(branch)
    const why = tag
      ? `${branch} is a tag, and tags never move: write to a branch (from the tag: varve branch create <name> --from ${branch})`
      : `branch ${branch} not found`
    throw new VarveError(ErrorCodes.NOT_FOUND, why, { details: { branch, ...(tag ? { tag: branch } : {}) } })
  }
  await assertAllowed(ctx.refs, branch, 'directCommits')
  return b
}

function checkContentType(options: PutOptions): void {
  if (options.contentType !== undefined && typeof options.contentType !== 'string')
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'contentType must be a string')
}

/** The checks of a put before its data is read (also run by `uploads` before a multipart upload starts). */
export async function precheckPut(ctx: RepoContext, branch: string, path: string, options: PutOptions): Promise<void> {
  validateRefName(branch)
  validateNewPath(path)
  validateMetadata(options.metadata)
  checkContentType(options)
  await checkWritableBranch(ctx, branch)
}

export function put(ctx: RepoContext, branch: string, path: string, data: DataSource, options: PutOptions): Promise<Entry> {
  return guard('put', async () => {
    validateRefName(branch)
    validateNewPath(path)
    const metadata = validateMetadata(options.metadata)
    checkContentType(options)
    await checkWritableBranch(ctx, branch)
    if (options.ifNoneMatch !== undefined && options.ifMatch !== undefined)
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a put takes ifNoneMatch or ifMatch, not both')
    const condition: PutCondition | undefined =
      options.ifNoneMatch !== undefined ? { ifNoneMatch: options.ifNoneMatch } : options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : undefined
    return ctx.fence.run(async (objects) => {
      const { address, size } = await objects.writeData(data)
      const entry: Entry = {
        path,
        address,
        size,
        lastModified: ctx.clock.now(),
        ...(options.contentType ? { contentType: options.contentType } : {}),
        ...(metadata ? { metadata } : {}),
      }
      if (condition) await stageConditionally({ ...ctx, objects }, branch, entry, condition)
      else await stageChanges(ctx, branch, [{ path, entry }])
      return entry
    })
  })
}

export function putManyOnBranch(
  ctx: RepoContext,
  branch: string,
  items: AsyncIterable<PutManyItem> | Iterable<PutManyItem>,
  options: PutManyOptions,
): Promise<PutManySummary> {
  return guard('putMany', async () => {
    validateRefName(branch)
    const iterable = items as Partial<AsyncIterable<PutManyItem> & Iterable<PutManyItem>> | undefined
    if (!iterable || (typeof iterable[Symbol.asyncIterator] !== 'function' && typeof iterable[Symbol.iterator] !== 'function'))
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'putMany needs an iterable (or async iterable) of { path, data }')
    await checkWritableBranch(ctx, branch)
    return ctx.fence.run((objects) => putMany({ ...ctx, objects }, branch, items, options))
  })
}

export function copy(ctx: RepoContext, fromRef: string, fromPath: string, branch: string, path: string, options: PutOptions): Promise<Entry> {
  return guard('copy', async () => {
    validateRefName(branch)
    validateNewPath(path)
    const metadata = validateMetadata(options.metadata)
    await checkWritableBranch(ctx, branch)
    return ctx.fence.run(async (objects) => {
      const source = await statAt(ctx, await viewOf(ctx, fromRef), fromRef, fromPath)
      await objects.relyOn({ ...source, path: fromPath })
      const { contentType: _t, metadata: _m, ...data } = source
      const contentType = options.contentType ?? source.contentType
      const meta = metadata ?? source.metadata
      const entry: Entry = { ...data, path, lastModified: ctx.clock.now(), ...(contentType ? { contentType } : {}), ...(meta ? { metadata: meta } : {}) }
      await stageChanges(ctx, branch, [{ path, entry }])
      return entry
    })
  })
}

export function deletePath(ctx: RepoContext, branch: string, path: string): Promise<void> {
  return guard('delete', async () => {
    validateRefName(branch)
    validatePath(path)
    const b = await checkWritableBranch(ctx, branch)
    if (!(await getOnBranch(ctx, b, path))) throw new VarveError(ErrorCodes.NOT_FOUND, `${branch}:${path} not found`, { details: { branch, path } })
    await stageChanges(ctx, branch, [{ path, entry: null }])
  })
}

export function uncommitted(ctx: RepoContext, branch: string, options: { prefix?: string }): AsyncIterable<UncommittedChange> {
  return guardIterable('uncommitted', async function* () {
    validateRefName(branch)
    const prefix = validatePrefix(options.prefix)
    const b = await mustGetBranch(ctx, branch)
    const head = await ctx.objects.readCommit(b.head)
    for await (const c of mergedStaged(ctx, stagingTokens(b), prefix ? { prefix } : {})) {
      const old = await getEntry(ctx.objects, commitRoot(head), c.path)
      if (c.entry === null) {
        if (old) yield { path: c.path, type: 'removed' as const }
      } else if (!old) yield { path: c.path, type: 'added' as const, entry: c.entry }
      else if (!sameContent(old, c.entry)) yield { path: c.path, type: 'changed' as const, entry: c.entry }
    }
  })
}

export function commit(ctx: RepoContext, branch: string, options: CommitOptions): Promise<Commit> {
  return guard('commit', async () => {
    validateRefName(branch)
    if (!options || typeof options.message !== 'string') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'commit needs a message')
    if (options.committer !== undefined) checkPerson(options.committer, 'committer')
    await assertAllowed(ctx.refs, branch, 'directCommits')
    return ctx.fence.run((objects) => commitStaged({ ...ctx, objects }, branch, options))
  })
}

/** A local folder onto the branch under `path`: the branch is checked before the folder is walked. */
export function putFolder(
  ctx: RepoContext,
  target: FolderTarget,
  branch: string,
  dir: string,
  path: string,
  options: PutFolderOptions,
): Promise<PutFolderSummary> {
  return guard('putFolder', async () => {
    await checkWritableBranch(ctx, branch)
    if (typeof dir !== 'string' || !dir) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'putFolder needs a local folder')
    const st = await fs.stat(dir).catch(() => undefined)
    if (!st) throw new VarveError(ErrorCodes.NOT_FOUND, `local path ${dir} does not exist`, { details: { path: dir } })
    if (!st.isDirectory()) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${dir} is not a folder (put a file with put)`, { details: { path: dir } })
    const prefix = validatePrefix(path && !path.endsWith('/') ? `${path}/` : path)
    return putFolderOf(target, branch, dir, prefix, options)
  })
}
