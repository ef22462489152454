// The JSON API as the app calls it: same origin, the session cookie sent by the browser, and on
// every request that changes something the session's CSRF token (decision 0018).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export interface Grant {
  readonly repositories: readonly string[]
  readonly branches: readonly string[]
  readonly actions: readonly string[]
}

export interface Session {
  readonly accessKey: string
  readonly grants: readonly Grant[]
  readonly csrfToken: string
  readonly expiresAt: string
}

let csrfToken = ''
/** Called when a request finds the session gone (expired, logged out elsewhere): the app shows the login. */
let onLoggedOut: () => void = () => {}

export function useSession(session: Session | undefined, loggedOut: () => void): void {
  csrfToken = session?.csrfToken ?? ''
  onLoggedOut = loggedOut
}

/** A path of the API (`/repositories/x/branches`) with its query. */
export function apiUrl(path: string, query: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, v)
  const qs = q.toString()
  return `/api/v1${path}${qs ? `?${qs}` : ''}`
}

export async function request<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(method !== 'GET' && method !== 'HEAD' ? { 'X-Varve-CSRF': csrfToken } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  let value: unknown
  try {
    value = text ? JSON.parse(text) : {}
  } catch {
    throw new ApiError(res.status, 'INTERNAL', `the server answered ${res.status} without JSON`)
  }
  if (!res.ok) {
    const e = (value as { error?: { code?: string; message?: string } }).error
    if (res.status === 401 && !url.endsWith('/session')) onLoggedOut()
    throw new ApiError(res.status, e?.code ?? 'INTERNAL', e?.message ?? `HTTP ${res.status}`)
  }
  return value as T
}

export const get = <T>(path: string, query: Record<string, string | undefined> = {}) => request<T>('GET', apiUrl(path, query))
export const post = <T>(path: string, body: unknown) => request<T>('POST', apiUrl(path), body)
export const del = <T>(path: string) => request<T>('DELETE', apiUrl(path))

/** Part of an object's bytes (`end` exclusive): previews never download a large file whole. */
export async function readRange(repo: string, ref: string, path: string, start: number, end: number): Promise<Uint8Array> {
  const res = await fetch(apiUrl(`/repositories/${enc(repo)}/objects/content`, { ref, path }), {
    credentials: 'same-origin',
    headers: { Range: `bytes=${start}-${end - 1}` },
  })
  if (!res.ok) throw new ApiError(res.status, 'INTERNAL', `reading ${path}: HTTP ${res.status}`)
  return new Uint8Array(await res.arrayBuffer())
}

export const enc = encodeURIComponent

// ---- shapes the API answers with ----
export interface ObjectEntry {
  readonly path: string
  readonly address: string
  readonly size: number
  readonly lastModified: number
  readonly contentType?: string
  readonly metadata?: Record<string, string>
  readonly pack?: string
  readonly offset?: number
  readonly external?: { readonly source: string; readonly key: string; readonly versionId?: string; readonly etag?: string }
}
export interface Listing {
  readonly objects: ObjectEntry[]
  readonly prefixes: string[]
  readonly truncated: boolean
  readonly next?: string
}
export interface Branch {
  readonly name: string
  readonly head: string
}
export interface Tag {
  readonly name: string
  readonly commit: string
}
export interface Commit {
  readonly id: string
  readonly parents: readonly string[]
  readonly root: string
  readonly message: string
  readonly author: string
  readonly committer?: string
  readonly metadata: Record<string, unknown>
  readonly createdAt: number
  readonly generation: number
}
export interface Change {
  readonly path: string
  readonly type: 'added' | 'removed' | 'changed'
  readonly left?: ObjectEntry
  readonly right?: ObjectEntry
  readonly entry?: ObjectEntry
}

export interface Approval {
  readonly reviewer: string
  readonly at: number
  readonly sourceHead: string
}
export interface Comment {
  readonly id: number
  readonly author: string
  readonly text: string
  readonly path?: string
  readonly at: number
}
export interface GateFailure {
  readonly hookId: string
  readonly file?: string
  readonly reason: string
  readonly code?: string
}
export interface HookRun {
  readonly runId: string
  readonly hookId: string
  readonly origin: string
  readonly status: string
  readonly message: string
  readonly failures: readonly { readonly file?: string; readonly reason: string }[]
  readonly durationMs: number
}
export interface Conflict {
  readonly path: string
  readonly source: Change['type']
  readonly dest: Change['type']
  readonly rows?: { readonly base?: number; readonly source?: number; readonly dest?: number }
}
export interface MergeRequest {
  readonly id: number
  readonly title: string
  readonly description: string
  readonly author: string
  readonly source: string
  readonly dest: string
  readonly state: 'open' | 'merged' | 'closed'
  readonly createdAt: number
  readonly updatedAt: number
  readonly approvals: readonly Approval[]
  readonly comments: readonly Comment[]
  readonly merged?: { readonly commit: string; readonly by: string; readonly at: number; readonly approvers: readonly string[] }
  readonly closed?: { readonly by: string; readonly at: number }
  readonly sourceHead?: string | null
  readonly destHead?: string | null
  readonly changes?: {
    readonly added: number
    readonly removed: number
    readonly changed: number
    readonly paths: readonly Change[]
    readonly truncated: boolean
  }
  readonly conflicts?: readonly Conflict[]
  readonly gates?: {
    readonly status: 'passed' | 'failed' | 'not-run'
    readonly reason?: string
    readonly runs?: readonly HookRun[]
    readonly failures?: readonly GateFailure[]
  }
  readonly approval?: {
    readonly required: number
    readonly counted: readonly string[]
    readonly stale: readonly string[]
    readonly satisfied: boolean
    readonly rejected?: readonly { readonly reviewer: string; readonly reason: string }[]
  }
  readonly mergeable?: boolean
  readonly blockers?: readonly string[]
}
