import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Repository } from '@varve/core'
import { allowed, seesRepository, type Principal } from '../access.js'
import type { Action } from '../config.js'
import type { Repositories } from '../repositories.js'

// The JSON API's kit: the route table, request parsing, grant checks and replies; the routes are in
// routes.ts and merge-routes.ts. The HTTP JSON API: what S3 cannot say (branches, commits, merges with their gate results and
// conflicts, reverts, diffs, history, tags, pins, gate checks). JSON in, JSON out; an error is
// `{ "error": { "code", "message", "details" } }` with the library's stable code.

export interface ApiRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly path: string
  readonly query: URLSearchParams
  readonly who: Principal
  readonly repos: Repositories
  /** The SHA-256 a SigV4 signature gave for the body, when it gave one. */
  readonly signedBody?: string
  /** A presigned GET of the gateway's S3 API signed with the caller's own key (absent for anonymous callers). */
  readonly presign?: (bucket: string, key: string, expiresSeconds: number) => Promise<string>
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

export type Params = Record<string, string>
/** What a handler returns when it wrote the response itself (bytes, not JSON). */
export const SENT = Symbol('sent')
export type Handler = (a: ApiRequest, p: Params) => Promise<unknown>
interface Route {
  method: string
  pattern: RegExp
  keys: string[]
  handler: Handler
  status?: number
}

export const routes: Route[] = []
export function route(method: string, template: string, handler: Handler, status = 200): void {
  const keys: string[] = []
  // `{ref*}` matches the rest of the path (branch names may hold `/`); `{x}` one segment.
  const pattern = new RegExp(`^${template.replace(/\{(\w+)(\*?)\}/g, (_m, k: string, rest: string) => (keys.push(k), rest ? '(.+)' : '([^/]+)'))}$`)
  routes.push({ method, pattern, keys, handler, status })
}

const MAX_BODY = 1024 * 1024

export async function jsonBody(a: ApiRequest): Promise<Record<string, unknown>> {
  const parts: Buffer[] = []
  let n = 0
  for await (const chunk of a.req) {
    n += (chunk as Buffer).length
    if (n > MAX_BODY) throw new ApiError(413, 'INVALID_ARGUMENT', `a request body is limited to ${MAX_BODY} bytes`)
    parts.push(chunk as Buffer)
  }
  const bytes = Buffer.concat(parts)
  if (a.signedBody !== undefined && createHash('sha256').update(bytes).digest('hex') !== a.signedBody)
    throw new ApiError(400, 'INVALID_ARGUMENT', 'the body does not match the x-amz-content-sha256 it was signed with')
  if (!n) return {}
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch {
    throw new ApiError(400, 'INVALID_ARGUMENT', 'the body must be a JSON object')
  }
}

export const str = (v: unknown, name: string, optional = false): string | undefined => {
  if (v === undefined && optional) return undefined
  if (typeof v !== 'string' || !v) throw new ApiError(400, 'INVALID_ARGUMENT', `${name} must be a non-empty string`)
  return v
}
export const limitOf = (q: URLSearchParams, dflt: number, max: number) => {
  const t = q.get('limit')
  const n = t === null ? dflt : Number(t)
  if (!Number.isInteger(n) || n < 1) throw new ApiError(400, 'INVALID_ARGUMENT', 'limit must be a positive integer')
  return Math.min(n, max)
}

export function need(a: ApiRequest, action: Action, repo: string, ref?: string): void {
  if (!allowed(a.who, action, repo, ref))
    throw new ApiError(403, 'PERMISSION_DENIED', `${a.who.accessKey ?? 'anonymous'} may not ${action} ${repo}${ref ? ` ${ref}` : ''}`)
}

/** The `ref` a read route names in its query, after checking the key may read it (every page of the web UI reads one). */
export function readRef(a: ApiRequest, repo: string): string {
  const ref = str(a.query.get('ref') ?? undefined, 'ref')!
  need(a, 'read', repo, ref)
  return ref
}

/**
 * `read` on a revision another route reads from (a reset's target, a reverted commit): granted by
 * name, or because it is in the history of `branch`, which the key may read (a rollback of the
 * key's own branch to one of its older commits, by id).
 */
export async function needRead(a: ApiRequest, repo: Repository, repoName: string, revision: string, branch: string): Promise<void> {
  if (allowed(a.who, 'read', repoName, revision)) return
  if (allowed(a.who, 'read', repoName, branch) && (await repo.isAncestor(revision, branch).catch(() => false))) return
  need(a, 'read', repoName, revision)
}

/**
 * `read` on a revision named by id (a cherry-picked commit): granted by name, or because it is in the
 * history of some branch the key can read (at most the first 1,000 such branches are asked).
 */
export async function needReadSomewhere(a: ApiRequest, repo: Repository, repoName: string, revision: string): Promise<void> {
  if (allowed(a.who, 'read', repoName, revision)) return
  let asked = 0
  for await (const b of repo.branches()) {
    if (!allowed(a.who, 'read', repoName, b.name)) continue
    if (await repo.isAncestor(revision, b.name).catch(() => false)) return
    if (++asked >= 1000) break
  }
  need(a, 'read', repoName, revision)
}

export async function repoOf(a: ApiRequest, name: string): Promise<Repository> {
  if (!a.repos.has(name) || !seesRepository(a.who, name)) throw new ApiError(404, 'NOT_FOUND', `no repository ${name}`)
  return a.repos.get(name)
}

export async function take<T>(it: AsyncIterable<T>, limit: number): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = []
  for await (const x of it) {
    if (items.length === limit) return { items, truncated: true }
    items.push(x)
  }
  return { items, truncated: false }
}

/** The acting identity: the access key. It is what the ref log records as having moved a ref. */
export const actor = (a: ApiRequest) => a.who.accessKey ?? 'anonymous'
/**
 * Who wrote a commit and who made it, as git splits author and committer: a body's `author` is kept
 * as the author (a pipeline committing for a person), and the access key is always the committer.
 */
export const authorship = (a: ApiRequest, body: Record<string, unknown>) => ({ author: str(body.author, 'author', true) ?? actor(a), committer: actor(a) })

/** A revert's or cherry-pick's `parent` (which parent of a merge commit to diff against), checked: `{}` when absent. */
export function parentOption(body: Record<string, unknown>): { parent?: number } {
  const parent = body.parent
  if (parent === undefined) return {}
  if (typeof parent !== 'number' || !Number.isInteger(parent)) throw new ApiError(400, 'INVALID_ARGUMENT', 'parent must be an integer')
  return { parent }
}

/** A merge's `source` and `dest` from the body; reading the source, and `destAction` on the destination. */
export function mergeSides(a: ApiRequest, repo: string, body: Record<string, unknown>, destAction: Action): { source: string; dest: string } {
  const source = str(body.source, 'source')!
  const dest = str(body.dest, 'dest')!
  need(a, 'read', repo, source)
  need(a, destAction, repo, dest)
  return { source, dest }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) })
  res.end(body)
}
