import { createHmac } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Repository, type VarveError, type HookFailure } from '@varve/core'
import { trainPartition } from '@varve/core/testing'
import { tempDir } from './helpers.js'

// Issue 22: `type: webhook` checks, against a real HTTP server on 127.0.0.1 that behaves as
// receivers do in the wild: passes, refuses, hangs, redirects, answers huge bodies, is not there.

interface Received {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

const SECRET = 'webhook-secret-for-tests'
let server: http.Server
let base = ''
let received: Received[] = []
const sockets = new Set<import('node:net').Socket>()

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body })
      const route = req.url!.split('?')[0]
      if (route === '/ok') return res.writeHead(204).end()
      if (route === '/refuse')
        return res.writeHead(422, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: 'ticket DATA-42 is not approved' }))
      if (route === '/error') return res.writeHead(500).end('internal trouble\nat line 2')
      if (route === '/hang') return // never answers (the socket is closed in afterAll)
      if (route === '/redirect') return res.writeHead(302, { Location: `${base}/ok` }).end()
      if (route === '/huge-ok' || route === '/huge-error') {
        res.writeHead(route === '/huge-ok' ? 200 : 503, { 'Content-Type': 'text/plain' })
        const chunk = Buffer.alloc(1024 * 1024, 'x')
        let sent = 0
        // up to 2 GiB, as fast as the client takes it; stops when the client goes
        const pump = () => {
          while (sent < 2048 && res.write(chunk)) sent++
          if (sent >= 2048) res.end()
          else res.once('drain', pump)
        }
        res.on('close', () => (sent = 2048))
        return pump()
      }
      res.writeHead(404).end()
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  for (const s of sockets) s.destroy()
  await new Promise((resolve) => server.close(resolve))
})

let t: Awaited<ReturnType<typeof tempDir>>
let repo: Repository
beforeEach(async () => {
  received = []
  t = await tempDir('webhook')
  repo = await Repository.init(path.join(t.dir, 'lake'), {
    author: 'platform',
    durable: false,
    webhooks: { env: { HOOK_SECRET: SECRET, HOOK_TOKEN: 'Bearer t0ken' } },
  })
})
afterEach(async () => {
  await repo.close()
  await t.cleanup()
})

const contract = (check: string) => `id: gate-hook\non: [pre-merge]\nbranches: [main]\nchecks:\n  - ${check}\n`

/** main carries the contract; `exp` holds a change; returns the failure of merging it, or undefined. */
async function mergeThrough(check: string, reopen?: Parameters<typeof Repository.open>[1]): Promise<VarveError | undefined> {
  await repo.put('main', '_varve/hooks/gate.yaml', contract(check))
  await repo.commit('main', { message: 'the gate' })
  await repo.createBranch('exp')
  await repo.put('exp', 'train/day=1/part-0.parquet', trainPartition(10))
  await repo.put('exp', 'train/day=1/_SUCCESS', '')
  await repo.commit('exp', { message: 'day 1' })
  let r = repo
  if (reopen) {
    await repo.close()
    r = repo = await Repository.open(path.join(t.dir, 'lake'), reopen)
  }
  const head = await r.resolve('main')
  const err = await r.merge('exp', 'main').then(
    () => undefined,
    (e: unknown) => e as VarveError,
  )
  if (err) expect(await r.resolve('main')).toBe(head) // a refusal moves nothing
  return err
}
const reasons = (e: VarveError) => (e.details.failures as HookFailure[]).map((f) => f.reason).join('\n')

describe('webhook checks (issue 22)', () => {
  it('a 2xx passes; the receiver gets the signed payload: event, repository, branch, source, heads, changed paths', async () => {
    const err = await mergeThrough(
      `{ type: webhook, url: "${base}/ok", secretEnv: HOOK_SECRET, headers: { X-Team: data }, headersFromEnv: { Authorization: HOOK_TOKEN } }`,
    )
    expect(err).toBeUndefined()
    expect(received).toHaveLength(1)
    const r = received[0]!
    expect(r.method).toBe('POST')
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.headers['x-varve-event']).toBe('pre-merge')
    expect(r.headers['x-team']).toBe('data')
    expect(r.headers.authorization).toBe('Bearer t0ken')
    // The receiver verifies the body with the shared secret, as GitHub's X-Hub-Signature-256.
    expect(r.headers['x-varve-signature-256']).toBe(`sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`)
    const p = JSON.parse(r.body)
    const log = []
    for await (const c of repo.log('main', { limit: 2 })) log.push(c)
    expect(p).toMatchObject({
      event: 'pre-merge',
      repository: path.join(t.dir, 'lake'),
      branch: 'main',
      source: 'exp',
      heads: { base: log[0]!.parents[0], candidate: log[0]!.id },
      changes: {
        added: 2,
        removed: 0,
        changed: 0,
        truncated: false,
        paths: [
          { path: 'train/day=1/_SUCCESS', type: 'added', size: 0 },
          { path: 'train/day=1/part-0.parquet', type: 'added' },
        ],
      },
    })
    expect(p.dryRun).toBe(false)
    expect(log[0]!.parents).toHaveLength(2) // and the merge happened
    // a look at a merge (a dry run, as mr show and hooks check make) says so
    await repo.put('exp', 'train/day=2/part-0.parquet', trainPartition(5))
    await repo.commit('exp', { message: 'day 2' })
    await repo.merge('exp', 'main', { dryRun: true })
    expect(JSON.parse(received.at(-1)!.body).dryRun).toBe(true)
  })

  it("anything but a 2xx fails with the receiver's message; nothing moves", async () => {
    const err = await mergeThrough(`{ type: webhook, url: "${base}/refuse" }`)
    expect(err?.code).toBe('HOOK_FAILED')
    expect(reasons(err!)).toContain('answered 422: ticket DATA-42 is not approved')
    // a 500 with a plain-text body: its text, on one line
    await repo.put('main', '_varve/hooks/gate.yaml', contract(`{ type: webhook, url: "${base}/error" }`))
    await repo.commit('main', { message: 'the 500 gate' })
    const e500 = await repo.merge('exp', 'main').then(
      () => undefined,
      (e: unknown) => e as VarveError,
    )
    expect(reasons(e500!)).toContain('answered 500: internal trouble at line 2')
  })

  it('a receiver that hangs fails at the timeout', async () => {
    const t0 = performance.now()
    const err = await mergeThrough(`{ type: webhook, url: "${base}/hang", timeoutMs: 300 }`)
    expect(reasons(err!)).toContain('no answer within 300 ms')
    expect(performance.now() - t0).toBeLessThan(30_000) // bounded (generous: a busy machine)
  })

  it('a redirect is not followed: it fails, and its target is never called', async () => {
    const err = await mergeThrough(`{ type: webhook, url: "${base}/redirect" }`)
    expect(reasons(err!)).toMatch(/answered 302 \(a redirect to .*\/ok\); redirects are not followed/)
    expect(received.map((r) => r.url)).toEqual(['/redirect'])
  })

  it('huge answers are not downloaded: a 2xx passes at once, an error keeps its first 500 characters', async () => {
    expect(await mergeThrough(`{ type: webhook, url: "${base}/huge-ok", timeoutMs: 60000 }`)).toBeUndefined()
    await repo.reset('main', 'main~1')
    await repo.put('main', '_varve/hooks/gate.yaml', contract(`{ type: webhook, url: "${base}/huge-error", timeoutMs: 60000 }`))
    await repo.commit('main', { message: 'the other gate' })
    const err = await repo.merge('exp', 'main').then(
      () => undefined,
      (e: unknown) => e as VarveError,
    )
    expect(reasons(err!)).toMatch(/answered 503: x{500}\.\.\./)
  })

  it('an unreachable receiver fails, naming why', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const err = await mergeThrough(`{ type: webhook, url: "http://127.0.0.1:${port}/gate" }`)
    expect(reasons(err!)).toContain('unreachable (ECONNREFUSED)')
  })

  it('an allow list refuses other hosts without sending anything; a missing secret sends nothing', async () => {
    const err = await mergeThrough(`{ type: webhook, url: "${base}/ok" }`, { webhooks: { allowHosts: ['ci.example.com', '*.internal.example.com'] } })
    expect(reasons(err!)).toContain('is not in the allowed webhook hosts (ci.example.com, *.internal.example.com); nothing was sent')
    // with no allow list, link-local addresses (cloud metadata services) are still refused
    const { hostAllowed } = await import('../src/hooks/contracts/checks/webhook.js')
    expect(hostAllowed(new URL('http://169.254.169.254/latest/meta-data/'), undefined)).toBe(false)
    expect(hostAllowed(new URL('http://[fe80::1]/x'), undefined)).toBe(false)
    expect(hostAllowed(new URL('http://127.0.0.1:9/x'), undefined)).toBe(true)
    expect(hostAllowed(new URL('http://169.254.169.254/x'), ['169.254.169.254'])).toBe(true)
    expect(received).toHaveLength(0)
    await repo.close()
    repo = await Repository.open(path.join(t.dir, 'lake'), { webhooks: { allowHosts: [new URL(base).host], env: {} } })
    await repo.put('main', '_varve/hooks/gate.yaml', contract(`{ type: webhook, url: "${base}/ok", secretEnv: HOOK_SECRET }`))
    await repo.commit('main', { message: 'signed gate' })
    const unsigned = await repo.merge('exp', 'main').then(
      () => undefined,
      (e: unknown) => e as VarveError,
    )
    expect(unsigned?.code, String(unsigned)).toBe('HOOK_FAILED')
    expect(reasons(unsigned!)).toContain('environment variable HOOK_SECRET (the signing secret) is not set; nothing was sent')
    expect(received).toHaveLength(0)
  })

  it('hostile rules are INVALID_CONFIG at their line: other schemes, credentials in the URL, reserved headers, header injection', async () => {
    await repo.createBranch('exp')
    for (const [check, message] of [
      ['{ type: webhook, url: "file:///etc/passwd" }', /url must be http or https/],
      ['{ type: webhook, url: "not a url" }', /is not a URL/],
      ['{ type: webhook, url: "http://user:pw@127.0.0.1/x" }', /must not carry credentials/],
      [`{ type: webhook, url: "${base}/ok", method: DELETE }`, /method must be POST or PUT/],
      [`{ type: webhook, url: "${base}/ok", headers: { X-Varve-Signature-256: forged } }`, /headers\.X-Varve-Signature-256/],
      [`{ type: webhook, url: "${base}/ok", headers: { X-A: "a\\r\\nX-B: b" } }`, /one line/],
      [`{ type: webhook, url: "${base}/ok", secretEnv: "A B" }`, /not an environment variable name/],
    ] as const) {
      await repo.put('exp', '_varve/hooks/bad.yaml', contract(check))
      const err = await repo.commit('exp', { message: 'bad rules' }).then(
        () => undefined,
        (e: unknown) => e as VarveError,
      )
      // the commit itself is not gated on exp; the rules are validated when they would land on main
      if (!err) {
        const m = await repo.merge('exp', 'main').then(
          () => undefined,
          (e: unknown) => e as VarveError,
        )
        expect(m?.code, check).toBe('INVALID_CONFIG')
        expect(m!.message, check).toMatch(message)
        expect(m!.message).toMatch(/_varve\/hooks\/bad\.yaml:5:/)
        await repo.reset('exp', 'exp~1')
      }
    }
    expect(received).toHaveLength(0)
  })
})
