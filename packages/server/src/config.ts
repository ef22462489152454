import fs from 'node:fs/promises'
import path from 'node:path'
import { VarveError } from '@varve/core'
import { parse as parseYaml } from 'yaml'

/**
 * What a grant allows: reading, staging writes, moving a branch (commit, merge, revert), approving
 * merge requests into a branch, administering refs (deleting refs, pins, and resetting a protected branch).
 */
export const ACTIONS = ['read', 'write', 'commit', 'approve', 'admin'] as const
export type Action = (typeof ACTIONS)[number]

export interface Grant {
  /** Repository names (globs, e.g. `*`). */
  readonly repositories: readonly string[]
  /** Refs as a request names them: branch, tag or commit id (globs, e.g. `main`, `exp-*`, `*`). */
  readonly branches: readonly string[]
  readonly actions: readonly Action[]
}

export interface AccessKey {
  readonly accessKey: string
  readonly secretKey: string
  readonly grants: readonly Grant[]
}

export interface ServedRepository {
  /** The bucket name clients use. */
  readonly name: string
  /** A folder or `s3://bucket/prefix`. */
  readonly location: string
  /**
   * `proxy` (default): the gateway reads and verifies every byte it serves. `redirect` (stores that
   * presign: S3): a GET of an object of at least `redirectMinBytes` answers 307 to a short-lived
   * presigned URL of the stored object, so clients read straight from the bucket (lakeFS's pre-signed
   * mode); smaller objects, packed ones and clients that do not follow redirects are proxied.
   */
  readonly reads?: 'proxy' | 'redirect'
  /**
   * Encryption at rest of what the gateway writes, in the store's own terms (decision 0020):
   * S3 `{ type: sse-s3 }`, `{ type: sse-kms, kmsKeyId? }` or `{ type: sse-c, customerKey }`; Azure
   * `{ scope }` (an encryption scope); GCS `{ kmsKeyName }`. Overrides the environment's
   * (`VARVE_S3_SSE`, `VARVE_AZURE_ENCRYPTION_SCOPE`, `VARVE_GCS_KMS_KEY`) for this repository.
   */
  readonly encryption?: Readonly<Record<string, string>>
}

export interface ServeConfig {
  /** `host:port`; default 127.0.0.1:9010. */
  readonly listen: string
  /** The region SigV4 scopes name and GetBucketLocation answers (default us-east-1). */
  readonly region: string
  readonly repositories: readonly ServedRepository[]
  readonly keys: readonly AccessKey[]
  /** Grants for requests without credentials; none unless the config says so. */
  readonly anonymous: readonly Grant[]
  readonly tls?: { readonly cert: string; readonly key: string }
  /**
   * Where multipart parts wait until Complete. Default: `serve-uploads` in a local repository's own
   * folder (same disk: the assembled upload then becomes the object without a copy), the OS temp
   * folder for repositories in S3.
   */
  readonly uploadDir?: string
  /** The URL clients reach this server at (behind a proxy); default: the listen address. Webhook payloads link their diff here. */
  readonly publicUrl?: string
  /** Hosts `type: webhook` checks may call (`ci.example.com`, `127.0.0.1:8080`, `*.example.com`); default: any. */
  readonly webhookAllowHosts?: readonly string[]
  /**
   * A connection with no bytes either way for this long is closed: an idle keep-alive connection, a
   * stalled upload, a client that never sends its request (default 120).
   */
  readonly idleTimeoutSeconds: number
  /** A request's headers must arrive within this (default 60). */
  readonly headersTimeoutSeconds: number
  /** Connections one client address may hold at once; more are closed at once (default 256). Behind a proxy, the proxy is one client. */
  readonly maxConnectionsPerClient: number
  /** Multipart uploads one access key may have in progress at once (default 1000). */
  readonly maxUploadsPerKey: number
  /** A multipart upload nothing was written to for this long is removed, as S3's AbortIncompleteMultipartUpload (default 168: 7 days). */
  readonly uploadLifetimeHours: number
  /** `reads: redirect`: how long a presigned URL it redirects to lives (default 300 s). */
  readonly redirectSeconds: number
  /** `reads: redirect`: objects smaller than this are proxied, one round trip cheaper (default 1 MiB). */
  readonly redirectMinBytes: number
  /** How long a web UI login lasts (default 12 hours). */
  readonly uiSessionHours: number
}

export const DEFAULT_LISTEN = '127.0.0.1:9010'

/** A repository's `encryption`, checked against its store: the keys each store takes, nothing else. */
function encryptionOf(file: string, where: string, location: string, o: Record<string, unknown>, reads: string | undefined): Record<string, string> {
  const scheme = /^([a-z0-9]+):\/\//i.exec(location)?.[1]?.toLowerCase()
  const allowed = scheme === 's3' ? ['type', 'kmsKeyId', 'customerKey'] : scheme === 'az' ? ['scope'] : scheme === 'gs' ? ['kmsKeyName'] : []
  if (!allowed.length) throw invalid(file, `${where}.encryption: a local folder is not encrypted by Varve (use the disk's encryption)`)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(o)) {
    if (!allowed.includes(k)) throw invalid(file, `${where}.encryption.${k}: a ${scheme}:// repository takes ${allowed.join(', ')}`)
    if (typeof v !== 'string' || !v) throw invalid(file, `${where}.encryption.${k} must be a non-empty string`)
    out[k] = v
  }
  if (scheme === 's3') {
    if (!['sse-s3', 'sse-kms', 'sse-c'].includes(out.type ?? '')) throw invalid(file, `${where}.encryption.type is sse-s3, sse-kms or sse-c`)
    if (out.type === 'sse-c' && !out.customerKey) throw invalid(file, `${where}.encryption: sse-c needs customerKey (32 bytes, base64)`)
    if (out.type === 'sse-c' && reads === 'redirect')
      throw invalid(file, `${where}: reads: redirect cannot carry an SSE-C key (presigned links); use reads: proxy`)
  }
  return out
}

/** A location in an object store (`s3://…`), not a local folder. */
export const isStoreUrl = (location: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(location)

const invalid = (file: string, message: string) => new VarveError('INVALID_CONFIG', `${file}: ${message}`, { details: { file } })

/** Reads a serve config (YAML or JSON); relative repository folders are relative to the file. */
export async function loadServeConfig(file: string): Promise<ServeConfig> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    throw new VarveError('INVALID_CONFIG', `cannot read ${file}: ${(err as Error).message}`, { details: { file } })
  }
  let raw: unknown
  try {
    raw = parseYaml(text, { maxAliasCount: 100 }) // JSON is YAML
  } catch (err) {
    throw invalid(file, (err as Error).message)
  }
  return validateServeConfig(raw, file, path.dirname(path.resolve(file)))
}

/** Checks a config object and fills defaults; every problem is INVALID_CONFIG naming the field. */
export function validateServeConfig(raw: unknown, file = 'config', baseDir = process.cwd()): ServeConfig {
  const obj = (v: unknown, where: string): Record<string, unknown> => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(file, `${where} must be a mapping`)
    return v as Record<string, unknown>
  }
  const str = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || !v) throw invalid(file, `${where} must be a non-empty string`)
    return v
  }
  const list = (v: unknown, where: string): unknown[] => {
    if (!Array.isArray(v)) throw invalid(file, `${where} must be a list`)
    return v
  }
  const grants = (v: unknown, where: string): Grant[] =>
    list(v, where).map((g, i) => {
      const o = obj(g, `${where}[${i}]`)
      const actions = list(o.actions, `${where}[${i}].actions`).map((a, j) => {
        if (!ACTIONS.includes(a as Action))
          throw invalid(file, `${where}[${i}].actions[${j}]: unknown action ${JSON.stringify(a)} (read, write, commit, approve or admin)`)
        return a as Action
      })
      return {
        repositories: list(o.repositories ?? ['*'], `${where}[${i}].repositories`).map((r, j) => str(r, `${where}[${i}].repositories[${j}]`)),
        branches: list(o.branches ?? ['*'], `${where}[${i}].branches`).map((r, j) => str(r, `${where}[${i}].branches[${j}]`)),
        actions,
      }
    })
  const c = obj(raw, 'the config')
  const repositories = list(c.repositories, 'repositories').map((r, i) => {
    const o = obj(r, `repositories[${i}]`)
    const name = str(o.name, `repositories[${i}].name`)
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..'))
      throw invalid(file, `repositories[${i}].name ${JSON.stringify(name)} is not a valid bucket name (3-63 of a-z, 0-9, '.', '-')`)
    const location = str(o.location, `repositories[${i}].location`)
    const reads = (o.reads === undefined ? undefined : str(o.reads, `repositories[${i}].reads`)) as ServedRepository['reads'] | undefined
    if (reads !== undefined && reads !== 'proxy' && reads !== 'redirect')
      throw invalid(file, `repositories[${i}].reads is proxy or redirect, not ${JSON.stringify(reads)}`)
    if (reads === 'redirect' && !isStoreUrl(location))
      throw invalid(file, `repositories[${i}].reads: redirect needs a store that hands out URLs (s3://), not a local folder`)
    // An object-store URL (s3://, az://, gs://) is taken as given; anything else is a folder relative to the config.
    const inStore = /^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^file:/i.test(location)
    const encryption =
      o.encryption === undefined ? undefined : encryptionOf(file, `repositories[${i}]`, location, obj(o.encryption, `repositories[${i}].encryption`), reads)
    return { name, location: inStore ? location : path.resolve(baseDir, location), ...(reads ? { reads } : {}), ...(encryption ? { encryption } : {}) }
  })
  if (!repositories.length) throw invalid(file, 'repositories must name at least one repository')
  const names = new Set<string>()
  for (const r of repositories) {
    if (names.has(r.name)) throw invalid(file, `repository ${r.name} is named twice`)
    names.add(r.name)
  }
  const keys = list(c.keys ?? [], 'keys').map((k, i) => {
    const o = obj(k, `keys[${i}]`)
    return {
      accessKey: str(o.accessKey, `keys[${i}].accessKey`),
      secretKey: str(o.secretKey, `keys[${i}].secretKey`),
      grants: grants(o.grants ?? [], `keys[${i}].grants`),
    }
  })
  const seen = new Set<string>()
  for (const k of keys) {
    if (seen.has(k.accessKey)) throw invalid(file, `access key ${k.accessKey} is listed twice`)
    seen.add(k.accessKey)
  }
  const tls = c.tls === undefined ? undefined : obj(c.tls, 'tls')
  return {
    listen: c.listen === undefined ? DEFAULT_LISTEN : str(c.listen, 'listen'),
    region: c.region === undefined ? 'us-east-1' : str(c.region, 'region'),
    repositories,
    keys,
    anonymous: c.anonymous === undefined ? [] : grants(obj(c.anonymous, 'anonymous').grants ?? [], 'anonymous.grants'),
    ...(tls ? { tls: { cert: path.resolve(baseDir, str(tls.cert, 'tls.cert')), key: path.resolve(baseDir, str(tls.key, 'tls.key')) } } : {}),
    ...(c.uploadDir !== undefined ? { uploadDir: path.resolve(baseDir, str(c.uploadDir, 'uploadDir')) } : {}),
    ...(c.publicUrl !== undefined ? { publicUrl: httpUrl(str(c.publicUrl, 'publicUrl'), file) } : {}),
    idleTimeoutSeconds: positive(c.idleTimeoutSeconds, 'idleTimeoutSeconds', 120, 0.05, 86_400),
    headersTimeoutSeconds: positive(c.headersTimeoutSeconds, 'headersTimeoutSeconds', 60, 0.05, 3600),
    maxConnectionsPerClient: Math.floor(positive(c.maxConnectionsPerClient, 'maxConnectionsPerClient', 256, 1, 1_000_000)),
    maxUploadsPerKey: Math.floor(positive(c.maxUploadsPerKey, 'maxUploadsPerKey', 1000, 1, 1_000_000)),
    uploadLifetimeHours: positive(c.uploadLifetimeHours, 'uploadLifetimeHours', 168, 0.0001, 100_000),
    redirectSeconds: Math.floor(positive(c.redirectSeconds, 'redirectSeconds', 300, 1, 7 * 24 * 3600)),
    redirectMinBytes: Math.floor(positive(c.redirectMinBytes, 'redirectMinBytes', 1024 * 1024, 0, Number.MAX_SAFE_INTEGER)),
    uiSessionHours: positive(c.uiSessionHours, 'uiSessionHours', 12, 0.01, 24 * 30),
    ...(c.webhookAllowHosts !== undefined
      ? { webhookAllowHosts: list(c.webhookAllowHosts, 'webhookAllowHosts').map((h, i) => str(h, `webhookAllowHosts[${i}]`)) }
      : {}),
  }
}

function positive(v: unknown, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new VarveError('INVALID_CONFIG', `${name} must be a number from ${min} to ${max}`, { details: { field: name } })
  return v
}

function httpUrl(text: string, file: string): string {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    throw invalid(file, `publicUrl ${JSON.stringify(text)} is not a URL`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(file, 'publicUrl must be http or https')
  return u.href.replace(/\/+$/, '')
}

/** `host:port` → its parts (IPv6 in brackets). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen)
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535)
    throw new VarveError('INVALID_ARGUMENT', `listen address ${JSON.stringify(listen)} must be host:port, e.g. 127.0.0.1:9010`, { details: { usage: true } })
  return { host: m[1] ?? m[2]!, port }
}
