import http from 'node:http'
import type { AddressInfo } from 'node:net'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Repository } from '@varve/core'
import { startServer, validateServeConfig } from '@varve/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers/processes.js'
import { varve } from './helpers/varve-cli.js'

// Issue 22: a webhook check runs wherever a merge happens: in the CLI (a spawned process) and in
// `varve serve`, whose payload links the paged diff on its own JSON API.

let receiver: http.Server
let hookUrl = ''
let answer = 204
const payloads: Record<string, unknown>[] = []

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      payloads.push(JSON.parse(body) as Record<string, unknown>)
      res.writeHead(answer, { 'Content-Type': 'application/json' }).end(answer < 300 ? '' : JSON.stringify({ message: 'refused by the data desk' }))
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/gate`
})
afterAll(async () => new Promise((resolve) => receiver.close(resolve)))

async function lakeWithGate(dir: string): Promise<string> {
  const location = path.join(dir, 'lake')
  const repo = await Repository.init(location, { author: 'platform' })
  await repo.put(
    'main',
    '_varve/hooks/gate.yaml',
    `id: desk\non: [pre-merge]\nbranches: [main]\nchecks:\n  - { type: webhook, url: "${hookUrl}", secretEnv: DESK_SECRET }\n`,
  )
  await repo.commit('main', { message: 'gate' })
  await repo.createBranch('exp')
  for (let i = 0; i < 3; i++) await repo.put('exp', `data/${i}.csv`, `${i}\n`)
  await repo.commit('exp', { message: 'three files' })
  await repo.close()
  return location
}

describe('webhook checks in every client (issue 22)', () => {
  it('the CLI calls it: a refusal exits 4 with the receiver message; an allow list from the environment refuses other hosts', async () => {
    const t = await tempDir('webhook-cli')
    try {
      const location = await lakeWithGate(t.dir)
      const env = { DESK_SECRET: 's3cret' }
      payloads.length = 0
      answer = 403
      const refused = await varve(['--repo', location, 'merge', 'exp', 'main'], { cwd: t.dir, env })
      expect(refused.code).toBe(4)
      expect(refused.stderr).toContain('answered 403: refused by the data desk')
      expect(payloads).toHaveLength(1)
      const limited = await varve(['--repo', location, 'merge', 'exp', 'main'], { cwd: t.dir, env: { ...env, VARVE_WEBHOOK_ALLOW_HOSTS: 'ci.example.com' } })
      expect(limited.code).toBe(4)
      expect(limited.stderr).toContain('not in the allowed webhook hosts')
      expect(payloads).toHaveLength(1)
      answer = 204
      const merged = await varve(['--repo', location, 'merge', 'exp', 'main'], { cwd: t.dir, env })
      expect(merged.code, merged.stderr).toBe(0)
      expect(payloads).toHaveLength(2)
      expect(payloads[1]).toMatchObject({ event: 'pre-merge', branch: 'main', source: 'exp', changes: { added: 3 } })
    } finally {
      await t.cleanup()
    }
  })

  it('varve serve calls it, and the payload links the diff, which pages', async () => {
    const t = await tempDir('webhook-serve')
    const location = await lakeWithGate(t.dir)
    await fs.mkdir(path.join(t.dir, 'uploads'))
    const key = { accessKey: 'etl', secretKey: 'etl-secret' }
    const server = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        repositories: [{ name: 'lake', location }],
        uploadDir: path.join(t.dir, 'uploads'),
        keys: [{ ...key, grants: [{ actions: ['read', 'write', 'commit'] }] }],
        webhookAllowHosts: [new URL(hookUrl).host],
      }),
      { repositoryOptions: { webhooks: { env: { DESK_SECRET: 's3cret' } } } },
    )
    const auth = { Authorization: `Basic ${Buffer.from(`${key.accessKey}:${key.secretKey}`).toString('base64')}` }
    try {
      payloads.length = 0
      answer = 204
      const res = await fetch(`${server.url}/api/v1/repositories/lake/merges`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ source: 'exp', dest: 'main' }),
      })
      expect(res.status, await res.clone().text()).toBe(200)
      expect(payloads).toHaveLength(1)
      const p = payloads[0] as { repository: string; changes: { url: string } }
      expect(p.repository).toBe('lake')
      expect(p.changes.url.startsWith(`${server.url}/api/v1/repositories/lake/diff?`)).toBe(true)
      const pages: string[] = []
      let url = `${p.changes.url}&limit=2`
      for (;;) {
        const page = (await (await fetch(url, { headers: auth })).json()) as { changes: { path: string }[]; truncated: boolean; next?: string }
        pages.push(page.changes.map((c) => c.path).join(','))
        if (!page.truncated) break
        url = `${p.changes.url}&limit=2&after=${encodeURIComponent(page.next!)}`
      }
      expect(pages).toEqual(['data/0.csv,data/1.csv', 'data/2.csv'])
    } finally {
      await server.close()
      await t.cleanup()
    }
  })
})
