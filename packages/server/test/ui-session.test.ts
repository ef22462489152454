import http from 'node:http'
import path from 'node:path'
import { Repository } from '@varve/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateServeConfig } from '../src/config.js'
import { startServer, type RunningServer } from '../src/server.js'
import { tempDir } from '../../core/test/helpers.js'

// Issue 26: the web UI's login (session cookie, CSRF token, one-time tokens), its static files and
// their headers, and the object routes a browser reads through — with real HTTP against a real
// repository folder. The browser itself drives them in test/web-ui.test.ts.

describe('varve serve: web UI sessions, CSRF and the object routes (issue 26)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let server: RunningServer
  const raw = (method: string, p: string, headers: Record<string, string> = {}, body?: string) =>
    new Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, path: p, method, headers }, (res) => {
        const parts: Buffer[] = []
        res.on('data', (d: Buffer) => parts.push(d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headers: res.headers }))
      })
      req.on('error', reject)
      req.end(body)
    })
  const json = (r: { body: Buffer }) => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>
  const login = async (accessKey: string, secretKey: string, headers: Record<string, string> = {}) => {
    const r = await raw('POST', '/api/v1/session', { 'Content-Type': 'application/json', ...headers }, JSON.stringify({ accessKey, secretKey }))
    const cookie = String(r.headers['set-cookie']?.[0] ?? '').split(';')[0]!
    return { r, cookie, csrf: r.status === 200 ? String(json(r).csrfToken) : '' }
  }

  beforeAll(async () => {
    t = await tempDir('ui-session')
    const repo = await Repository.init(path.join(t.dir, 'lake'), { author: 'setup' })
    for (let i = 0; i < 25; i++) await repo.put('main', `data/part-${String(i).padStart(3, '0')}.csv`, `id\n${i}\n`)
    await repo.put('main', 'docs/page.html', '<script>alert(1)</script>')
    await repo.put('main', 'big.bin', Buffer.alloc(3 * 1024 * 1024, 7))
    await repo.commit('main', { message: 'first' })
    await repo.createBranch('secret')
    await repo.put('secret', 'hidden.txt', 'not for readers')
    await repo.commit('secret', { message: 'hidden' })
    await repo.close()
    server = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        repositories: [{ name: 'lake', location: path.join(t.dir, 'lake') }],
        keys: [
          { accessKey: 'admin', secretKey: 'admin-secret', grants: [{ actions: ['read', 'write', 'commit', 'admin'] }] },
          { accessKey: 'reader', secretKey: 'reader-secret', grants: [{ repositories: ['lake'], branches: ['main'], actions: ['read'] }] },
        ],
      }),
    )
  })
  afterAll(async () => {
    await server?.close()
    await t?.cleanup()
  })

  it('logs in with a key and secret: an HttpOnly, SameSite=Strict cookie that expires; a wrong secret gets none', async () => {
    const { r, cookie } = await login('admin', 'admin-secret')
    expect(r.status).toBe(200)
    const set = String(r.headers['set-cookie']?.[0])
    expect(set).toMatch(/^varve_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43(200|199)$/)
    expect(json(r)).toMatchObject({ accessKey: 'admin', csrfToken: expect.stringMatching(/^[\w-]{43}$/) })
    expect(JSON.stringify(json(r))).not.toContain('admin-secret')
    const me = await raw('GET', '/api/v1/session', { Cookie: cookie })
    expect(json(me)).toMatchObject({ accessKey: 'admin' })
    for (const [k, s] of [
      ['admin', 'wrong'],
      ['nobody', 'admin-secret'],
      ['admin', ''],
    ] as const) {
      const bad = await login(k, s)
      expect(bad.r.status).toBe(401)
      expect(bad.r.headers['set-cookie']).toBeUndefined()
    }
    // A login is JSON from this origin: a form post from elsewhere, or another Origin, is refused.
    const form = await raw('POST', '/api/v1/session', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'accessKey=admin&secretKey=admin-secret')
    expect(form.status).toBe(403)
    expect((await login('admin', 'admin-secret', { Origin: 'http://evil.example' })).r.status).toBe(403)
    expect((await raw('POST', '/api/v1/session', { 'Content-Type': 'application/json' }, 'x'.repeat(10_000))).status).toBe(413)
    expect((await raw('POST', '/api/v1/session', { 'Content-Type': 'application/json' }, '{not json')).status).toBe(400)
  })

  it('a cookie reads; a change needs the CSRF token and this origin; logout ends the session', async () => {
    const { cookie, csrf } = await login('admin', 'admin-secret')
    expect((await raw('GET', '/api/v1/repositories', { Cookie: cookie })).status).toBe(200)
    const create = (headers: Record<string, string>) =>
      raw(
        'POST',
        '/api/v1/repositories/lake/branches',
        { Cookie: cookie, 'Content-Type': 'application/json', ...headers },
        JSON.stringify({ name: `b-${Math.random()}` }),
      )
    expect((await create({})).status).toBe(401)
    expect((await create({ 'X-Varve-CSRF': 'x'.repeat(43) })).status).toBe(401)
    expect((await create({ 'X-Varve-CSRF': csrf, Origin: 'http://evil.example' })).status).toBe(401)
    expect((await create({ 'X-Varve-CSRF': csrf, Origin: `http://127.0.0.1:${server.port}` })).status).toBe(201)
    // Another session's token is not this one's.
    const other = await login('admin', 'admin-secret')
    expect((await create({ 'X-Varve-CSRF': other.csrf })).status).toBe(401)
    // Logging out needs the token too (no logout CSRF), then the cookie is dead.
    expect((await raw('DELETE', '/api/v1/session', { Cookie: cookie })).status).toBe(403)
    const out = await raw('DELETE', '/api/v1/session', { Cookie: cookie, 'X-Varve-CSRF': csrf })
    expect(out.status).toBe(200)
    expect(String(out.headers['set-cookie']?.[0])).toContain('Max-Age=0')
    expect((await raw('GET', '/api/v1/session', { Cookie: cookie })).status).toBe(401)
    expect((await raw('GET', '/api/v1/repositories', { Cookie: cookie })).status).toBe(401)
    expect((await raw('GET', '/api/v1/repositories', { Cookie: 'varve_session=forged' })).status).toBe(401)
  })

  it("a session has its key's grants: a branch-limited reader reads main and nothing else, on every object route", async () => {
    const { cookie, csrf } = await login('reader', 'reader-secret')
    const get = (p: string) => raw('GET', p, { Cookie: cookie })
    expect((await get('/api/v1/repositories/lake/objects?ref=main&prefix=data/&limit=5')).status).toBe(200)
    for (const p of [
      '/api/v1/repositories/lake/objects?ref=secret',
      '/api/v1/repositories/lake/objects/stat?ref=secret&path=hidden.txt',
      '/api/v1/repositories/lake/objects/content?ref=secret&path=hidden.txt',
      '/api/v1/repositories/lake/log?ref=secret',
    ])
      expect((await get(p)).status, p).toBe(403)
    const write = await raw(
      'POST',
      '/api/v1/repositories/lake/branches',
      { Cookie: cookie, 'Content-Type': 'application/json', 'X-Varve-CSRF': csrf },
      JSON.stringify({ name: 'mine' }),
    )
    expect(write.status).toBe(403)
  })

  it('lists a folder a page at a time (folders and objects), with next; stat shows the entry', async () => {
    const { cookie } = await login('admin', 'admin-secret')
    const get = async (p: string) => json(await raw('GET', p, { Cookie: cookie }))
    const top = await get('/api/v1/repositories/lake/objects?ref=main&delimiter=/')
    expect(top.prefixes).toEqual(['data/', 'docs/'])
    expect((top.objects as { path: string }[]).map((o) => o.path)).toEqual(['big.bin'])
    const seen: string[] = []
    let after: string | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await get(
        `/api/v1/repositories/lake/objects?ref=main&prefix=data/&delimiter=/&limit=10${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      )
      seen.push(...(page.objects as { path: string }[]).map((o) => o.path))
      if (!page.truncated) break
      after = page.next as string
    }
    expect(seen).toHaveLength(25)
    expect(new Set(seen).size).toBe(25)
    // A page that ends on a folder goes on after everything in it: each folder is listed once.
    const items: string[] = []
    after = undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await get(`/api/v1/repositories/lake/objects?ref=main&delimiter=/&limit=1${after ? `&after=${encodeURIComponent(after)}` : ''}`)
      items.push(...(page.prefixes as string[]), ...(page.objects as { path: string }[]).map((o) => o.path))
      if (!page.truncated) break
      after = page.next as string
    }
    expect(items).toEqual(['big.bin', 'data/', 'docs/'])
    const stat = await get('/api/v1/repositories/lake/objects/stat?ref=main&path=data/part-001.csv')
    expect(stat).toMatchObject({ path: 'data/part-001.csv', size: 5, address: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect((await raw('GET', '/api/v1/repositories/lake/objects?ref=main&delimiter=x', { Cookie: cookie })).status).toBe(400)
    expect((await raw('GET', '/api/v1/repositories/lake/objects/stat?ref=main&path=nope', { Cookie: cookie })).status).toBe(404)
  })

  it('serves bytes as an inert attachment, whole or by range; HTML is never a page of this origin', async () => {
    const { cookie } = await login('admin', 'admin-secret')
    const html = await raw('GET', '/api/v1/repositories/lake/objects/content?ref=main&path=docs/page.html', { Cookie: cookie })
    expect(html.status).toBe(200)
    expect(html.body.toString()).toBe('<script>alert(1)</script>')
    expect(html.headers['content-type']).toBe('application/octet-stream')
    expect(html.headers['content-disposition']).toMatch(/^attachment; filename="page.html"/)
    expect(html.headers['x-content-type-options']).toBe('nosniff')
    expect(html.headers['content-security-policy']).toContain('sandbox')
    const range = await raw('GET', '/api/v1/repositories/lake/objects/content?ref=main&path=big.bin', { Cookie: cookie, Range: 'bytes=1048570-1048579' })
    expect(range.status).toBe(206)
    expect(range.headers['content-range']).toBe(`bytes 1048570-1048579/${3 * 1024 * 1024}`)
    expect(range.body).toEqual(Buffer.alloc(10, 7))
    const whole = await raw('GET', '/api/v1/repositories/lake/objects/content?ref=main&path=big.bin', { Cookie: cookie })
    expect(whole.body.length).toBe(3 * 1024 * 1024)
    const beyond = await raw('GET', '/api/v1/repositories/lake/objects/content?ref=main&path=big.bin', { Cookie: cookie, Range: `bytes=${5 * 1024 * 1024}-` })
    expect(beyond.status).toBe(416)
  })

  it('serves the app at /ui/ without credentials, with a strict policy; its routes get index.html; nothing else is reachable', async () => {
    const index = await raw('GET', '/ui/')
    expect(index.status).toBe(200)
    expect(index.body.toString()).toContain('<div id="app">')
    expect(index.headers['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'")
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(index.headers['x-frame-options']).toBe('DENY')
    expect(index.headers['x-content-type-options']).toBe('nosniff')
    const app = await raw('GET', '/ui/app.js', { 'Accept-Encoding': 'gzip' })
    expect(app.headers['content-encoding']).toBe('gzip')
    expect(app.headers['content-type']).toMatch(/^text\/javascript/)
    expect((await raw('GET', '/ui/app.js', { 'If-None-Match': String(app.headers.etag) })).status).toBe(304)
    // An app route, and paths that try to leave the folder: each is index.html, never a file elsewhere.
    for (const p of ['/ui/r/lake/tree?ref=main', '/ui/../package.json', '/ui/%2e%2e/%2e%2e/package.json', '/ui/..%2fpackage.json'])
      expect((await raw('GET', p)).body.toString(), p).toContain('<div id="app">')
    expect((await raw('GET', '/ui')).status).toBe(308)
    expect((await raw('POST', '/ui/')).status).toBe(405)
    // The data is not: the API without a session or key answers 401.
    expect((await raw('GET', '/api/v1/repositories/lake/objects?ref=main')).status).toBe(401)
  })

  it('an address that keeps failing to log in must wait (429, Retry-After), even with the right secret', async () => {
    // (this test's own failures: a fresh server, so the others' do not count)
    const other = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        repositories: [{ name: 'lake', location: path.join(t.dir, 'lake') }],
        keys: [{ accessKey: 'admin', secretKey: 'admin-secret', grants: [{ actions: ['read'] }] }],
      }),
    )
    try {
      const attempt = (secretKey: string) =>
        fetch(`${other.url}/api/v1/session`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ accessKey: 'admin', secretKey }),
        })
      expect((await attempt('admin-secret')).status).toBe(200)
      for (let i = 0; i < 10; i++) expect((await attempt(`guess-${i}`)).status).toBe(401)
      const blocked = await attempt('admin-secret')
      expect(blocked.status).toBe(429)
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(500)
    } finally {
      await other.close()
    }
  })

  it('a one-time login URL logs in once, then leaves the address bar', async () => {
    const url = new URL(server.oneTimeLoginUrl('admin'))
    const first = await raw('GET', url.pathname + url.search)
    expect(first.status).toBe(303)
    expect(first.headers.location).toBe('/ui/')
    const cookie = String(first.headers['set-cookie']?.[0]).split(';')[0]!
    expect(json(await raw('GET', '/api/v1/session', { Cookie: cookie }))).toMatchObject({ accessKey: 'admin' })
    const again = await raw('GET', url.pathname + url.search)
    expect(again.status).toBe(303)
    expect(again.headers['set-cookie']).toBeUndefined()
    expect((await raw('GET', '/ui/?token=guessed')).headers['set-cookie']).toBeUndefined()
  })
})
