import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { RefStore } from '../stores/ref-store.js'
import { settingLogRef } from '../stores/setting-log.js'
import { validateRefName } from '../util/ref-names.js'

/**
 * Remotes and remote-tracking refs are settings of the repository that knows them (decision 0019):
 * `remote/<name>` holds where the remote is, `remote-tracking/<name>/<branch>` the head the remote's
 * branch had when it was last fetched or pushed (moved by compare-and-swap, with a ref-log entry),
 * and `clone` what a clone fetched (its prefix, whether it is lazy) and whether it finished.
 */
export interface RemoteConfig {
  readonly name: string
  /** A folder or a `scheme://` location. */
  readonly location: string
  /** Adapter options for this remote only (an S3 endpoint, region, path style): never credentials. */
  readonly s3?: { readonly endpoint?: string; readonly region?: string; readonly forcePathStyle?: boolean }
}

export interface CloneState {
  /** The remote the clone came from. */
  readonly origin: string
  /** Data was fetched only under this prefix. */
  readonly prefix?: string
  /** No data was fetched: reads fetch it from the origin. */
  readonly lazy?: boolean
  /** False until the clone's first fetch finished and its branch exists. */
  readonly complete: boolean
}

export interface TrackingRef {
  readonly remote: string
  readonly branch: string
  readonly commit: string
}

const REMOTE = 'remote/'
const TRACKING = 'remote-tracking/'
export const CLONE_SETTING = 'clone'

export function validateRemoteName(name: unknown): string {
  validateRefName(name)
  if ((name as string).includes('/'))
    throw new VarveError(ErrorCodes.INVALID_REF, `invalid remote name ${JSON.stringify(name)}: must not contain "/"`, { details: { name } })
  return name as string
}

export async function getRemote(refs: RefStore, name: string): Promise<RemoteConfig | undefined> {
  const raw = await refs.getSetting(REMOTE + validateRemoteName(name))
  return raw === undefined ? undefined : parseRemote(name, raw)
}

export async function requireRemote(refs: RefStore, name: string): Promise<RemoteConfig> {
  const r = await getRemote(refs, name)
  if (!r)
    throw new VarveError(ErrorCodes.NOT_FOUND, `no remote named ${JSON.stringify(name)} (varve remote add ${name} <location>)`, { details: { remote: name } })
  return r
}

export async function addRemote(refs: RefStore, config: RemoteConfig): Promise<void> {
  validateRemoteName(config.name)
  if (typeof config.location !== 'string' || config.location.length === 0 || config.location.length > 4096)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a remote location must be a non-empty string', { details: { remote: config.name } })
  const [key, value] = Object.entries(remoteSetting(config))[0]!
  if (!(await refs.compareAndSetSetting(key, undefined, value)))
    throw new VarveError(ErrorCodes.CONFLICT, `a remote named ${JSON.stringify(config.name)} exists`, { details: { remote: config.name } })
}

/** The setting that stores a remote: its key and value. */
export function remoteSetting(config: RemoteConfig): Record<string, string> {
  return { [REMOTE + config.name]: JSON.stringify({ location: config.location, ...(config.s3 && Object.keys(config.s3).length ? { s3: config.s3 } : {}) }) }
}

/** Removes the remote and its remote-tracking refs. */
export async function removeRemote(refs: RefStore, name: string): Promise<void> {
  await requireRemote(refs, name)
  for (const t of await listTracking(refs, name)) await refs.setSetting(trackingKey(name, t.branch), null)
  await refs.setSetting(REMOTE + name, null)
}

export async function listRemotes(refs: RefStore): Promise<RemoteConfig[]> {
  const out: RemoteConfig[] = []
  for await (const { key, value } of refs.listSettings(REMOTE)) out.push(parseRemote(key.slice(REMOTE.length), value))
  return out
}

function parseRemote(name: string, raw: string): RemoteConfig {
  try {
    const v = JSON.parse(raw) as { location: string; s3?: RemoteConfig['s3'] }
    if (typeof v.location !== 'string') throw new Error('no location')
    return { name, location: v.location, ...(v.s3 ? { s3: v.s3 } : {}) }
  } catch {
    throw new VarveError(ErrorCodes.INVALID_CONFIG, `remote ${name}: its setting is not a remote`, { details: { remote: name } })
  }
}

const trackingKey = (remote: string, branch: string) => `${TRACKING}${remote}/${branch}`

export async function getTracking(refs: RefStore, remote: string, branch: string): Promise<string | undefined> {
  return refs.getSetting(trackingKey(remote, branch))
}

export async function listTracking(refs: RefStore, remote?: string): Promise<TrackingRef[]> {
  const out: TrackingRef[] = []
  for await (const { key, value } of refs.listSettings(remote === undefined ? TRACKING : `${TRACKING}${remote}/`)) {
    const rest = key.slice(TRACKING.length)
    const cut = rest.indexOf('/')
    out.push({ remote: rest.slice(0, cut), branch: rest.slice(cut + 1), commit: value })
  }
  return out
}

/**
 * Moves `<remote>/<branch>` from `expected` to `next` (null: the remote branch is gone) by
 * compare-and-swap, logged; false when another fetch moved it first.
 */
export async function moveTracking(
  refs: RefStore,
  remote: string,
  branch: string,
  expected: string | undefined,
  next: string | null,
  log: { author: string; at: number; operation: string },
): Promise<boolean> {
  const key = trackingKey(remote, branch)
  const entry = { ref: settingLogRef(key), old: expected ?? null, new: next, operation: log.operation, author: log.author, at: log.at }
  if (next === null) {
    if (expected === undefined) return true
    if ((await refs.getSetting(key)) !== expected) return false
    await refs.setSetting(key, null)
    return true
  }
  return refs.compareAndSetSetting(key, expected, next, entry)
}

/** `origin/main` → the commit the remote-tracking ref names, when `name` is one (remote and branch both known). */
export async function resolveTracking(refs: RefStore, name: string): Promise<string | undefined> {
  const cut = name.indexOf('/')
  if (cut <= 0 || cut === name.length - 1) return undefined
  return refs.getSetting(trackingKey(name.slice(0, cut), name.slice(cut + 1)))
}

export async function getCloneState(refs: RefStore): Promise<CloneState | undefined> {
  const raw = await refs.getSetting(CLONE_SETTING)
  return raw === undefined ? undefined : (JSON.parse(raw) as CloneState)
}

export async function setCloneState(refs: RefStore, state: CloneState): Promise<void> {
  await refs.setSetting(CLONE_SETTING, JSON.stringify(state))
}
