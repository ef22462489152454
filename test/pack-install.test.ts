import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers/processes.js'

// Issue 10, "install like any npm tool": each package packs with plain `npm pack`, and the tarballs
// install into an empty folder with plain npm (from the registry: every third-party dependency), where
// the `varve` binary, an ESM program and a strict TypeScript program work against them. Slow by nature
// (npm fetches ~130 packages and compiles the SQLite driver): its timeouts wait, they do not judge.
const run = promisify(execFile)
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const PACKAGES = ['core', 's3-adapter', 'azure-adapter', 'gcs-adapter', 'server', 'web', 'cli']
const rootManifest = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
// The SQLite driver compiles from source where its prebuilt download is unreachable (see ../shared/README.md).
const npmEnv = {
  ...process.env,
  npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
}

const ESM_PROGRAM = `
import { Repository, VarveError } from '@varve/core'
import '@varve/s3-adapter'
const repo = await Repository.init('./lake', { author: 'esm' })
await repo.put('main', 'train/a.csv', 'id\\n1\\n')
const c = await repo.commit('main', { message: 'from an installed package' })
const bytes = await repo.get(c.id, 'train/a.csv')
let code
try { await repo.get('main', 'missing') } catch (e) { code = e instanceof VarveError ? e.code : 'not a VarveError' }
await repo.close()
// an S3 request (refused: nothing listens there) is where the AWS SDK would print its Node 22 notice
let s3Code
try {
  await Repository.open('s3://bucket/lake', { s3: { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } } })
} catch (e) { s3Code = e instanceof VarveError ? e.code : String(e) }
console.log(JSON.stringify({ text: Buffer.from(bytes).toString(), code, message: c.message, s3Code }))
`

const TS_PROGRAM = `
import { Repository, VarveError, type Commit, type LogOptions, type PutOptions } from '@varve/core'
import '@varve/s3-adapter'

async function main(): Promise<void> {
  const repo = await Repository.init('./lake-ts', { author: 'ts' })
  const options: PutOptions = { metadata: { source: 'typed' } }
  await repo.put('main', 'train/b.csv', 'id\\n2\\n', options)
  const c: Commit = await repo.commit('main', { message: 'typed' })
  const log: LogOptions = { limit: 5, prefix: 'train/' }
  const ids: string[] = []
  for await (const x of repo.log('main', log)) ids.push(x.id)
  try {
    await repo.stat('main', 'nope')
  } catch (e) {
    if (!(e instanceof VarveError) || e.code !== 'NOT_FOUND') throw e
  }
  await repo.close()
  console.log(JSON.stringify({ first: ids[0] === c.id, count: ids.length }))
}
await main()
`

/** The README's two install blocks (bash), as written: from a checkout, and as npm packages. */
async function readmeInstallBlocks(): Promise<string[]> {
  const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('### Install'))
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)\n```/g)].slice(0, 2).map((m) => m[1]!.replace(/\\\n\s*/g, ''))
  expect(blocks).toHaveLength(2)
  return blocks
}

/** When the newest exact version our packages pin was published, plus a minute, as ISO time. */
async function newestPinPublished(): Promise<string> {
  const pins = new Map<string, string>([['typescript', rootManifest.devDependencies.typescript!]])
  for (const p of PACKAGES) {
    const manifest = JSON.parse(await fs.readFile(path.join(ROOT, 'packages', p, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
    for (const [name, version] of Object.entries(manifest.dependencies ?? {})) if (!name.startsWith('@varve/')) pins.set(name, version)
  }
  let newest = 0
  for (const [name, version] of pins) {
    const { stdout } = await run('npm', ['view', `${name}@${version}`, 'time', '--json'], { env: npmEnv, maxBuffer: 64 * 1024 * 1024 })
    const time = (JSON.parse(stdout) as Record<string, string>)[version]
    if (time) newest = Math.max(newest, Date.parse(time))
  }
  return new Date(newest + 60_000).toISOString()
}

describe('the packages, packed and installed with plain npm (issue 10)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let app: string
  let home: string
  const tarballs: string[] = []

  beforeAll(async () => {
    t = await tempDir('pack-install')
    home = path.join(t.dir, 'home')
    await fs.mkdir(home)
    const [checkout, packages] = await readmeInstallBlocks()
    const [packLoop, projectInstall, ...userInstall] = packages!.split('\n')
    // Every line runs as the README writes it, in bash, with HOME in the test's folder.
    const bash = (script: string, cwd: string, inHome = home) =>
      run('bash', ['-euo', 'pipefail', '-c', script], { cwd, env: { ...npmEnv, HOME: inHome }, timeout: 20 * 60_000, maxBuffer: 64 * 1024 * 1024 })
    // (the two blocks are alternatives: each gets a home of its own)
    await fs.mkdir(path.join(t.dir, 'home-checkout'))
    await bash(checkout!, ROOT, path.join(t.dir, 'home-checkout'))
    await fs.rm('/tmp/varve-packs', { recursive: true, force: true })
    await bash(packLoop!, ROOT)
    for (const p of PACKAGES) {
      const tarball = path.join('/tmp/varve-packs', `varve-${p}-0.1.0.tgz`)
      tarballs.push(tarball)
      const { stdout } = await run('tar', ['-tzf', tarball])
      const files = stdout
        .trim()
        .split('\n')
        .map((f) => f.replace(/^package\//, ''))
      // (the web UI's package is its built app and a module naming its folder)
      const built = p === 'web' ? ['index.js', 'index.d.ts', 'dist/index.html', 'dist/app.js', 'dist/app.css'] : ['dist/index.js', 'dist/index.d.ts']
      expect(files, p).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', ...built]))
      expect(
        files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.endsWith('.tsbuildinfo')),
        p,
      ).toEqual([])
    }
    app = path.join(t.dir, 'app')
    await fs.mkdir(app)
    await fs.writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'varve-user', private: true, type: 'module' }))
    // A registry mid-release can list a package whose dependency's new version has not reached it yet
    // (seen: ETARGET for @aws-sdk/credential-provider-login, published the same minute as its
    // dependent). That is the registry's state, not ours: the line is run again resolving as of the day
    // our newest pinned dependency was published, when everything it depends on had long been published.
    const asWritten = async (line: string, cwd: string) => {
      try {
        await bash(line, cwd)
      } catch (e) {
        if (!/ETARGET|notarget/.test(String((e as { stderr?: string }).stderr ?? e))) throw e
        await bash(line.replace('npm install ', `npm install --before=${await newestPinPublished()} `), cwd)
      }
    }
    await Promise.all([asWritten(projectInstall!, app), asWritten(userInstall.join('\n'), t.dir)])
    await run('npm', ['install', '--no-save', `typescript@${rootManifest.devDependencies.typescript}`, '@types/node@20'], {
      cwd: app,
      env: npmEnv,
      timeout: 20 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    })
  }, 25 * 60_000)
  afterAll(async () => t?.cleanup())

  it("the README's installs put varve on PATH: from the checkout, and from the tarballs for the user", async () => {
    const { version } = JSON.parse(await fs.readFile(path.join(ROOT, 'packages', 'cli', 'package.json'), 'utf8'))
    const bin = path.join(home, '.local', 'bin', 'varve')
    expect(await fs.readlink(bin)).toBe(path.join(home, '.local', 'varve', 'node_modules', '.bin', 'varve'))
    expect((await run(bin, ['--version'])).stdout.trim()).toBe(version)
    const checkout = path.join(t.dir, 'home-checkout', '.local', 'bin', 'varve')
    expect(await fs.readlink(checkout)).toBe(path.join(ROOT, 'packages', 'cli', 'dist', 'bin.js'))
    expect((await run(checkout, ['--version'])).stdout.trim()).toBe(version)
  }, 60_000)

  it('the manifests name each other by version, never by a workspace link', async () => {
    for (const p of PACKAGES) {
      const manifest = JSON.parse(await fs.readFile(path.join(app, 'node_modules', '@varve', p, 'package.json'), 'utf8'))
      expect(JSON.stringify(manifest)).not.toContain('workspace:')
      expect(manifest).toMatchObject({ license: 'Apache-2.0', engines: { node: '>=20' }, type: 'module' })
      expect(manifest.repository.directory).toBe(`packages/${p}`)
    }
  })

  it('puts varve on the path of the installing project, and it runs', async () => {
    const varve = path.join(app, 'node_modules', '.bin', 'varve')
    const { version } = JSON.parse(await fs.readFile(path.join(ROOT, 'packages', 'cli', 'package.json'), 'utf8'))
    expect((await run(varve, ['--version'], { cwd: app })).stdout.trim()).toBe(version)
    await run(varve, ['init', './cli-lake'], { cwd: app })
    await fs.writeFile(path.join(app, 'x.txt'), 'x')
    await run(varve, ['put', 'x.txt', 'main:x.txt', '--repo', './cli-lake'], { cwd: app })
    await run(varve, ['commit', 'main', '-m', 'installed', '--repo', './cli-lake'], { cwd: app })
    expect((await run(varve, ['ls', 'main', '--repo', './cli-lake'], { cwd: app, env: { ...process.env, NO_COLOR: '1' } })).stdout.trim()).toBe('x.txt')
  }, 120_000)

  it('an ESM program imports @varve/core and @varve/s3-adapter and runs', async () => {
    await fs.writeFile(path.join(app, 'program.mjs'), ESM_PROGRAM)
    const { stdout, stderr } = await run(process.execPath, ['program.mjs'], { cwd: app })
    expect(JSON.parse(stdout)).toMatchObject({ text: 'id\n1\n', code: 'NOT_FOUND', message: 'from an installed package', s3Code: 'UNAVAILABLE' })
    expect(stderr).toBe('') // no AWS SDK notice about Node 20 either
  }, 120_000)

  it('a TypeScript program (strict, exactOptionalPropertyTypes, NodeNext) type-checks against the published types and runs', async () => {
    await fs.writeFile(path.join(app, 'program.ts'), TS_PROGRAM)
    await fs.writeFile(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          types: ['node'],
          outDir: 'out',
          skipLibCheck: false,
        },
        files: ['program.ts'],
      }),
    )
    const tsc = await run(path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: app }).catch((e: { stdout?: string }) => {
      throw new Error(`tsc failed:\n${e.stdout ?? e}`)
    })
    expect(tsc.stdout).toBe('')
    const { stdout } = await run(process.execPath, ['out/program.js'], { cwd: app })
    expect(JSON.parse(stdout)).toEqual({ first: true, count: 1 })
  }, 180_000)
})
