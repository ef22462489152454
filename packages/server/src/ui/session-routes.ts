import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AccessKey } from '../config.js'
import { hasCsrfToken, sameOrigin, sessionCookie, type UiSession, type UiSessions } from './sessions.js'

/** Log in (POST), who is logged in (GET), log out (DELETE): the one API path reached without credentials. */
export const SESSION_PATH = '/api/v1/session'

const MAX_LOGIN_BODY = 4096
/** Failed logins one client address may make in a window before it must wait (guessing secrets is slow). */
const MAX_FAILURES = 10
const FAILURE_WINDOW_MS = 10 * 60_000
/** Addresses tracked at once; past it the oldest is forgotten. */
const MAX_TRACKED = 10_000

/** Failed logins per client address, one per server. */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>()

  /** Seconds the address must wait before it may try again, or 0. */
  waitSeconds(address: string, now = Date.now()): number {
    const recent = this.#recent(address, now)
    return recent.length >= MAX_FAILURES ? Math.ceil((recent[0]! + FAILURE_WINDOW_MS - now) / 1000) : 0
  }

  failed(address: string, now = Date.now()): void {
    const recent = this.#recent(address, now)
    this.#failures.delete(address)
    while (this.#failures.size >= MAX_TRACKED) this.#failures.delete(this.#failures.keys().next().value!)
    this.#failures.set(address, [...recent, now])
  }

  succeeded(address: string): void {
    this.#failures.delete(address)
  }

  #recent(address: string, now: number): number[] {
    const recent = (this.#failures.get(address) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS)
    if (recent.length) this.#failures.set(address, recent)
    else this.#failures.delete(address)
    return recent
  }
}

export interface SessionRouteContext {
  readonly sessions: UiSessions
  readonly keys: ReadonlyMap<string, AccessKey>
  /** Under TLS the cookie is `Secure`. */
  readonly secure: boolean
  readonly throttle: LoginThrottle
}

/** What the app learns of its session: the key, its grants (to hide what it may not do), the CSRF token. */
const view = (s: UiSession, key: AccessKey) => ({
  accessKey: s.accessKey,
  grants: key.grants,
  csrfToken: s.csrfToken,
  expiresAt: new Date(s.expiresAt).toISOString(),
})

export async function handleSessionRoute(req: IncomingMessage, res: ServerResponse, c: SessionRouteContext): Promise<void> {
  const reply = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    const body = JSON.stringify(value)
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers })
    res.end(body)
  }
  const refuse = (status: number, message: string) => reply(status, { error: { code: 'PERMISSION_DENIED', message, details: {} } })
  if (req.method === 'GET') {
    const s = c.sessions.of(req)
    const key = s && c.keys.get(s.accessKey)
    if (!s || !key) return refuse(401, 'not logged in')
    return reply(200, view(s, key))
  }
  if (req.method === 'DELETE') {
    const s = c.sessions.of(req)
    if (s) {
      if (!sameOrigin(req) || !hasCsrfToken(req, s)) return refuse(403, "logging out needs the session's CSRF token (x-varve-csrf)")
      c.sessions.end(s.id)
    }
    return reply(200, { loggedOut: true }, { 'Set-Cookie': sessionCookie(undefined, c.secure) })
  }
  if (req.method !== 'POST') return reply(405, { error: { code: 'INVALID_ARGUMENT', message: `${req.method} is not allowed on ${SESSION_PATH}`, details: {} } })
  // A login is JSON from this origin: a form on another site can send neither (no login CSRF).
  if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? '')) || !sameOrigin(req))
    return refuse(403, "a login is a JSON body sent from this server's own pages")
  const address = req.socket.remoteAddress ?? ''
  const wait = c.throttle.waitSeconds(address)
  if (wait > 0) {
    return reply(
      429,
      { error: { code: 'UNAVAILABLE', message: `too many failed logins from this address: try again in ${wait} s`, details: { retryAfter: wait } } },
      { 'Retry-After': String(wait) },
    )
  }
  let body: { accessKey?: unknown; secretKey?: unknown }
  try {
    const parts: Buffer[] = []
    let n = 0
    for await (const chunk of req) {
      n += (chunk as Buffer).length
      if (n > MAX_LOGIN_BODY) return refuse(413, 'a login body is limited to 4 KiB')
      parts.push(chunk as Buffer)
    }
    body = JSON.parse(Buffer.concat(parts).toString('utf8')) as typeof body
  } catch {
    return reply(400, { error: { code: 'INVALID_ARGUMENT', message: 'the body must be JSON: {"accessKey", "secretKey"}', details: {} } })
  }
  const key = typeof body?.accessKey === 'string' ? c.keys.get(body.accessKey) : undefined
  const secret = Buffer.from(typeof body?.secretKey === 'string' ? body.secretKey : '')
  if (!key || secret.length !== Buffer.byteLength(key.secretKey) || !timingSafeEqual(secret, Buffer.from(key.secretKey))) {
    c.throttle.failed(address)
    return refuse(401, 'unknown access key or wrong secret')
  }
  c.throttle.succeeded(address)
  const s = c.sessions.create(key.accessKey)
  return reply(200, view(s, key), { 'Set-Cookie': sessionCookie(s, c.secure) })
}
