import type { IncomingMessage, ServerResponse } from 'node:http'
import { VarveError, type Repository } from '@varve/core'
import { allowed, type Principal } from '../access.js'
import type { Action, ServeConfig } from '../config.js'
import { accessDenied, noSuchBucket, noSuchKey } from '../errors.js'
import type { Repositories } from '../repositories.js'
import { splitKey, type RefNames, type RefPath } from './addressing.js'
import type { Assembly } from './assembly.js'
import type { VerifiedRequest } from './sigv4.js'

/** One S3 request, parsed and authenticated. */
export interface S3Request {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly requestId: string
  /** The repository name (bucket), if the request names one. */
  readonly bucket: string | undefined
  /** The object key (decoded), if the request names one. */
  readonly key: string | undefined
  readonly query: URLSearchParams
  readonly who: Principal
  readonly verified: VerifiedRequest | undefined
  readonly repos: Repositories
  readonly names: RefNames
  readonly config: ServeConfig
  /** Multipart uploads being assembled while their parts arrive, by upload id. */
  readonly uploads: Map<string, Assembly>
}

export function need(r: S3Request, action: Action, ref?: string): void {
  if (!allowed(r.who, action, r.bucket!, ref)) throw accessDenied(`${r.who.accessKey ?? 'anonymous'} may not ${action} ${r.bucket}${ref ? `/${ref}` : ''}`)
}

export async function repositoryOf(r: S3Request): Promise<Repository> {
  if (!r.bucket || !r.repos.has(r.bucket)) throw noSuchBucket(r.bucket ?? '')
  return r.repos.get(r.bucket)
}

/** The ref and path the request's key names (a key with no `/` names no object). */
export async function refPathOf(r: S3Request, repo: Repository, key = r.key ?? ''): Promise<RefPath> {
  const rp = await splitKey(repo, key, r.names)
  if (!rp?.path) throw noSuchKey(key)
  return rp
}

/** Writes go to branches: a tag, a commit or a ref that does not exist is AccessDenied. */
export async function mustBeBranch(repo: Repository, ref: string): Promise<void> {
  try {
    await repo.getBranch(ref)
  } catch (err) {
    if (VarveError.is(err, 'NOT_FOUND') || VarveError.is(err, 'INVALID_REF'))
      throw accessDenied(`${ref} is not a branch: writes go to a branch (tags and commits never change)`)
    throw err
  }
}
