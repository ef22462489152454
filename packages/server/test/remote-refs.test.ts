import path from 'node:path'
import { Repository } from '@varve/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateServeConfig } from '../src/config.js'
import { startServer, type RunningServer } from '../src/server.js'
import { tempDir } from '../../core/test/helpers.js'

// Issue 27: remote-tracking refs (`origin/main`) are revisions everywhere one is taken, the gateway's
// routes included, and each is granted by its own name: a key limited to `main` reads none of them.

describe('varve serve: remote-tracking refs as revisions, under grants', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let server: RunningServer
  const call = async (p: string, who: string) => {
    const res = await fetch(`${server.url}/api/v1/repositories/lake${p}`, {
      headers: { Authorization: `Basic ${Buffer.from(`${who}:${who}-secret`).toString('base64')}` },
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  beforeAll(async () => {
    t = await tempDir('remote-refs')
    const upstream = await Repository.init(path.join(t.dir, 'upstream'), { author: 'up' })
    await upstream.put('main', 'up/only.txt', 'from upstream')
    await upstream.commit('main', { message: 'upstream' })
    await upstream.close()
    const lake = await Repository.init(path.join(t.dir, 'lake'), { author: 'setup' })
    await lake.put('main', 'local.txt', 'local')
    await lake.commit('main', { message: 'local' })
    await lake.addRemote('origin', path.join(t.dir, 'upstream'))
    await lake.fetch()
    await lake.close()
    server = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        repositories: [{ name: 'lake', location: path.join(t.dir, 'lake') }],
        keys: [
          { accessKey: 'admin', secretKey: 'admin-secret', grants: [{ actions: ['read', 'write', 'commit', 'admin'] }] },
          { accessKey: 'mainonly', secretKey: 'mainonly-secret', grants: [{ repositories: ['lake'], branches: ['main'], actions: ['read'] }] },
          { accessKey: 'mirror', secretKey: 'mirror-secret', grants: [{ repositories: ['lake'], branches: ['origin/*'], actions: ['read'] }] },
        ],
      }),
    )
  })
  afterAll(async () => {
    await server?.close()
    await t?.cleanup()
  })

  it('reads origin/main through the listing, content, diff and log routes with a key granted it', async () => {
    const listed = await call('/objects?ref=origin/main&prefix=up/', 'mirror')
    expect(listed.status).toBe(200)
    expect(JSON.stringify(listed.body)).toContain('up/only.txt')
    const res = await fetch(`${server.url}/api/v1/repositories/lake/objects/content?ref=origin/main&path=up/only.txt`, {
      headers: { Authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` },
    })
    expect(await res.text()).toBe('from upstream')
    expect((await call('/diff?left=main&right=origin/main', 'admin')).status).toBe(200)
    expect((await call('/log?ref=origin/main', 'mirror')).status).toBe(200)
  })

  it('refuses a key limited to main on every route that names origin/main', async () => {
    for (const p of [
      '/objects?ref=origin/main',
      '/objects/content?ref=origin/main&path=up/only.txt',
      '/diff?left=main&right=origin/main',
      '/log?ref=origin/main',
    ])
      expect((await call(p, 'mainonly')).status, p).toBe(403)
    expect((await call('/objects?ref=main', 'mainonly')).status).toBe(200)
  })
})
