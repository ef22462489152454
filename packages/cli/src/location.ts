import fs from 'node:fs'
import path from 'node:path'
import { Repository, VarveError, ErrorCodes, type RepositoryOptions } from '@varve/core'

/** The folder `varve init` creates: the embedded default (files + SQLite). */
export const DOT_VARVE = '.varve'

export interface GlobalOptions {
  readonly repo?: string
  readonly author?: string
  readonly unsafeSingleWriter?: boolean
}

/** `--repo`, else VARVE_REPO, else the nearest `.varve` folder upward from the working directory. */
export function findLocation(opts: GlobalOptions, cwd = process.cwd()): string {
  const explicit = opts.repo || process.env.VARVE_REPO
  if (explicit) return explicit
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, DOT_VARVE, 'blocks', 'varve.json'))) return path.join(dir, DOT_VARVE)
    if (path.dirname(dir) === dir) break
  }
  throw new VarveError(ErrorCodes.NOT_A_REPOSITORY, `no Varve repository here: no ${DOT_VARVE} folder in ${cwd} or above`, {
    details: { hint: 'run: varve init, or pass --repo <folder|s3://bucket/prefix> or set VARVE_REPO' },
  })
}

/**
 * Repository options from the environment: the stores' settings (S3 for an s3:// repository and for
 * s3:// import sources; Azure and GCS read their credentials themselves), author, single-writer mode.
 */
export async function repositoryOptions(location: string, opts: GlobalOptions): Promise<RepositoryOptions> {
  const author = opts.author ?? process.env.VARVE_AUTHOR
  const env = process.env
  const s3: Record<string, unknown> = {}
  if (env.VARVE_S3_ENDPOINT) s3.endpoint = env.VARVE_S3_ENDPOINT
  if (env.VARVE_S3_REGION ?? env.AWS_REGION) s3.region = env.VARVE_S3_REGION ?? env.AWS_REGION
  if (env.VARVE_S3_FORCE_PATH_STYLE) s3.forcePathStyle = env.VARVE_S3_FORCE_PATH_STYLE !== 'false'
  const encryption = s3EncryptionFromEnv(env)
  if (encryption) s3.encryption = encryption
  const azure = {
    ...(env.VARVE_AZURE_ENDPOINT ? { endpoint: env.VARVE_AZURE_ENDPOINT } : {}),
    ...(env.VARVE_AZURE_ENCRYPTION_SCOPE ? { encryptionScope: env.VARVE_AZURE_ENCRYPTION_SCOPE } : {}),
  }
  const gcs = {
    ...(env.VARVE_GCS_ENDPOINT ? { endpoint: env.VARVE_GCS_ENDPOINT } : {}),
    ...(env.VARVE_GCS_KMS_KEY ? { kmsKeyName: env.VARVE_GCS_KMS_KEY } : {}),
  }
  const unsafeSingleWriter = opts.unsafeSingleWriter === true || /^(1|true|yes)$/i.test(env.VARVE_UNSAFE_SINGLE_WRITER ?? '')
  const base: RepositoryOptions = {
    ...(author ? { author } : {}),
    s3,
    azure,
    gcs,
    ...(unsafeSingleWriter ? { unsafeSingleWriter } : {}),
    loadSourceScheme,
    remoteOptions: remoteCredentials,
  }
  // An adapter is loaded only when needed: the cloud SDKs are slow to load.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1]?.toLowerCase()
  if (scheme) await loadSourceScheme(scheme)
  return base
}

/**
 * S3 server-side encryption from VARVE_S3_SSE (sse-s3, sse-kms or sse-c), VARVE_S3_SSE_KMS_KEY_ID and
 * VARVE_S3_SSE_C_KEY (32 bytes, base64; the adapter checks it). A key alone means SSE-C.
 */
function s3EncryptionFromEnv(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const type = env.VARVE_S3_SSE?.trim().toLowerCase() || (env.VARVE_S3_SSE_C_KEY ? 'sse-c' : '')
  if (!type) return undefined
  if (type === 'sse-s3' || type === 'aes256') return { type: 'sse-s3' }
  if (type === 'sse-kms' || type === 'aws:kms') return { type: 'sse-kms', ...(env.VARVE_S3_SSE_KMS_KEY_ID ? { kmsKeyId: env.VARVE_S3_SSE_KMS_KEY_ID } : {}) }
  if (type === 'sse-c' && env.VARVE_S3_SSE_C_KEY) return { type: 'sse-c', customerKey: env.VARVE_S3_SSE_C_KEY }
  throw new VarveError(
    ErrorCodes.INVALID_CONFIG,
    type === 'sse-c'
      ? 'VARVE_S3_SSE=sse-c needs VARVE_S3_SSE_C_KEY (32 bytes, base64)'
      : `VARVE_S3_SSE is sse-s3, sse-kms or sse-c, not ${JSON.stringify(env.VARVE_S3_SSE)}`,
    { details: { VARVE_S3_SSE: env.VARVE_S3_SSE } },
  )
}

/**
 * A remote's own credentials, when it is on another account than this repository (decision 0019):
 * `VARVE_REMOTE_<NAME>_ACCESS_KEY_ID` and `_SECRET_ACCESS_KEY` (and `_SESSION_TOKEN`); else the SDK's chain.
 */
function remoteCredentials(remote: { name: string; s3?: object }): RepositoryOptions {
  const env = (k: string) => process.env[`VARVE_REMOTE_${remote.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${k}`]
  const accessKeyId = env('ACCESS_KEY_ID')
  const secretAccessKey = env('SECRET_ACCESS_KEY')
  if (!accessKeyId || !secretAccessKey) return {}
  const sessionToken = env('SESSION_TOKEN')
  return { s3: { ...(remote.s3 ?? {}), credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } }
}

/** Imported entries, remotes and served repositories name their scheme: its adapter loads the first time one is used. */
async function loadSourceScheme(scheme: string): Promise<void> {
  if (scheme === 's3') await import('@varve/s3-adapter')
  else if (scheme === 'az') await import('@varve/azure-adapter')
  else if (scheme === 'gs') await import('@varve/gcs-adapter')
}

export async function openRepository(opts: GlobalOptions): Promise<Repository> {
  const location = findLocation(opts)
  return Repository.open(location, await repositoryOptions(location, opts))
}
