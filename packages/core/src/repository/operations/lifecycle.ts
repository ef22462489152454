import os from 'node:os'
import { newStagingToken, noGates, type RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import { WriteFence } from '../../gc/write-fence.js'
import type { WebhookSettings } from '../../hooks/contracts/checks/webhook-settings.js'
import { ObjectStore, type TreeFormat } from '../../objects/object-store.js'
import { emptyTree } from '../../tree/apply-changes.js'
import { systemClock, systemRandom } from '../../util/clock.js'
import { validateRefName } from '../../util/ref-names.js'
import { defaultRetryPolicy } from '../../util/retry.js'
import {
  checkRefStoreBinding,
  FORMAT_VERSION,
  manifestTreeFields,
  NEW_TREE_FORMAT,
  readManifest,
  REPOSITORY_ID_SETTING,
  treeFormatOf,
  writeManifest,
} from '../manifest.js'
import { openStores, type StoreSet } from '../open-stores.js'
import { cachingResolver, openSource } from '../../sources/source-schemes.js'
import type { RepositoryLocation, RepositoryOptions } from '../types.js'
import { Gates } from '../../hooks/gates.js'
import type { HookRegistry } from '../../hooks/hook-registry.js'
import { Uploads } from '../../uploads/uploads.js'
import { MergeRequests } from '../merge-requests.js'
import { diff, log } from './history.js'
import { mergeCommitInto } from './merging.js'
import { CloneOrigin } from '../../remotes/clone-origin.js'
import type { RemoteConfig } from '../../remotes/remote-settings.js'

/** A remote's options: the local repository's, with the remote's own adapter settings and what `remoteOptions` adds (credentials). */
export function remoteOptions(options: RepositoryOptions, remote: RemoteConfig): RepositoryOptions {
  const s3 = remote.s3 ? { ...((options.s3 as object | undefined) ?? {}), ...remote.s3 } : options.s3
  const base: RepositoryOptions = { ...options, ...(s3 ? { s3 } : {}) }
  const extra = options.remoteOptions ? options.remoteOptions(remote) : {}
  const merged = base.s3 || extra.s3 ? { s3: { ...((base.s3 as object | undefined) ?? {}), ...((extra.s3 as object | undefined) ?? {}) } } : {}
  return { ...base, ...extra, ...merged }
}
import { snapshotOf } from './reads.js'
import { precheckPut, put } from './writes.js'

/** What a Repository is built from: the engine's context (gates not wired yet), its name, its webhook settings. */
export interface Opened {
  readonly ctx: RepoContext
  readonly name: string
  readonly webhooks: WebhookSettings
  /** The options it was opened with (remotes open theirs from them). */
  readonly options: RepositoryOptions
}

/**
 * Creates a repository. `bare` (a clone, or a push to a location holding none) makes one in the given
 * tree format with no branch and no commit yet: what arrives fills it (decision 0019).
 */
export async function initRepository(
  location: RepositoryLocation,
  options: RepositoryOptions,
  bare?: { tree: TreeFormat; defaultBranch: string; settings?: Readonly<Record<string, string>> },
): Promise<Opened> {
  const defaultBranch = validateRefName(bare?.defaultBranch ?? options.defaultBranch ?? 'main')
  const stores = await resolveStores(location, options, true)
  const name = describe(location)
  const existing = await readManifest(stores.blocks, name).catch((e) => (VarveError.is(e, ErrorCodes.NOT_A_REPOSITORY) ? undefined : Promise.reject(e)))
  if (existing) {
    await stores.refs.close?.()
    throw new VarveError(ErrorCodes.REPOSITORY_EXISTS, `${name} already holds a Varve repository`, { details: { location: name } })
  }
  const tree = bare?.tree ?? NEW_TREE_FORMAT
  const ctx = makeContext(stores, options, defaultBranch, tree, describe(location))
  if (bare) {
    // Settings first (a clone's remote and state): the manifest, written last, makes it a repository.
    for (const [key, value] of Object.entries(bare.settings ?? {})) await stores.refs.setSetting(key, value)
    const id = (await stores.refs.getSetting(REPOSITORY_ID_SETTING)) ?? ctx.random.hex(16)
    await stores.refs.setSetting(REPOSITORY_ID_SETTING, id)
    await writeManifest(stores.blocks, { format: 'varve', version: FORMAT_VERSION, defaultBranch, createdAt: ctx.clock.now(), id, ...manifestTreeFields(tree) })
    return { ctx, name, webhooks: webhookSettings(options, name), options }
  }
  // Objects first, then the branch, then the manifest: an interrupted init can simply be run again.
  const root = await emptyTree(ctx.objects)
  const commit = await ctx.objects.writeCommit({
    parents: [],
    root,
    message: 'Repository created',
    author: ctx.defaultAuthor,
    metadata: {},
    createdAt: ctx.clock.now(),
    generation: 1,
  })
  await ctx.refs
    .createBranch(
      { name: defaultBranch, head: commit.id, stagingToken: newStagingToken(ctx), sealedTokens: [] },
      { ref: `branch:${defaultBranch}`, old: null, new: commit.id, operation: 'create', author: ctx.defaultAuthor, at: commit.createdAt },
    )
    .catch((e) => (VarveError.is(e, ErrorCodes.BRANCH_EXISTS) ? undefined : Promise.reject(e)))
  // The ref store learns the id before the manifest names it: the manifest is the commit point.
  const id = (await stores.refs.getSetting(REPOSITORY_ID_SETTING)) ?? ctx.random.hex(16)
  await stores.refs.setSetting(REPOSITORY_ID_SETTING, id)
  await writeManifest(stores.blocks, {
    format: 'varve',
    version: FORMAT_VERSION,
    defaultBranch,
    createdAt: commit.createdAt,
    id,
    ...manifestTreeFields(NEW_TREE_FORMAT),
  })
  return { ctx, name, webhooks: webhookSettings(options, name), options }
}

export async function openRepository(location: RepositoryLocation, options: RepositoryOptions): Promise<Opened> {
  const stores = await resolveStores(location, options, false)
  const name = describe(location)
  let manifest
  let tree
  try {
    manifest = await readManifest(stores.blocks, name)
    tree = treeFormatOf(manifest, name)
    await checkRefStoreBinding(stores.refs, manifest, name)
  } catch (e) {
    await stores.refs.close?.()
    throw e
  }
  return { ctx: makeContext(stores, options, manifest.defaultBranch, tree, name), name, webhooks: webhookSettings(options, name), options }
}

/**
 * Wires an opened repository's parts: the gates (which read snapshots and diffs of it), merge
 * requests (which merge through it), and the store's multipart uploads (which put through it).
 */
export function wireRepository({ ctx: engine, webhooks }: Opened, registry: HookRegistry): { ctx: RepoContext; requests: MergeRequests; uploads: Uploads } {
  const { blocks, objects, clock, random } = engine
  const snapshot = (commit: string) => snapshotOf(ctx, commit)
  const diffOf = (from: string, to: string) => diff(ctx, from, to, {})
  const ctx: RepoContext = { ...engine, gates: new Gates({ webhooks, blocks, objects, clock, random, registry, snapshot, diff: diffOf }) }
  const requests = new MergeRequests(ctx, {
    merge: (commit, label, dest, o) => mergeCommitInto(ctx, commit, label, dest, o),
    diff: diffOf,
    commitsOf: (branch, limit) => log(ctx, branch, { firstParent: true, limit }),
  })
  const uploads = new Uploads({
    blocks,
    clock,
    random,
    precheck: (branch, path, options) => precheckPut(ctx, branch, path, options),
    put: (branch, path, blob, options) => put(ctx, branch, path, blob, options),
  })
  return { ctx, requests, uploads }
}

export async function closeRepository(ctx: RepoContext): Promise<void> {
  await ctx.fence.settle()
  await ctx.release?.()
  await ctx.refs.close?.()
  await ctx.blocks.close?.()
}

async function resolveStores(location: RepositoryLocation, options: RepositoryOptions, create: boolean): Promise<StoreSet> {
  if (typeof location === 'string') {
    if (!location) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a repository location must not be empty')
    return openStores(location, { ...options, create, random: options.random ?? systemRandom })
  }
  if (!location || typeof location !== 'object' || !location.blocks || !location.refs)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a repository location is a path, a URL, or { blocks, refs }')
  return location
}

const describe = (location: RepositoryLocation) => (typeof location === 'string' ? location : '(explicit stores)')

function makeContext(stores: StoreSet, options: RepositoryOptions, defaultBranch: string, tree: TreeFormat, location: string): RepoContext {
  const random = options.random ?? systemRandom
  const sources = cachingResolver((source) => openSource(stores.refs, source, options))
  const objects: ObjectStore = new ObjectStore(stores.blocks, {
    random,
    tree,
    sources,
    ...(options.cacheBytes ? { cacheBytes: options.cacheBytes } : {}),
    quarantineEpochs: () => fence.pendingEpochs(),
    fetchMissing: (ref) => origin.fetch(ref, objects),
  })
  // A partial or lazy clone reads what it did not fetch from its origin (decision 0019); opened on the first miss.
  const origin = new CloneOrigin(stores.refs, async (remote) => {
    const opened = await openRepository(remote.location, remoteOptions(options, remote))
    return { objects: opened.ctx.objects, close: () => closeRepository(opened.ctx) }
  })
  const fence = new WriteFence(stores.refs, objects, stores.blocks)
  return {
    release: () => origin.close(),
    fence,
    blocks: stores.blocks,
    refs: stores.refs,
    objects,
    clock: options.clock ?? systemClock,
    random,
    retry: { ...defaultRetryPolicy, ...(options.retry ?? {}) },
    defaultBranch,
    defaultAuthor: options.author ?? safeUserName(),
    gates: noGates,
    sources,
    location,
  }
}

function webhookSettings(options: RepositoryOptions, location: string): WebhookSettings {
  const given = options.webhooks ?? {}
  const fromEnv = process.env.VARVE_WEBHOOK_ALLOW_HOSTS
  const allowHosts =
    given.allowHosts ??
    (fromEnv
      ? fromEnv
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean)
      : undefined)
  return { repository: location, ...given, ...(allowHosts ? { allowHosts } : {}) }
}

function safeUserName(): string {
  try {
    return os.userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}
