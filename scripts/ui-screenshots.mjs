// Regenerates the web UI's screenshots in docs/ui/ (the README shows them): a small repository with
// a history, `varve serve` from the built CLI, and Debian's Chromium driven by playwright-core.
// Run after `pnpm build`: node scripts/ui-screenshots.mjs
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Repository } from '@varve/core'
import { chromium } from 'playwright-core'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT = path.join(ROOT, 'docs', 'ui')
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-ui-shots-'))
const lake = path.join(dir, 'lake')
const day = Date.UTC(2026, 11, 1, 9, 0)

const repo = await Repository.init(lake, { author: 'ana' })
const rows = (n, shift) => ['id,city,temperature', ...Array.from({ length: n }, (_, i) => `${i},${['Oslo', 'Lima', 'Pune', 'Kyiv'][i % 4]},${(12 + ((i * 7 + shift) % 19)).toFixed(1)}`)].join('\n')
for (let d = 1; d <= 12; d++) await repo.put('main', `weather/day=2026-11-${String(d).padStart(2, '0')}/part-0.csv`, rows(400, d))
await repo.put('main', 'README.md', '# Weather lake\n\nDaily readings by city, one partition a day.\n')
await repo.put('main', 'contracts/weather.yaml', 'paths: weather/**\nrules:\n  - column: temperature\n    between: [-60, 60]\n')
await repo.commit('main', { message: 'Load November 1-12', author: 'ana' })
await repo.put('main', 'weather/day=2026-11-13/part-0.csv', rows(400, 13))
await repo.commit('main', { message: 'Load November 13', author: 'etl-bot' })
await repo.createBranch('backfill')
await repo.put('backfill', 'weather/day=2026-11-02/part-0.csv', rows(410, 2))
await repo.put('backfill', 'weather/day=2026-11-03/part-0.csv', rows(405, 3))
await repo.commit('backfill', { message: 'Backfill late readings for Nov 2-3', author: 'ben' })
await repo.put('backfill', 'weather/day=2026-11-04/part-0.csv', rows(402, 4))
await repo.createTag('v2026.11', 'main')
// A merged side branch (the log's graph), a table (the preview), and a review with a failing gate.
const { tableFromArrays, tableToIPC } = await import('apache-arrow')
const { Table, writeParquet } = await import('parquet-wasm')
const table = (n, shift) =>
  writeParquet(
    Table.fromIPCStream(
      tableToIPC(
        tableFromArrays({
          station: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
          city: Array.from({ length: n }, (_, i) => ['Oslo', 'Lima', 'Pune', 'Kyiv'][i % 4]),
          temperature: Float64Array.from({ length: n }, (_, i) => 12 + ((i * 7 + shift) % 19)),
        }),
        'stream',
      ),
    ),
  )
await repo.createBranch('stations')
await repo.put('stations', 'stations/stations.parquet', table(40, 0))
await repo.commit('stations', { message: 'Add the station table', author: 'ben' })
await repo.put('main', 'weather/day=2026-11-14/part-0.csv', rows(400, 14))
await repo.commit('main', { message: 'Load November 14', author: 'etl-bot' })
await repo.merge('stations', 'main', { author: 'ana' })
await repo.put('main', '_varve/hooks/no-tmp.yaml', "id: no-tmp\non: [pre-merge]\nbranches: [main]\nchecks:\n  - type: path-pattern\n    forbid: ['\\.tmp$']\n")
await repo.commit('main', { message: 'Gate: no temporary files on main', author: 'ana' })
await repo.createBranch('recalibrate')
await repo.put('recalibrate', 'stations/stations.parquet', table(42, 3))
await repo.put('recalibrate', 'stations/notes.tmp', 'scratch')
await repo.commit('recalibrate', { message: 'Recalibrate the stations', author: 'ben' })
await repo.protectBranch('main', { requiredApprovals: 1 })
await repo.openMergeRequest('recalibrate', 'main', { title: 'Recalibrated station temperatures', author: 'ben', description: 'New sensors since November 10.' })
await repo.close()
void day
await fs.writeFile(
  path.join(dir, 'serve.yaml'),
  `listen: 127.0.0.1:0\nrepositories:\n  - { name: weather, location: ${JSON.stringify(lake)} }\nkeys:\n  - { accessKey: ana, secretKey: screenshots-only, grants: [{ actions: [read, write, commit, approve, admin] }] }\n`,
)
const serve = spawn(process.execPath, [path.join(ROOT, 'packages/cli/dist/bin.js'), 'serve', '--config', path.join(dir, 'serve.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] })
const url = await new Promise((resolve, reject) => {
  let out = ''
  serve.stdout.on('data', (d) => {
    out += d
    const m = /^listening on (\S+)$/m.exec(out)
    if (m) resolve(m[1])
  })
  serve.on('exit', (code) => reject(new Error(`varve serve exited with ${code}`)))
})
const browser = await chromium.launch({ executablePath: process.env.VARVE_TEST_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] })
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 })
  const shot = async (name) => {
    await page.waitForLoadState('networkidle')
    await page.screenshot({ path: path.join(OUT, `${name}.png`) })
    console.log(`docs/ui/${name}.png`)
  }
  await page.goto(`${url}/ui/`)
  await page.getByLabel('Access key').fill('ana')
  await shot('login')
  await page.getByLabel('Secret key').fill('screenshots-only')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('link', { name: 'weather' }).click()
  await page.goto(`${url}/ui/r/weather/tree?ref=backfill&path=weather/`)
  await page.getByRole('link', { name: 'day=2026-11-04/' }).waitFor()
  await shot('browser')
  await page.goto(`${url}/ui/r/weather/object?ref=main&path=weather/day%3D2026-11-13/part-0.csv`)
  await page.locator('table.result-table').waitFor({ timeout: 60_000 })
  await shot('object')
  await page.goto(`${url}/ui/r/weather/log?ref=backfill`)
  await page.getByText('Backfill late readings').waitFor()
  await shot('log')
  await page.getByRole('link', { name: /^[0-9a-f]{12}$/ }).first().click()
  await page.getByRole('heading', { name: 'Backfill late readings for Nov 2-3' }).waitFor()
  await shot('commit')
  await page.goto(`${url}/ui/r/weather/log?ref=main`)
  await page.getByText('Add the station table').waitFor()
  await shot('graph')
  await page.goto(`${url}/ui/r/weather/object?ref=main&path=stations/stations.parquet`)
  await page.locator('table.result-table').waitFor({ timeout: 60_000 })
  await shot('table-preview')
  await page.goto(`${url}/ui/r/weather/merge-requests/1`)
  await page.getByRole('heading', { name: 'Gates: failed' }).waitFor()
  await shot('merge-request')
  await page.goto(`${url}/ui/r/weather/compare?left=main&right=recalibrate&path=stations/stations.parquet`)
  await page.getByLabel(/Key columns/).fill('station')
  await page.getByRole('button', { name: 'Compare rows' }).click()
  await page.locator('p.summary').waitFor()
  await shot('row-diff')
} finally {
  await browser.close()
  serve.kill('SIGTERM')
  await fs.rm(dir, { recursive: true, force: true })
}
