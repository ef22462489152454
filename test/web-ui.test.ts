import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Repository } from '@varve/core'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../packages/core/test/helpers.js'
import { spawnServe, type ServeProcess } from './helpers/serve.js'
import { VARVE_BIN } from './helpers/varve-cli.js'

// Issue 26: the web UI in a real browser — Debian's Chromium driven by playwright-core — against the
// built CLI's `varve serve` and `varve ui` over a real repository folder. Each page is also checked
// with axe-core (accessibility) and at a phone's width.

const CHROMIUM = process.env.VARVE_TEST_CHROMIUM ?? '/usr/bin/chromium'
const AXE = await fs.readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
// A 2×2 PNG (red), so the image preview has something real to decode.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64')

// Without Chromium (apt-get install chromium) the browser tests are skipped, except in CI, where .ci/run installs it.
describe.runIf(existsSync(CHROMIUM) || !!process.env.CI)('the web UI in Chromium (issue 26)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let serve: ServeProcess
  let browser: Browser

  /** Runs axe-core on the page as it is now; any violation fails with its rule and nodes. */
  const accessible = async (page: Page, where: string) => {
    // (evaluate is not subject to the page's CSP, which forbids inline scripts)
    await page.evaluate(AXE)
    const result = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run: (c: Document, o: unknown) => Promise<{ violations: { id: string; nodes: { html: string }[] }[] }> } })
        .axe
      const r = await axe.run(document, { resultTypes: ['violations'] })
      return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)
    })
    expect(result, `accessibility of ${where}`).toEqual([])
  }
  const login = async (page: Page, accessKey: string, secretKey: string) => {
    await page.goto(`${serve.url}/ui/`)
    await page.getByLabel('Access key').fill(accessKey)
    await page.getByLabel('Secret key').fill(secretKey)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Repositories' }).waitFor()
  }

  beforeAll(async () => {
    t = await tempDir('web-ui')
    const lake = path.join(t.dir, 'lake')
    const repo = await Repository.init(lake, { author: 'ana' })
    for (let i = 0; i < 130; i++) await repo.put('main', `data/part-${String(i).padStart(4, '0')}.csv`, `id,value\n${i},${i * 2}\n`)
    await repo.put('main', 'docs/readme.md', '# The lake\n\nTraining data.\n')
    await repo.put('main', 'docs/evil.html', '<img src=x onerror="document.title=\'pwned\'">')
    await repo.put('main', 'images/red.png', PNG)
    await repo.commit('main', { message: 'first load\n\n130 parts and the docs' })
    await repo.put('main', 'data/part-0000.csv', 'id,value\n0,1\n')
    await repo.commit('main', { message: 'fix part 0' })
    await repo.createBranch('exp')
    await repo.put('exp', 'data/new.csv', 'id,value\n9,9\n')
    await repo.delete('exp', 'docs/readme.md')
    await repo.createTag('v1', 'main')
    await repo.close()
    await fs.writeFile(
      path.join(t.dir, 'serve.yaml'),
      [
        'listen: 127.0.0.1:0',
        'repositories:',
        `  - { name: lake, location: ${JSON.stringify(lake)} }`,
        'keys:',
        '  - { accessKey: admin, secretKey: admin-secret-1, grants: [{ actions: [read, write, commit, approve, admin] }] }',
        '  - { accessKey: reader, secretKey: reader-secret-1, grants: [{ repositories: [lake], actions: [read] }] }',
      ].join('\n'),
    )
    serve = await spawnServe(['--config', path.join(t.dir, 'serve.yaml')], { cwd: t.dir })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  })
  afterAll(async () => {
    await browser?.close()
    await serve?.stop()
    await t?.cleanup()
  })

  it('logs in, browses a folder page by page, sees uncommitted changes, reads an object and its preview, and logs out', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${serve.url}/ui/`)
    await page.getByLabel('Access key').waitFor()
    await accessible(page, 'the login page')
    // A wrong secret says so and logs nobody in.
    await page.getByLabel('Access key').fill('admin')
    await page.getByLabel('Secret key').fill('wrong')
    await page.getByRole('button', { name: 'Log in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/wrong secret/)
    await login(page, 'admin', 'admin-secret-1')
    const cookie = (await context.cookies()).find((c) => c.name === 'varve_session')!
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
    await accessible(page, 'the repositories page')

    await page.getByRole('link', { name: 'lake' }).click()
    await page.getByRole('link', { name: 'data/' }).waitFor()
    expect(page.url()).toContain('ref=main')
    await accessible(page, 'the object browser')
    await page.getByRole('link', { name: 'data/' }).click()
    // 130 entries, 100 to a page: the second page has the rest.
    await page.getByRole('link', { name: 'part-0000.csv' }).waitFor()
    expect(await page.locator('table.listing tbody tr').count()).toBe(100)
    await page.getByRole('link', { name: 'Next page' }).click()
    await page.getByRole('link', { name: 'part-0129.csv' }).waitFor()
    expect(await page.locator('table.listing tbody tr').count()).toBe(30)
    await page.getByRole('link', { name: 'First page' }).click()
    await page.getByRole('link', { name: 'part-0000.csv' }).click()
    await page.getByText('Preview').waitFor()
    await expect.poll(() => page.locator('pre.text').textContent()).toBe('id,value\n0,1\n')
    await page.getByText(/^[0-9a-f]{64}$/).waitFor()
    await accessible(page, 'an object page')

    // The branch with uncommitted changes marks them: an added file, a folder holding changes, a removed file.
    await page.getByLabel('branch, tag or commit').fill('exp')
    await page.getByRole('button', { name: 'Go' }).click()
    await page.getByText('An empty file.').or(page.getByText('Preview')).waitFor()
    await page.goto(`${serve.url}/ui/r/lake/tree?ref=exp&path=data/`)
    await expect
      .poll(() =>
        page
          .locator('tr', { has: page.getByRole('link', { name: 'new.csv' }) })
          .locator('.badge')
          .textContent(),
      )
      .toBe('added')
    await page.goto(`${serve.url}/ui/r/lake/tree?ref=exp`)
    await expect
      .poll(() =>
        page
          .locator('tr', { has: page.getByRole('link', { name: 'docs/' }) })
          .locator('.badge')
          .textContent(),
      )
      .toBe('changed')
    await page.goto(`${serve.url}/ui/r/lake/tree?ref=exp&path=docs/`)
    await expect.poll(() => page.locator('.badge.removed').textContent()).toBe('readme.md')

    // HTML is shown as text, never rendered: its handler never runs.
    await page.goto(`${serve.url}/ui/r/lake/object?ref=main&path=docs/evil.html`)
    await expect.poll(() => page.locator('pre.text').textContent()).toContain('<img src=x onerror=')
    expect(await page.title()).toBe('Varve')
    expect(await page.locator('pre.text img').count()).toBe(0)
    // An image is shown from its bytes.
    await page.goto(`${serve.url}/ui/r/lake/object?ref=main&path=images/red.png`)
    const size = await page.locator('figure.preview img').evaluate(async (img: HTMLImageElement) => {
      await img.decode()
      return [img.naturalWidth, img.naturalHeight]
    })
    expect(size).toEqual([2, 2])
    // The download link gives the bytes as an attachment.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()])
    expect(download.suggestedFilename()).toBe('red.png')
    expect(await fs.readFile((await download.path())!)).toEqual(PNG)

    // History: the log, a commit page with its changes counted by folder, the parent link.
    await page.getByRole('link', { name: 'Commits' }).click()
    await page.getByText('fix part 0').waitFor()
    await accessible(page, 'the commit log')
    await page.locator('.log li', { hasText: 'fix part 0' }).getByRole('link').first().click()
    await page.getByRole('heading', { name: 'fix part 0' }).waitFor()
    await expect.poll(() => page.locator('.changes li').allTextContents()).toEqual(['changed data/part-0000.csv'])
    await expect.poll(() => page.locator('table.counts tbody tr').allTextContents()).toEqual(['data/1'])
    await accessible(page, 'a commit page')
    // A path's history.
    await page.goto(`${serve.url}/ui/r/lake/log?ref=main&path=docs/`)
    await expect.poll(() => page.locator('.log li').count()).toBe(1)

    // Branches: create one from a tag, then delete it.
    await page.goto(`${serve.url}/ui/r/lake/branches`)
    await page.getByLabel('New branch').fill('from-ui')
    await page.getByLabel('from').fill('v1')
    await page.getByRole('button', { name: 'Create branch' }).click()
    await page.getByRole('link', { name: 'from-ui' }).waitFor()
    await accessible(page, 'the branches page')
    page.once('dialog', (d) => void d.accept())
    await page
      .locator('tr', { has: page.getByRole('link', { name: 'from-ui' }) })
      .getByRole('button', { name: 'Delete' })
      .click()
    await expect.poll(() => page.getByRole('link', { name: 'from-ui' }).count()).toBe(0)

    // Logging out ends the session on the server too: the old cookie reads nothing.
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.getByLabel('Access key').waitFor()
    const replay = await fetch(`${serve.url}/api/v1/repositories`, { headers: { Cookie: `varve_session=${cookie.value}` } })
    expect(replay.status).toBe(401)
    expect(errors).toEqual([])
    await context.close()
  })

  it('a read-only key sees no write buttons, and a forged request from its session is refused', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await login(page, 'reader', 'reader-secret-1')
    await page.goto(`${serve.url}/ui/r/lake/branches`)
    await page.getByRole('link', { name: 'exp', exact: true }).waitFor()
    expect(await page.getByRole('button', { name: 'Create branch' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0)
    // The page's own session, its CSRF token and all: the server still refuses what the key may not do.
    const forged = await page.evaluate(async () => {
      const s = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string }
      const r = await fetch('/api/v1/repositories/lake/branches/exp', { method: 'DELETE', headers: { 'X-Varve-CSRF': s.csrfToken } })
      return [r.status, ((await r.json()) as { error: { code: string } }).error.code]
    })
    expect(forged).toEqual([403, 'PERMISSION_DENIED'])
    // Without the token (another site's form could send the cookie, not the header): refused before grants.
    const noToken = await page.evaluate(async () => (await fetch('/api/v1/repositories/lake/branches', { method: 'POST', body: '{"name":"x"}' })).status)
    expect(noToken).toBe(401)
    await context.close()
  })

  it('fits a phone: at 390 px wide no page scrolls sideways', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
    const page = await context.newPage()
    await login(page, 'admin', 'admin-secret-1')
    for (const p of [
      '/ui/r/lake/tree?ref=main&path=data/',
      '/ui/r/lake/object?ref=main&path=data/part-0001.csv',
      '/ui/r/lake/log?ref=main',
      '/ui/r/lake/branches',
    ]) {
      await page.goto(`${serve.url}${p}`)
      await page.locator('main section').waitFor()
      await page.waitForLoadState('networkidle')
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
      expect(overflow, p).toBeLessThanOrEqual(0)
    }
    await context.close()
  })

  it('varve ui: one person on a local repository, logged in by the printed one-time URL', async () => {
    const child = spawn(process.execPath, [VARVE_BIN, 'ui', path.join(t.dir, 'lake')], {
      cwd: t.dir,
      env: { ...process.env, VARVE_REPO: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (d) => {
          out += d
          const m = /^Varve UI: (http:\/\/127\.0\.0\.1:\d+\/ui\/\?token=[\w-]+)$/m.exec(out)
          if (m) resolve(m[1]!)
        })
        child.on('exit', (code) => reject(new Error(`varve ui exited with ${code}: ${out}`)))
      })
      const context = await browser.newContext()
      const page = await context.newPage()
      await page.goto(url)
      await page.getByRole('heading', { name: 'Repositories' }).waitFor()
      expect(new URL(page.url()).search).toBe('') // the token left the address bar
      await page.getByRole('link', { name: 'lake' }).click()
      await page.getByRole('link', { name: 'data/' }).waitFor()
      // The token was spent: a second browser with the same URL is asked to log in.
      const other = await browser.newContext()
      const second = await other.newPage()
      await second.goto(url)
      await second.getByLabel('Access key').waitFor()
      await context.close()
      await other.close()
    } finally {
      child.kill('SIGTERM')
    }
  })
})
