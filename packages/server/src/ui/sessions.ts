import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** The session cookie's name. */
export const SESSION_COOKIE = 'varve_session'
/** The header every mutating request made with the session cookie must carry, holding the session's CSRF token. */
export const CSRF_HEADER = 'x-varve-csrf'

export interface UiSession {
  readonly id: string
  readonly accessKey: string
  /** Sent back by the app on every mutating request (the synchronizer token pattern). */
  readonly csrfToken: string
  readonly expiresAt: number
}

/** Sessions kept at once; past it the oldest is dropped (one client cannot grow the map without bound). */
const MAX_SESSIONS = 10_000

/**
 * The web UI's logins (decision 0018): a random session id in an HttpOnly, SameSite=Strict cookie,
 * with a CSRF token the app sends as a header. Held in memory: a restart logs everyone out, and
 * instances behind a balancer need sticky sessions. One-time tokens (`varve ui`) log in once.
 */
export class UiSessions {
  readonly #sessions = new Map<string, UiSession>()
  readonly #tokens = new Map<string, string>()

  constructor(readonly lifetimeMs: number) {}

  create(accessKey: string, now = Date.now()): UiSession {
    this.#sweep(now)
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!)
    const s: UiSession = { id: token(), accessKey, csrfToken: token(), expiresAt: now + this.lifetimeMs }
    this.#sessions.set(s.id, s)
    return s
  }

  /** The request's session, when its cookie names a live one. */
  of(req: IncomingMessage, now = Date.now()): UiSession | undefined {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE)
    if (!id) return undefined
    const s = this.#sessions.get(id)
    if (!s) return undefined
    if (s.expiresAt <= now) {
      this.#sessions.delete(id)
      return undefined
    }
    return s
  }

  end(id: string): void {
    this.#sessions.delete(id)
  }

  /** A token that logs `accessKey` in once (the URL `varve ui` prints). */
  oneTimeToken(accessKey: string): string {
    const t = token()
    this.#tokens.set(t, accessKey)
    return t
  }

  /** The access key a one-time token logs in, spending it; undefined for an unknown or spent token. */
  redeem(t: string): string | undefined {
    for (const [known, accessKey] of this.#tokens)
      if (known.length === t.length && timingSafeEqual(Buffer.from(known), Buffer.from(t))) {
        this.#tokens.delete(known)
        return accessKey
      }
    return undefined
  }

  #sweep(now: number): void {
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id)
  }
}

/** Whether a request carries the session's CSRF token (compared in constant time). */
export function hasCsrfToken(req: IncomingMessage, session: UiSession): boolean {
  const sent = req.headers[CSRF_HEADER]
  if (typeof sent !== 'string' || sent.length !== session.csrfToken.length) return false
  return timingSafeEqual(Buffer.from(sent), Buffer.from(session.csrfToken))
}

/**
 * Whether a cookie-authenticated request comes from this server's own pages: an `Origin` (or, without
 * one, `Referer`) naming another host is refused even with a token (defence in depth over SameSite).
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const from = req.headers.origin ?? req.headers.referer
  if (from === undefined) return true
  try {
    return new URL(String(from)).host === req.headers.host
  } catch {
    return false
  }
}

/** The `Set-Cookie` value that holds a session (or, with `undefined`, clears it). */
export function sessionCookie(session: UiSession | undefined, secure: boolean, now = Date.now()): string {
  const maxAge = session ? Math.max(0, Math.floor((session.expiresAt - now) / 1000)) : 0
  return `${SESSION_COOKIE}=${session?.id ?? ''}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`
}

const token = () => randomBytes(32).toString('base64url')

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 8192) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}
