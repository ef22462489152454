import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Repository } from '@varve/core'
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
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
/** `expect.poll` with room for a busy machine (a page updates after the server answers; vitest's default waits 1 s). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 60_000, interval: 100 })
/** Playwright waits as long (its own default is 30 s). */
const WAIT_MS = 60_000

/** A Parquet file of (id int64, score double), written by parquet-wasm from an Arrow table. */
async function parquet(ids: bigint[], scores: number[]): Promise<Uint8Array> {
  const { tableFromArrays, tableToIPC } = await import('apache-arrow')
  const { Table, writeParquet } = await import('parquet-wasm')
  return writeParquet(Table.fromIPCStream(tableToIPC(tableFromArrays({ id: BigInt64Array.from(ids), score: Float64Array.from(scores) }), 'stream')))
}

describe.runIf(existsSync(CHROMIUM) || !!process.env.CI)('the web UI in Chromium (issue 26)', { timeout: 600_000 }, () => {
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

  /** A browser context whose waits allow a busy machine. */
  const newContext = async (options: Parameters<Browser['newContext']>[0] = {}) => {
    const context = await browser.newContext(options)
    context.setDefaultTimeout(WAIT_MS)
    return context
  }

  beforeAll(async () => {
    t = await tempDir('web-ui')
    const lake = path.join(t.dir, 'lake')
    const repo = await Repository.init(lake, { author: 'ana' })
    for (let i = 0; i < 130; i++) await repo.put('main', `data/part-${String(i).padStart(4, '0')}.csv`, `id,value\n${i},${i * 2}\n`)
    await repo.put('main', 'docs/readme.md', '# The lake\n\nTraining data.\n')
    await repo.put('main', 'docs/evil.html', '<img src=x onerror="document.title=\'pwned\'">')
    await repo.put('main', 'images/red.png', PNG)
    await repo.put(
      'main',
      'images/README.md',
      '# Pictures\n\n<script>document.title = "pwned"</script>\n\n[a link](javascript:alert(1)) and [a good one](https://example.com/x)\n',
    )
    await repo.put('main', 'tables/scores.parquet', await parquet([1n, 2n], [0.5, 0.7]))
    await repo.commit('main', { message: 'first load\n\n130 parts and the docs' })
    await repo.put('main', 'data/part-0000.csv', 'id,value\n0,1\n')
    await repo.put('main', 'tables/scores.parquet', await parquet([1n, 2n, 3n], [0.5, 0.9, 0.1]))
    await repo.commit('main', { message: 'fix part 0' })
    await repo.createBranch('exp')
    await repo.put('exp', 'data/new.csv', 'id,value\n9,9\n')
    await repo.delete('exp', 'docs/readme.md')
    await repo.createTag('v1', 'main')
    await repo.close()

    // A repository with a gate (a contract that forbids .tmp files), main protected with one required
    // approval, and two branches that change the same file (the second to merge meets a conflict).
    const gated = await Repository.init(path.join(t.dir, 'gated'), { author: 'ana' })
    await gated.put('main', 'docs/readme.md', 'v0\n')
    await gated.put('main', 'data/scores.csv', 'id,score\n1,0.5\n2,0.7\n')
    await gated.put(
      'main',
      '_varve/hooks/no-tmp.yaml',
      "id: no-tmp\non: [pre-merge]\nbranches: [main]\nchecks:\n  - type: path-pattern\n    forbid: ['\\.tmp$']\n",
    )
    await gated.commit('main', { message: 'start' })
    await gated.createBranch('feature')
    await gated.put('feature', 'data/scratch.tmp', 'left behind')
    await gated.put('feature', 'docs/readme.md', 'feature\n')
    await gated.put('feature', 'data/scores.csv', 'id,score\n1,0.5\n2,0.9\n3,0.1\n')
    await gated.commit('feature', { message: 'new scores' })
    await gated.createBranch('other', { from: 'main~0' })
    await gated.put('other', 'docs/readme.md', 'other\n')
    await gated.commit('other', { message: 'other readme' })
    await gated.protectBranch('main', { requiredApprovals: 1 })
    await gated.close()
    await fs.writeFile(
      path.join(t.dir, 'serve.yaml'),
      [
        'listen: 127.0.0.1:0',
        'repositories:',
        `  - { name: lake, location: ${JSON.stringify(lake)} }`,
        `  - { name: gated, location: ${JSON.stringify(path.join(t.dir, 'gated'))} }`,
        'keys:',
        '  - { accessKey: admin, secretKey: admin-secret-1, grants: [{ actions: [read, write, commit, approve, admin] }] }',
        '  - { accessKey: reader, secretKey: reader-secret-1, grants: [{ repositories: [lake], actions: [read] }] }',
        '  - { accessKey: reviewer, secretKey: reviewer-secret-1, grants: [{ repositories: [gated], actions: [read, approve] }] }',
      ].join('\n'),
    )
    serve = await spawnServe(['--config', path.join(t.dir, 'serve.yaml')], { cwd: t.dir })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  }, 300_000)
  afterAll(async () => {
    await browser?.close()
    await serve?.stop()
    await t?.cleanup()
  })

  it('logs in, browses a folder page by page, sees uncommitted changes, reads an object and its preview, and logs out', async () => {
    const context = await newContext({ viewport: { width: 1280, height: 800 } })
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
    await poll(() => page.getByRole('alert').textContent()).toMatch(/wrong secret/)
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
    // A CSV is a table: DuckDB-WASM (shipped with the app) reads it and shows its rows.
    await poll(() => page.locator('table.result-table').first().locator('tr').allTextContents()).toEqual(['idvalue', '01'])
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
    await poll(() => page.locator('.badge.removed').textContent()).toBe('readme.md')

    // HTML is shown as text, never rendered: its handler never runs.
    await page.goto(`${serve.url}/ui/r/lake/object?ref=main&path=docs/evil.html`)
    await poll(() => page.locator('pre.text').textContent()).toContain('<img src=x onerror=')
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
    await poll(() => page.locator('.changes li').allTextContents()).toEqual(['changed data/part-0000.csv', 'changed tables/scores.parquet'])
    await poll(() => page.locator('table.counts tbody tr').allTextContents()).toEqual(['data/1', 'tables/1'])
    await accessible(page, 'a commit page')
    // A path's history.
    await page.goto(`${serve.url}/ui/r/lake/log?ref=main&path=docs/`)
    await poll(() => page.locator('.log li').count()).toBe(1)

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
    await poll(() => page.getByRole('link', { name: 'from-ui' }).count()).toBe(0)

    // Logging out ends the session on the server too: the old cookie reads nothing.
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.getByLabel('Access key').waitFor()
    const replay = await fetch(`${serve.url}/api/v1/repositories`, { headers: { Cookie: `varve_session=${cookie.value}` } })
    expect(replay.status).toBe(401)
    expect(errors).toEqual([])
    await context.close()
  })

  it('a read-only key sees no write buttons, and a forged request from its session is refused', async () => {
    const context = await newContext()
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

  it('a merge request: a failing gate named with its file, a fix, approval by a second key (not the author), a conflict chosen per path, merged', async () => {
    const admin = await (await newContext()).newPage()
    await login(admin, 'admin', 'admin-secret-1')
    await admin.goto(`${serve.url}/ui/r/gated/merge-requests`)
    await admin.getByText('No open merge requests.').waitFor()
    await accessible(admin, 'the merge request list')
    await admin.getByText('Open a merge request').click()
    await admin.getByLabel('Source branch').fill('feature')
    await admin.getByLabel('Title').fill('New scores')
    await admin.getByRole('button', { name: 'Open merge request' }).click()
    await admin.getByRole('heading', { name: /#1 New scores/ }).waitFor()
    // The destination's gate ran on the merge as it would be: which rule, which file, why.
    await admin.getByRole('heading', { name: 'Gates: failed' }).waitFor()
    const failure = admin.locator('table.failures tbody tr')
    await poll(() => failure.locator('td').allTextContents()).toEqual(['no-tmp', 'data/scratch.tmp', expect.stringMatching(/tmp/)])
    await accessible(admin, 'a merge request')
    // The author cannot approve their own request: the server says so.
    await admin.getByRole('button', { name: 'Approve' }).click()
    await poll(() => admin.getByRole('alert').textContent()).toMatch(/opened merge request 1 and cannot approve/)
    // A comment on a path.
    await admin.getByLabel('Comment', { exact: true }).fill('Why is there a scratch file?')
    await admin.getByLabel('On a path (optional)').fill('data/scratch.tmp')
    await admin.getByRole('button', { name: 'Comment', exact: true }).click()
    await admin.locator('.comments li', { hasText: 'on data/scratch.tmp' }).waitFor()

    // The fix lands on the source branch (here through the API, as a pipeline would push it).
    const basic = { Authorization: `Basic ${Buffer.from('admin:admin-secret-1').toString('base64')}`, 'Content-Type': 'application/json' }
    const s3 = new S3Client({
      endpoint: serve.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'admin', secretAccessKey: 'admin-secret-1' },
    })
    await s3.send(new DeleteObjectCommand({ Bucket: 'gated', Key: 'feature/data/scratch.tmp' }))
    expect(
      (
        await fetch(`${serve.url}/api/v1/repositories/gated/branches/feature/commits`, {
          method: 'POST',
          headers: basic,
          body: '{"message":"drop the scratch file"}',
        })
      ).status,
    ).toBe(201)
    await admin.reload()
    await admin.getByRole('heading', { name: 'Gates: passed' }).waitFor()

    // A second key approves; the request becomes mergeable; the author merges.
    const reviewer = await (await newContext()).newPage()
    await login(reviewer, 'reviewer', 'reviewer-secret-1')
    await reviewer.goto(`${serve.url}/ui/r/gated/merge-requests/1`)
    expect(await reviewer.getByRole('button', { name: /^Merge/ }).count()).toBe(0) // approve only: no merge button
    await reviewer.getByRole('button', { name: 'Approve' }).click()
    await reviewer.getByRole('button', { name: 'Withdraw my approval' }).waitFor()
    await admin.reload()
    await admin.getByText('Ready to merge.').waitFor()
    await admin.getByRole('button', { name: 'Merge into main' }).click()
    await admin.locator('.badge.state-merged').first().waitFor()

    // A second request now conflicts on docs/readme.md: the reviewer approves, the author keeps the source's version.
    await admin.goto(`${serve.url}/ui/r/gated/merge-requests`)
    await admin.getByText('Open a merge request').click()
    await admin.getByLabel('Source branch').fill('other')
    await admin.getByLabel('Title').fill('Other readme')
    await admin.getByRole('button', { name: 'Open merge request' }).click()
    await admin.getByRole('heading', { name: 'Conflicts: choose a side for each path' }).waitFor()
    await reviewer.goto(`${serve.url}/ui/r/gated/merge-requests/2`)
    await reviewer.getByRole('button', { name: 'Approve' }).click()
    await reviewer.getByRole('button', { name: 'Withdraw my approval' }).waitFor()
    // The source moves after the approval: the approval is marked stale (it still counts: main does not dismiss stale ones).
    const s3b = new S3Client({
      endpoint: serve.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'admin', secretAccessKey: 'admin-secret-1' },
    })
    await s3b.send(new PutObjectCommand({ Bucket: 'gated', Key: 'other/docs/notes.txt', Body: 'more' }))
    expect(
      (await fetch(`${serve.url}/api/v1/repositories/gated/branches/other/commits`, { method: 'POST', headers: basic, body: '{"message":"notes"}' })).status,
    ).toBe(201)
    await admin.reload()
    await admin.locator('.approvals li', { hasText: 'reviewer' }).locator('.badge.stale').waitFor()
    const merge = admin.getByRole('button', { name: 'Merge into main' })
    expect(await merge.isDisabled()).toBe(true) // a side must be chosen first
    await admin.locator('tr', { hasText: 'docs/readme.md' }).getByLabel('source').check()
    await accessible(admin, 'a merge request with a conflict')
    await merge.click()
    await admin.locator('.badge.state-merged').first().waitFor()
    const readme = await fetch(`${serve.url}/api/v1/repositories/gated/objects/content?ref=main&path=docs/readme.md`, { headers: basic })
    expect(await readme.text()).toBe('other\n')
    await admin.context().close()
    await reviewer.context().close()
  })

  it('compares two refs: changes counted per folder, a text diff, and a row diff of a table', async () => {
    const page = await (await newContext()).newPage()
    await login(page, 'admin', 'admin-secret-1')
    await page.goto(`${serve.url}/ui/r/lake/compare`)
    await page.getByLabel('From', { exact: true }).fill('main~1')
    await page.getByLabel('To', { exact: true }).fill('main')
    await page.getByRole('button', { name: 'Compare' }).click()
    await poll(() => page.locator('.changes li').allTextContents()).toEqual(['changed data/part-0000.csv', 'changed tables/scores.parquet'])
    await accessible(page, 'the compare page')
    // A text file: its lines.
    await page.getByRole('link', { name: 'data/part-0000.csv' }).click()
    await poll(() => page.locator('pre.diff .line-added').textContent()).toBe('+ 0,1\n')
    await poll(() => page.locator('pre.diff .line-removed').textContent()).toBe('− 0,0\n')
    // A Parquet table: its rows, by key.
    await page.goto(`${serve.url}/ui/r/lake/compare?left=main~1&right=main&path=tables/scores.parquet`)
    await page.getByLabel(/Key columns/).fill('id')
    await page.getByRole('button', { name: 'Compare rows' }).click()
    await poll(() => page.locator('p.summary').textContent()).toBe('2 → 3 rows: 1 added, 0 removed, 1 changed, 1 unchanged')
    await poll(() => page.locator('table.rows tbody tr').allTextContents()).toEqual(['added3id=3 score=0.1', 'changed2score=0.7score=0.9'])
    await accessible(page, 'a row diff')
    // Row by row, with no key: row 1 changed, row 2 added.
    await page.getByLabel(/Key columns/).fill('')
    await page.getByLabel('no key: row by row').check()
    await page.getByRole('button', { name: 'Compare rows' }).click()
    await poll(() => page.locator('table.rows tbody tr').allTextContents()).toEqual(['addedrow 2id=3 score=0.1', 'changedrow 1score=0.7score=0.9'])
    await page.getByLabel('no key: row by row').uncheck()
    // A key that is not a column is the server's typed error, shown.
    await page.getByLabel(/Key columns/).fill('nope')
    await page.getByRole('button', { name: 'Compare rows' }).click()
    await poll(() => page.getByRole('alert').textContent()).toMatch(/nope/)
    await page.context().close()
  })

  it('a Parquet file in DuckDB-WASM: schema and row count from the footer, the first rows, an SQL query of our own, all read by range', async () => {
    const page = await (await newContext()).newPage()
    const reads: (string | undefined)[] = []
    page.on('request', (r) => {
      if (r.url().includes('/objects/content') && r.method() === 'GET') reads.push(r.headers().range)
    })
    await login(page, 'admin', 'admin-secret-1')
    await page.goto(`${serve.url}/ui/r/lake/object?ref=main&path=tables/scores.parquet`)
    await poll(() => page.locator('.table-preview p.summary').textContent()).toBe('3 rows · id int64, score double')
    await poll(() => page.locator('table.result-table tr').allTextContents()).toEqual(['idscore', '10.5', '20.9', '30.1'])
    await accessible(page, 'a table preview')
    const box = page.getByLabel(/^SQL/)
    await box.fill((await box.inputValue()).replace('SELECT * ', 'SELECT count(*) AS n, max(score) AS best ').replace(' LIMIT 100', ''))
    await page.getByRole('button', { name: 'Run query' }).click()
    await poll(() => page.locator('table.result-table tr').allTextContents()).toEqual(['nbest', '30.9'])
    // A wrong query is DuckDB's error, shown; the page goes on.
    await box.fill('SELECT nope FROM nowhere')
    await page.getByRole('button', { name: 'Run query' }).click()
    await poll(() => page.getByRole('alert').textContent()).toMatch(/nowhere/)
    // DuckDB asked for ranges, never the whole object without one.
    expect(reads.length).toBeGreaterThan(0)
    expect(reads.filter((r) => !r?.startsWith('bytes='))).toEqual([])
    await page.context().close()
  })

  it('history tools: revert and cherry-pick from a commit page, protection, the ref log, gate runs, search, blame, a presigned link, a README', async () => {
    const page = await (await newContext()).newPage()
    await login(page, 'admin', 'admin-secret-1')
    const basic = { Authorization: `Basic ${Buffer.from('admin:admin-secret-1').toString('base64')}`, 'Content-Type': 'application/json' }
    for (const [name, from] of [
      ['tools', 'main'],
      ['tools2', 'main~1'],
    ])
      expect(
        (await fetch(`${serve.url}/api/v1/repositories/lake/branches`, { method: 'POST', headers: basic, body: JSON.stringify({ name, from }) })).status,
      ).toBe(201)
    await page.goto(`${serve.url}/ui/r/lake/log?ref=main`)
    await page.locator('.log li', { hasText: 'fix part 0' }).getByRole('link').first().click()
    await page.getByRole('heading', { name: 'fix part 0' }).waitFor()
    const fixUrl = page.url()
    await page.getByLabel('On branch').fill('tools')
    await page.getByRole('button', { name: 'Revert this commit' }).click()
    await page.getByRole('heading', { name: /^Revert/ }).waitFor()
    await page.goto(fixUrl)
    await page.getByLabel('On branch').fill('tools2')
    await page.getByRole('button', { name: 'Cherry-pick this commit' }).click()
    await page.waitForURL((u) => u.href !== fixUrl) // a new commit, with the picked one's message
    await page.getByRole('heading', { name: 'fix part 0' }).waitFor()
    // Protect a pattern, see it listed, remove it.
    await page.goto(`${serve.url}/ui/r/lake/branches`)
    await page.getByLabel('Protect branch or pattern').fill('release-*')
    await page.getByLabel('Approvals required').fill('2')
    await page.getByRole('button', { name: 'Protect', exact: true }).click()
    await expect
      .poll(() => page.locator('tr', { hasText: 'release-*' }).locator('td').nth(1).textContent())
      .toBe('2 approvals required, merge requests required')
    await accessible(page, 'the branches page with protection and pins')
    page.once('dialog', (d) => void d.accept())
    await page.locator('tr', { hasText: 'release-*' }).getByRole('button', { name: 'Unprotect' }).click()
    await page.getByText('No protected branches.').waitFor()
    // The ref log of a branch.
    await page
      .locator('tr', { has: page.getByRole('link', { name: 'tools', exact: true }) })
      .getByRole('link', { name: 'ref log' })
      .click()
    await expect
      .poll(() => page.locator('table.listing tbody tr td:nth-child(2)').allTextContents())
      .toEqual(['revert — Revert "fix part 0"', 'create — from main'])
    await accessible(page, 'a ref log')
    // Gate runs with their findings (the gated repository's refused merge earlier).
    await page.goto(`${serve.url}/ui/r/gated/runs?branch=main`)
    await page.locator('.findings li', { hasText: 'data/scratch.tmp' }).first().waitFor()
    await accessible(page, 'gate runs')
    // Search by glob.
    await page.goto(`${serve.url}/ui/r/lake/tree?ref=main&path=data/`)
    await page.getByRole('link', { name: 'Search paths' }).click()
    await page.getByLabel('Paths matching').fill('part-00[0-2]?.csv')
    await page.getByRole('button', { name: 'Search' }).click()
    await poll(() => page.locator('.found li a').count()).toBe(30)
    await accessible(page, 'search')
    // Blame and a presigned link on an object page.
    await page.goto(`${serve.url}/ui/r/lake/object?ref=main&path=data/part-0000.csv`)
    await poll(() => page.locator('.facts dd', { hasText: 'fix part 0' }).count()).toBe(1)
    await page.getByRole('button', { name: 'Presigned link' }).click()
    const link = await page.locator('code.link').textContent()
    expect(await (await fetch(link!)).text()).toBe('id,value\n0,1\n')
    // A README renders on its folder; HTML in it is text, a javascript: link goes nowhere.
    await page.goto(`${serve.url}/ui/r/lake/tree?ref=main&path=images/`)
    await page.locator('article.readme h1', { hasText: 'Pictures' }).waitFor()
    expect(await page.locator('article.readme script').count()).toBe(0)
    expect(await page.locator('article.readme').textContent()).toContain('<script>')
    expect(await page.getByRole('link', { name: 'a link' }).getAttribute('href')).toBe('#')
    expect(await page.getByRole('link', { name: 'a good one' }).getAttribute('href')).toBe('https://example.com/x')
    expect(await page.title()).toBe('Varve')
    // The same file on its own page renders too.
    await page.getByRole('link', { name: 'README.md' }).click()
    await page.locator('article.readme h1', { hasText: 'Pictures' }).waitFor()
    expect(await page.locator('article.readme script').count()).toBe(0)
    // Garbage collection: a dry run with a retention, counted.
    await page.goto(`${serve.url}/ui/r/lake/branches`)
    await page.getByRole('link', { name: /Garbage collection/ }).click()
    await page.getByLabel('Retention (days)').fill('0')
    await page.getByRole('button', { name: 'Dry run' }).click()
    await poll(() => page.locator('.gc-result dt').allTextContents()).toContain('commits kept (refs, pins, retention)')
    await accessible(page, 'the gc dry run')
    // The keyboard: / goes to the first field, ↓ and ↑ walk the listing's rows.
    await page.goto(`${serve.url}/ui/r/lake/tree?ref=main&path=data/`)
    await page.getByRole('link', { name: 'part-0000.csv' }).waitFor()
    await page.keyboard.press('/')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('ref')
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('j')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('part-0001.csv')
    await page.keyboard.press('k')
    await page.keyboard.press('Enter')
    await page.waitForURL(/path=data%2Fpart-0000\.csv/)
    await page.context().close()
  })

  it('fits a phone: at 390 px wide no page scrolls sideways', async () => {
    const context = await newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
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
      const context = await newContext()
      const page = await context.newPage()
      await page.goto(url)
      await page.getByRole('heading', { name: 'Repositories' }).waitFor()
      expect(new URL(page.url()).search).toBe('') // the token left the address bar
      await page.getByRole('link', { name: 'lake' }).click()
      await page.getByRole('link', { name: 'data/' }).waitFor()
      // The token was spent: a second browser with the same URL is asked to log in.
      const other = await newContext()
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
