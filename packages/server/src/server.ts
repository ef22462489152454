import { randomBytes, timingSafeEqual } from 'node:crypto'
import fs from 'node:fs/promises'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import { principalOf, type Principal } from './access.js'
import { handleApi } from './api/routes.js'
import { parseListen, type AccessKey, type ServeConfig } from './config.js'
import { presignGatewayGet } from './presign.js'
import { accessDenied, invalidArgument, S3Error, s3ErrorOf } from './errors.js'
import { Repositories } from './repositories.js'
import { RefNames } from './s3/addressing.js'
import type { S3Request } from './s3/context.js'
import { dispatchS3 } from './s3/dispatch.js'
import type { Assembly } from './s3/assembly.js'
import { expireAllUploads } from './s3/upload-expiry.js'
import { sendS3Error } from './s3/respond.js'
import { isPresignedV2, verifyPresignedV2 } from './s3/sigv2.js'
import { isSigned, verifyRequest, type VerifiedRequest } from './s3/sigv4.js'
import { uiAssetsDir } from '@varve/web'
import { UiAssets } from './ui/assets.js'
import { handleSessionRoute, LoginThrottle, SESSION_PATH } from './ui/session-routes.js'
import { hasCsrfToken, sameOrigin, sessionCookie, UiSessions, type UiSession } from './ui/sessions.js'

export interface StartOptions {
  /** Repository options (e.g. `s3` settings for `s3://` locations). */
  readonly repositoryOptions?: Record<string, unknown>
  /** The web UI's built files, served at `/ui/` (default: those of the `@varve/web` package installed with the server). */
  readonly uiAssetsDir?: string
}

export interface RunningServer {
  /** `http://host:port` (or https). */
  readonly url: string
  readonly port: number
  /** A URL that logs `accessKey` in to the web UI once (what `varve ui` prints, as Jupyter does). */
  oneTimeLoginUrl(accessKey: string): string
  /** Stops accepting, lets in-flight requests finish, closes the repositories. */
  close(): Promise<void>
}

/** Starts `varve serve`: the S3 API at `/`, the JSON API at `/api/v1`, on the config's listen address. */
export async function startServer(config: ServeConfig, options: StartOptions = {}): Promise<RunningServer> {
  if (config.uploadDir !== undefined) await fs.mkdir(config.uploadDir, { recursive: true })
  const cfg: ServeConfig = config
  let publicUrl = cfg.publicUrl ?? '' // the listen URL once it is known (repositories open on first request)
  const repos = new Repositories(cfg.repositories, options.repositoryOptions, (name) => ({
    repository: name,
    diffUrl: (base, candidate) => `${publicUrl}/api/v1/repositories/${name}/diff?left=${base}&right=${candidate}`,
    ...(cfg.webhookAllowHosts ? { allowHosts: cfg.webhookAllowHosts } : {}),
  }))
  const names = new RefNames()
  const keys = new Map<string, AccessKey>(cfg.keys.map((k) => [k.accessKey, k]))
  const anonymous: Principal = { accessKey: null, grants: cfg.anonymous }
  const sessions = new UiSessions(cfg.uiSessionHours * 3600_000)
  const throttle = new LoginThrottle()
  const ui = new UiAssets(options.uiAssetsDir ?? uiAssetsDir)
  const uploads = new Map<string, Assembly>()
  // Abandoned multipart uploads are removed at start and then every quarter of their lifetime (at most hourly).
  let expiring: Promise<unknown> = expireAllUploads(cfg, uploads, repos).catch(() => [])
  const expiry = setInterval(
    () => {
      expiring = expiring.then(() => expireAllUploads(cfg, uploads, repos)).catch(() => [])
    },
    Math.min(3600_000, Math.max(100, (cfg.uploadLifetimeHours * 3600_000) / 4)),
  )
  expiry.unref()

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const rawPath = q < 0 ? url : url.slice(0, q)
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
    // The one route without credentials: a load balancer's health check. It says nothing about the data.
    if (rawPath === '/api/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
      return void res.end(req.method === 'HEAD' ? undefined : '{"status":"ok"}')
    }
    if (rawPath === '/ui' || rawPath.startsWith('/ui/')) return serveUi(req, res, rawPath, query)
    if (rawPath === SESSION_PATH) return handleSessionRoute(req, res, { sessions, keys, secure: !!cfg.tls, throttle })
    if (rawPath === '/api' || rawPath.startsWith('/api/')) {
      let who: Principal
      let signedBody: string | undefined
      try {
        ;({ who, signedBody } = await apiPrincipal(req, rawPath, query, keys, anonymous, cfg.region, sessions))
      } catch (err) {
        const e = err instanceof S3Error ? err : s3ErrorOf(err)
        res.writeHead(e.status === 403 ? 401 : e.status, { 'Content-Type': 'application/json', ...basicChallenge(req) })
        res.end(JSON.stringify({ error: { code: 'PERMISSION_DENIED', message: e.message, details: { s3Code: e.code } } }))
        return
      }
      // Without anonymous grants, the API answers nothing without credentials (its description aside).
      if (who.accessKey === null && !cfg.anonymous.length && rawPath !== '/api/openapi.json') {
        res.writeHead(401, { 'Content-Type': 'application/json', ...basicChallenge(req) })
        res.end(JSON.stringify({ error: { code: 'PERMISSION_DENIED', message: 'credentials required: HTTP Basic access-key:secret, or AWS SigV4' } }))
        return
      }
      const key = who.accessKey === null ? undefined : keys.get(who.accessKey)
      const base = cfg.publicUrl ?? `${cfg.tls ? 'https' : 'http'}://${req.headers.host ?? `127.0.0.1:${(server.address() as { port: number }).port}`}`
      const presign = key
        ? (bucket: string, objectKey: string, expires: number) => presignGatewayGet(base, key, cfg.region, bucket, objectKey, expires)
        : undefined
      return handleApi({ req, res, path: rawPath.slice(4), query, who, repos, ...(signedBody ? { signedBody } : {}), ...(presign ? { presign } : {}) })
    }
    try {
      let verified: VerifiedRequest | undefined
      let who = anonymous
      const { bucket, key, virtualHost } = target(req, rawPath, repos)
      if (isSigned(req, query)) {
        verified = await verifyRequest(req, rawPath, query, keys, Date.now(), cfg.region)
        who = principalOf(verified.key)
      } else if (isPresignedV2(query)) {
        who = principalOf(verifyPresignedV2(req, virtualHost ? `/${bucket}${rawPath}` : rawPath, query, keys))
      } else if (!cfg.anonymous.length) throw accessDenied('Anonymous access is not allowed: sign the request with an access key')
      const r: S3Request = { req, res, requestId, bucket, key, query, who, verified, repos, names, config: cfg, uploads }
      await dispatchS3(r)
    } catch (err) {
      // A refused upload's body is not read: a small one is drained so the connection can serve the
      // next request; past 1 MiB the connection closes after the error instead (as S3 does).
      const unread = !req.complete && Number(req.headers['content-length'] ?? (req.headers['transfer-encoding'] ? Infinity : 0)) > 1024 * 1024
      if (unread && !res.headersSent) res.setHeader('Connection', 'close')
      sendS3Error(res, s3ErrorOf(err), requestId, req.method)
      if (!unread) req.resume()
    }
  }

  /** `/ui/...`: the app's files (no credentials needed: they hold no data); `?token=` spends a one-time login. */
  const serveUi = async (req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
      return void res.end('the web UI is read with GET')
    }
    if (rawPath === '/ui') {
      res.writeHead(308, { Location: '/ui/' })
      return void res.end()
    }
    const t = query.get('token')
    if (t !== null) {
      // The token leaves the address bar at once (a redirect), so it is not kept in history or shared by copy.
      const accessKey = sessions.redeem(t)
      const session = accessKey !== undefined && keys.has(accessKey) ? sessions.create(accessKey) : undefined
      res.writeHead(303, { Location: rawPath, 'Cache-Control': 'no-store', ...(session ? { 'Set-Cookie': sessionCookie(session, !!cfg.tls) } : {}) })
      return void res.end()
    }
    await ui.serve(req, res, rawPath.slice(4))
  }

  const { host, port } = parseListen(cfg.listen)
  const server = cfg.tls
    ? https.createServer({ cert: await fs.readFile(cfg.tls.cert), key: await fs.readFile(cfg.tls.key) }, (req, res) => void handle(req, res))
    : http.createServer((req, res) => void handle(req, res))
  server.requestTimeout = 0 // a 5 GiB upload on a slow link must not be cut, as long as bytes keep coming
  server.headersTimeout = cfg.headersTimeoutSeconds * 1000
  server.keepAliveTimeout = Math.min(5000, cfg.idleTimeoutSeconds * 1000)
  // No bytes either way for this long: an idle connection, a stalled upload or a silent client is closed.
  server.setTimeout(cfg.idleTimeoutSeconds * 1000, (socket) => socket.destroy())
  // One client address holds at most so many connections: one host cannot take every file handle.
  const perClient = new Map<string, number>()
  server.on('connection', (socket) => {
    const who = socket.remoteAddress ?? ''
    const n = (perClient.get(who) ?? 0) + 1
    if (n > cfg.maxConnectionsPerClient) return void socket.destroy()
    perClient.set(who, n)
    socket.once('close', () => {
      const left = (perClient.get(who) ?? 1) - 1
      if (left > 0) perClient.set(who, left)
      else perClient.delete(who)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const actual = (server.address() as { port: number }).port
  const shownHost = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  const url = `${cfg.tls ? 'https' : 'http'}://${shownHost}:${actual}`
  publicUrl ||= url
  return {
    url,
    port: actual,
    oneTimeLoginUrl: (accessKey) => `${url}/ui/?token=${sessions.oneTimeToken(accessKey)}`,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
        })
        clearInterval(expiry)
        await expiring
        // uploads not completed stay as part files; their assemblies stop (Complete after a restart writes from the files)
        for (const a of uploads.values()) a.cancel()
        await Promise.all([...uploads.values()].map((a) => a.done.catch(() => {})))
        await repos.close()
      })()),
  }
}

/** Bucket and key: virtual-host style (`lake.host:port/key`) when the host starts with a served name, else path style. */
function target(req: IncomingMessage, rawPath: string, repos: Repositories): { bucket: string | undefined; key: string | undefined; virtualHost?: boolean } {
  const host = String(req.headers.host ?? '').replace(/:\d+$/, '')
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s)
    } catch {
      throw invalidArgument('the path is not URL-encoded correctly')
    }
  }
  const dot = host.indexOf('.')
  if (dot > 0 && !/^[\d.]+$/.test(host) && repos.has(host.slice(0, dot))) {
    const key = decode(rawPath.slice(1))
    return { bucket: host.slice(0, dot), key: key || undefined, virtualHost: true }
  }
  const rest = rawPath.slice(1)
  if (!rest) return { bucket: undefined, key: undefined }
  const slash = rest.indexOf('/')
  if (slash < 0) return { bucket: decode(rest), key: undefined }
  const key = decode(rest.slice(slash + 1))
  return { bucket: decode(rest.slice(0, slash)), key: key || undefined }
}

/** The API takes the same keys as SigV4 or as HTTP Basic (access key : secret key). */
async function apiPrincipal(
  req: IncomingMessage,
  rawPath: string,
  query: URLSearchParams,
  keys: ReadonlyMap<string, AccessKey>,
  anonymous: Principal,
  region: string,
  sessions: UiSessions,
): Promise<{ who: Principal; signedBody?: string }> {
  const auth = req.headers.authorization
  if (typeof auth === 'string' && /^Basic /i.test(auth)) {
    const text = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8')
    const colon = text.indexOf(':')
    const key = colon > 0 ? keys.get(text.slice(0, colon)) : undefined
    const secret = Buffer.from(colon > 0 ? text.slice(colon + 1) : '')
    if (!key || secret.length !== Buffer.byteLength(key.secretKey) || !timingSafeEqual(secret, Buffer.from(key.secretKey)))
      throw accessDenied('unknown access key or wrong secret')
    return { who: principalOf(key) }
  }
  if (isSigned(req, query)) {
    const v = await verifyRequest(req, rawPath, query, keys, Date.now(), region)
    // a signed body hash binds the body too: the API checks it when it reads the body
    return { who: principalOf(v.key), ...(/^[0-9a-f]{64}$/.test(v.payload) ? { signedBody: v.payload } : {}) }
  }
  const session = sessions.of(req)
  if (session) return { who: sessionPrincipal(req, session, keys) }
  return { who: anonymous }
}

/**
 * A web UI session's key. A cookie is sent by the browser on its own, so a request that changes
 * anything must also carry the session's CSRF token and come from this origin (decision 0018).
 */
function sessionPrincipal(req: IncomingMessage, session: UiSession, keys: ReadonlyMap<string, AccessKey>): Principal {
  const key = keys.get(session.accessKey)
  if (!key) throw accessDenied("the session's access key is no longer configured: log in again")
  if (!sameOrigin(req)) throw accessDenied("a request with the session cookie must come from this server's own pages")
  if (req.method !== 'GET' && req.method !== 'HEAD' && !hasCsrfToken(req, session))
    throw accessDenied("the request lacks the session's CSRF token (x-varve-csrf)")
  return principalOf(key)
}

/**
 * The Basic challenge a 401 carries, except for a script's request in a browser (the web UI's
 * fetch): there the browser would stop everything for its own password box instead of letting the
 * app show its login page.
 */
function basicChallenge(req: IncomingMessage): Record<string, string> {
  const mode = req.headers['sec-fetch-mode']
  return mode !== undefined && mode !== 'navigate' ? {} : { 'WWW-Authenticate': 'Basic realm="varve"' }
}
