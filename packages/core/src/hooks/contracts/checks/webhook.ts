import { createHmac, randomUUID } from 'node:crypto'
import type { HookFinding } from '../../hook-types.js'
import type { CheckDefinition, CheckEnv } from '../check-types.js'

export type { WebhookSettings } from './webhook-settings.js'
import type { WebhookSettings } from './webhook-settings.js'

/** Paths listed in a payload; the counts cover every change, `truncated` says when there were more. */
const PAYLOAD_PATHS = 1000
/** The part of a response read for its message; the rest is not downloaded. */
const RESPONSE_BYTES = 64 * 1024
const TIMEOUT_RANGE_MS = [100, 120_000] as const
const DEFAULT_TIMEOUT_MS = 10_000
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/
/** Headers Varve sets itself: a rules file cannot override what the receiver verifies. */
const RESERVED = new Set([
  'content-type',
  'content-length',
  'host',
  'x-varve-signature-256',
  'x-varve-event',
  'x-varve-delivery',
  'transfer-encoding',
  'connection',
])

/**
 * `type: webhook`: the operation is sent to an HTTP endpoint as JSON (event, repository, branch,
 * source, heads, a summary of the changed paths, a link to the whole diff when served) and passes
 * only on a 2xx. The body is signed with HMAC-SHA256 under a secret from the environment
 * (`X-Varve-Signature-256: sha256=<hex>`); redirects are not followed; time and response size are
 * bounded. Every client that runs the gate (library, CLI, `varve serve`) calls it.
 */
export const webhook: CheckDefinition = {
  keys: ['url', 'method', 'headers', 'headersFromEnv', 'secretEnv', 'timeoutMs'],
  compile: (f) => {
    const rawUrl = f.str('url', true)!
    let url: URL
    try {
      url = new URL(rawUrl)
    } catch {
      throw f.invalid(`url ${JSON.stringify(rawUrl.slice(0, 200))} is not a URL`, 'url')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw f.invalid(`url must be http or https, not ${url.protocol}`, 'url')
    if (url.username || url.password) throw f.invalid('url must not carry credentials: use headersFromEnv or secretEnv', 'url')
    const method = (f.str('method') ?? 'POST').toUpperCase()
    if (method !== 'POST' && method !== 'PUT') throw f.invalid('method must be POST or PUT', 'method')
    const literal = headerMap(f.map('headers') ?? {}, (k) => f.invalid(`headers.${k}: a header name and a string value`, ['headers', k]))
    const fromEnv = headerMap(f.map('headersFromEnv') ?? {}, (k) =>
      f.invalid(`headersFromEnv.${k}: a header name and an environment variable name`, ['headersFromEnv', k]),
    )
    for (const v of Object.values(fromEnv))
      if (!ENV_NAME.test(v)) throw f.invalid(`headersFromEnv: ${JSON.stringify(v)} is not an environment variable name`, 'headersFromEnv')
    for (const v of Object.values(literal)) if (/[\r\n\0]/.test(v)) throw f.invalid('headers: a value must be one line', 'headers')
    const secretEnv = f.str('secretEnv')
    if (secretEnv !== undefined && !ENV_NAME.test(secretEnv))
      throw f.invalid(`secretEnv ${JSON.stringify(secretEnv)} is not an environment variable name`, 'secretEnv')
    const t = f.num('timeoutMs')
    const timeoutMs = t === undefined ? DEFAULT_TIMEOUT_MS : Math.min(TIMEOUT_RANGE_MS[1], Math.max(TIMEOUT_RANGE_MS[0], t))
    return {
      type: 'webhook',
      async run(env) {
        const failure = (reason: string): HookFinding[] => [{ reason: `webhook ${url.origin}${url.pathname}: ${reason}` }]
        const settings = env.webhooks ?? {}
        const vars = settings.env ?? process.env
        if (!hostAllowed(url, settings.allowHosts))
          return failure(`host ${url.host} is not in the allowed webhook hosts (${(settings.allowHosts ?? []).join(', ') || 'none'}); nothing was sent`)
        const headers: Record<string, string> = { ...literal }
        for (const [name, variable] of Object.entries(fromEnv)) {
          const value = vars[variable]
          if (value === undefined || value === '') return failure(`environment variable ${variable} (for header ${name}) is not set; nothing was sent`)
          if (/[\r\n\0]/.test(value)) return failure(`environment variable ${variable} is not a valid header value; nothing was sent`)
          headers[name] = value
        }
        const body = JSON.stringify(payload(env, settings))
        headers['content-type'] = 'application/json'
        headers['x-varve-event'] = env.gate.event
        headers['x-varve-delivery'] = randomUUID()
        if (secretEnv !== undefined) {
          const secret = vars[secretEnv]
          if (!secret) return failure(`environment variable ${secretEnv} (the signing secret) is not set; nothing was sent`)
          headers['x-varve-signature-256'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
        }
        return send(url, method, headers, body, timeoutMs, failure)
      },
    }
  },
}

function headerMap(raw: Record<string, unknown>, bad: (key: string) => Error): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (!HEADER_NAME.test(k) || typeof v !== 'string' || RESERVED.has(k.toLowerCase())) throw bad(k)
    out[k] = v
  }
  return out
}

export function hostAllowed(url: URL, allow: readonly string[] | undefined): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '')
  // Without an allow list any host goes, except link-local addresses (cloud metadata services live
  // there: a rules file must not make every merging machine send its payload to 169.254.169.254).
  if (!allow) return !/^(169\.254\.|fe[89ab][0-9a-f]:)/.test(host)
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  return allow.some((entry) => {
    const e = entry.trim().toLowerCase()
    if (!e) return false
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(e)
    if (!m) return false
    const name = m[1]!.replace(/^\[|\]$/g, '')
    if (m[2] !== undefined && m[2] !== port) return false
    return name.startsWith('*.') ? host.endsWith(name.slice(1)) && host.length > name.length - 1 : host === name
  })
}

function payload(env: CheckEnv, settings: WebhookSettings): Record<string, unknown> {
  const g = env.gate
  const counts = { added: 0, removed: 0, changed: 0 }
  for (const d of env.changes) counts[d.type]++
  return {
    event: g.event,
    repository: settings.repository ?? null,
    branch: g.branch,
    source: g.source ?? null,
    heads: { base: g.base ?? null, candidate: g.candidate },
    // a look (a dry run, `mr show`, `hooks check`): the receiver may answer, nothing moves either way
    dryRun: g.dryRun === true,
    changes: {
      ...counts,
      paths: env.changes.slice(0, PAYLOAD_PATHS).map((d) => ({ path: d.path, type: d.type, size: d.right?.size ?? null })),
      truncated: env.changes.length > PAYLOAD_PATHS,
      ...(settings.diffUrl && g.base ? { url: settings.diffUrl(g.base, g.candidate) } : {}),
    },
    sentAt: new Date().toISOString(),
  }
}

async function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  failure: (r: string) => HookFinding[],
): Promise<HookFinding[]> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), timeoutMs)
  try {
    let res: Response
    try {
      res = await fetch(url, { method, headers, body, redirect: 'manual', signal: abort.signal })
    } catch (err) {
      if (abort.signal.aborted) return failure(`no answer within ${timeoutMs} ms`)
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      return failure(`unreachable (${cause?.code ?? cause?.message ?? (err as Error).message})`)
    }
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel().catch(() => undefined) // the answer's body is not needed: do not download it
      return []
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined)
      return failure(
        `answered ${res.status} (a redirect${res.headers.get('location') ? ` to ${res.headers.get('location')!.slice(0, 200)}` : ''}); redirects are not followed`,
      )
    }
    const text = await readSome(res, abort.signal).catch(() => '')
    return failure(`answered ${res.status}${text ? `: ${messageOf(text)}` : ''}`)
  } finally {
    clearTimeout(timer)
  }
}

/** At most RESPONSE_BYTES of the body, then the connection is dropped. */
async function readSome(res: Response, signal: AbortSignal): Promise<string> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const parts: Uint8Array[] = []
  let n = 0
  try {
    while (n < RESPONSE_BYTES && !signal.aborted) {
      const { done, value } = await reader.read()
      if (done) break
      parts.push(value)
      n += value.byteLength
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
  return Buffer.concat(parts).subarray(0, RESPONSE_BYTES).toString('utf8')
}

/** A JSON answer's `message` (or `error.message`), else the text; one line, at most 500 characters. */
function messageOf(text: string): string {
  let m = text
  try {
    const j = JSON.parse(text) as { message?: unknown; error?: { message?: unknown } | string }
    const pick = j.message ?? (typeof j.error === 'object' ? j.error?.message : j.error)
    if (typeof pick === 'string') m = pick
  } catch {
    // not JSON: the text itself
  }
  const line = m.replace(/\s+/g, ' ').trim()
  return line.length > 500 ? `${line.slice(0, 500)}...` : line
}
