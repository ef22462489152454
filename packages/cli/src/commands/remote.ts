import fs from 'node:fs'
import path from 'node:path'
import { Repository, VarveError, ErrorCodes, type RemoteConfig, type SyncResult, type TransferProgress } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { DOT_VARVE, repositoryOptions } from '../location.js'
import { colors, formatBytes, print, printJson, printNdjson, printTable, shortId } from '../output.js'
import { startCounter } from '../progress.js'

interface EndpointOptions {
  readonly endpoint?: string
  readonly region?: string
  readonly pathStyle?: boolean
}

interface TransferFlags extends JsonOption {
  readonly jobs: string
}

/** `varve clone`, `varve remote`, `varve fetch`, `varve push`, `varve pull` (decision 0019). */
export function registerRemotes(cli: Cli): void {
  cli.program
    .command('clone <location> [dir]')
    .description(`copy a repository (a folder or s3://bucket/prefix) into <dir>/${DOT_VARVE}: every branch as origin/<branch>, the default one checked out`)
    .option('--prefix <prefix>', 'fetch data only under this prefix (reads elsewhere fail with NOT_FETCHED, or fetch lazily with --lazy)')
    .option('--lazy', 'fetch no data now: reads fetch it from the origin on demand (cached, checked against its address)')
    .option('--endpoint <url>', "the origin's S3 endpoint, when it is not $VARVE_S3_ENDPOINT")
    .option('--region <region>', "the origin's S3 region")
    .option('--path-style', 'path-style S3 addressing for the origin (MinIO and most S3-compatible servers)')
    .option('-j, --jobs <n>', 'requests in flight', '64')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  varve clone s3://datasets/events\n  varve clone s3://datasets/events events --prefix train/\n  varve clone ../lake lake-copy --lazy\n\nRun again after an interruption: it continues where it stopped.',
    )
    .action(async (location: string, dir: string | undefined, opts: TransferFlags & EndpointOptions & { prefix?: string; lazy?: boolean }) => {
      const source = repositoryFolder(location)
      const into = path.resolve(dir ?? defaultDir(location))
      const target = path.join(into, DOT_VARVE)
      const options = await remoteCapableOptions(target, cli)
      const s3 = endpointOf(opts)
      const started = Date.now()
      const result = await withProgress('clone', opts, (onProgress, signal) =>
        Repository.clone(source, target, {
          ...options,
          clone: {
            onProgress,
            signal,
            width: jobsOf(opts.jobs),
            ...(opts.prefix ? { prefix: opts.prefix } : {}),
            ...(opts.lazy ? { lazy: true } : {}),
            ...(s3 ? { s3 } : {}),
          },
        }),
      )
      const repo = result.value
      const branches = await repo.trackingRefs('origin')
      await repo.close()
      const summary = { location: source, dir: into, repository: target, branches: branches.length, seconds: (Date.now() - started) / 1000, ...result.progress }
      if (opts.json) return printJson(summary)
      print(
        `Cloned ${colors().bold(source)} into ${colors().bold(into)}: ${branches.length} branch${branches.length === 1 ? '' : 'es'}, ${describeTransfer(result.progress, summary.seconds)}`,
      )
      if (opts.lazy) print('Lazy clone: data is fetched from origin when first read')
      else if (opts.prefix) print(`Partial clone: data under ${opts.prefix} only`)
    })

  const remote = cli.program
    .command('remote')
    .description('name other repositories (folders or s3:// locations) to fetch from and push to')
    .addHelpText('after', '\nExamples:\n  varve remote add origin s3://team-bucket/lake\n  varve remote list\n  varve remote remove origin')
  remote
    .command('add <name> <location>')
    .description(
      'add a remote; its S3 endpoint and region may differ from this repository’s (credentials: $VARVE_REMOTE_<NAME>_ACCESS_KEY_ID and _SECRET_ACCESS_KEY, else the SDK’s chain)',
    )
    .option('--endpoint <url>', "the remote's S3 endpoint")
    .option('--region <region>', "the remote's S3 region")
    .option('--path-style', 'path-style S3 addressing')
    .option('--json', 'print the remote as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  varve remote add origin s3://team-bucket/lake\n  varve remote add backup s3://dr/lake --endpoint https://s3.eu-west-1.amazonaws.com',
    )
    .action(async (name: string, location: string, opts: EndpointOptions & JsonOption) => {
      const s3 = endpointOf(opts)
      const r = await (await cli.repo()).addRemote(name, repositoryFolder(location), s3 ? { s3 } : {})
      if (opts.json) return printJson(r)
      print(`Added remote ${colors().bold(name)} → ${r.location}`)
    })
  remote
    .command('list')
    .description('list the remotes and their remote-tracking refs')
    .option('--json', 'NDJSON, one remote per line')
    .addHelpText('after', '\nExamples:\n  varve remote list\n  varve remote list --json')
    .action(async (opts: JsonOption) => {
      const repo = await cli.repo()
      const rows: string[][] = []
      for (const r of await repo.remotes()) {
        const refs = await repo.trackingRefs(r.name)
        if (opts.json) printNdjson({ ...r, refs })
        else rows.push([r.name, r.location, refs.map((t) => `${r.name}/${t.branch} ${shortId(t.commit)}`).join(', ') || '(not fetched yet)'])
      }
      if (!opts.json) printTable(rows)
    })
  remote
    .command('remove <name>')
    .alias('rm')
    .description('forget a remote and its remote-tracking refs (the remote itself is untouched)')
    .addHelpText('after', '\nExamples:\n  varve remote remove backup')
    .action(async (name: string) => {
      await (await cli.repo()).removeRemote(name)
      print(`Removed remote ${name}`)
    })

  cli.program
    .command('fetch [remote] [branches...]')
    .description("copy what the remote's branches gained since the last fetch; <remote>/<branch> moves, no local branch does")
    .option('--tags', "fetch the remote's tags too")
    .option('--pins', "fetch the remote's pins too")
    .option('--prune', 'drop remote-tracking refs of branches the remote no longer has')
    .option('-j, --jobs <n>', 'requests in flight', '64')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  varve fetch\n  varve fetch origin main dev\n  varve log origin/main --oneline')
    .action(async (name: string | undefined, branches: string[], opts: TransferFlags & { tags?: boolean; pins?: boolean; prune?: boolean }) => {
      const repo = await remoteRepo(cli)
      const r = await withProgress('fetch', opts, (onProgress, signal) =>
        repo.fetch(name ?? 'origin', {
          onProgress,
          signal,
          width: jobsOf(opts.jobs),
          ...(branches.length ? { branches } : {}),
          ...(opts.tags ? { tags: true } : {}),
          ...(opts.pins ? { pins: true } : {}),
          ...(opts.prune ? { prune: true } : {}),
        }),
      )
      report(r.value, r.seconds, opts)
    })

  cli.program
    .command('push [remote] [branches...]')
    .description('send branches to a remote: each remote branch moves only as a fast-forward (compare-and-swap), unless forced')
    .option('--force-with-lease [commit]', 'replace the remote branch only if it is where origin/<branch> (or <commit>) says')
    .option('--force', 'replace the remote branch whatever it holds (a reset there)')
    .option('--merge-request', 'for a branch that takes merge requests only: push to push/<branch>/<head> there and open a merge request into <branch>')
    .option('--title <text>', "the merge request's title (with --merge-request)")
    .option('--tags', 'push tags too')
    .option('--pins', 'push pins too')
    .option('-j, --jobs <n>', 'requests in flight', '64')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  varve remote add origin s3://team-bucket/lake && varve push origin main\n  varve push origin main --tags\n  varve push origin exp --force-with-lease\n  varve push origin main --merge-request --title "October backfill"\n\nA location with no repository yet gets one.',
    )
    .action(
      async (
        name: string | undefined,
        branches: string[],
        opts: TransferFlags & { forceWithLease?: boolean | string; force?: boolean; tags?: boolean; pins?: boolean; mergeRequest?: boolean; title?: string },
      ) => {
        const repo = await remoteRepo(cli)
        const r = await withProgress('push', opts, (onProgress, signal) =>
          repo.push(name ?? 'origin', {
            onProgress,
            signal,
            width: jobsOf(opts.jobs),
            ...(branches.length ? { branches } : {}),
            ...(opts.force ? { force: true } : {}),
            ...(opts.forceWithLease !== undefined ? { forceWithLease: opts.forceWithLease } : {}),
            ...(opts.tags ? { tags: true } : {}),
            ...(opts.pins ? { pins: true } : {}),
            ...(opts.mergeRequest ? { mergeRequest: opts.title ? { title: opts.title } : true } : {}),
          }),
        )
        report(r.value, r.seconds, opts)
        if (!opts.json) for (const m of r.value.mergeRequests ?? []) print(`Opened merge request #${m.id} on ${r.value.remote}: ${m.source} → ${m.destination}`)
      },
    )

  cli.program
    .command('pull [remote] [branch]')
    .description('fetch a branch and bring the local one up to it: a fast-forward when it can, else a merge (gates run)')
    .option('-m, --message <text>', 'message of the merge commit, when one is made')
    .option('-j, --jobs <n>', 'requests in flight', '64')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  varve pull\n  varve pull origin dev')
    .action(async (name: string | undefined, branch: string | undefined, opts: TransferFlags & { message?: string }) => {
      const repo = await remoteRepo(cli)
      const r = await withProgress('pull', opts, (onProgress, signal) =>
        repo.pull(name ?? 'origin', {
          onProgress,
          signal,
          width: jobsOf(opts.jobs),
          ...(branch ? { branch } : {}),
          ...(opts.message ? { message: opts.message } : {}),
        }),
      )
      if (opts.json) return printJson({ ...r.value, seconds: r.seconds })
      report(r.value, r.seconds, opts)
      const v = r.value
      print(
        v.outcome === 'up-to-date'
          ? `${v.branch} is up to date with ${v.remote}/${v.branch}`
          : `${v.branch} ${v.outcome === 'merged' ? 'merged' : 'fast-forwarded to'} ${v.remote}/${v.branch}: ${shortId(v.head)}`,
      )
    })
}

/** The local repository, with every remote scheme loadable (a remote may be on S3 while this one is a folder). */
async function remoteRepo(cli: Cli): Promise<Repository> {
  await import('@varve/s3-adapter')
  return cli.repo()
}

async function remoteCapableOptions(target: string, cli: Cli) {
  await import('@varve/s3-adapter')
  return repositoryOptions(target, cli.globals())
}

/** A working folder holding `.varve` means its repository (as `varve clone ../proj` expects); anything else is taken as given. */
function repositoryFolder(location: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location
  const inner = path.join(location, DOT_VARVE)
  return fs.existsSync(path.join(inner, 'blocks', 'varve.json')) ? path.resolve(inner) : path.resolve(location)
}

/** git's rule: the last segment of the location, without a trailing `.varve`. */
function defaultDir(location: string): string {
  const parts = location
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split('/')
    .filter((p) => p && p !== DOT_VARVE)
  const last = parts[parts.length - 1]
  if (!last || last === '.' || last === '..')
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `cannot name a folder after ${JSON.stringify(location)}: give one (varve clone <location> <dir>)`)
  return last
}

function endpointOf(opts: EndpointOptions): RemoteConfig['s3'] | undefined {
  const s3 = {
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.pathStyle ? { forcePathStyle: true } : {}),
  }
  return Object.keys(s3).length ? s3 : undefined
}

function jobsOf(raw: string): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `--jobs must be a whole number from 1 to 1024, not ${JSON.stringify(raw)}`)
  return n
}

/** Runs a transfer with a live counter on stderr (objects/s, bytes/s) and Ctrl-C as its abort signal. */
async function withProgress<T>(
  label: string,
  opts: JsonOption,
  run: (onProgress: (p: TransferProgress) => void, signal: AbortSignal) => Promise<T>,
): Promise<{ value: T; seconds: number; progress: TransferProgress }> {
  const counter = opts.json ? { update: () => {}, stop: () => {} } : startCounter(label)
  const abort = new AbortController()
  const onSigint = () => abort.abort()
  process.once('SIGINT', onSigint)
  const started = Date.now()
  let last: TransferProgress = { commits: 0, nodes: 0, objects: 0, packs: 0, bytes: 0, present: 0 }
  try {
    const value = await run((p) => {
      last = p
      counter.update(`${p.objects.toLocaleString('en-US')} objects, ${formatBytes(p.bytes)}, ${p.commits} commits`, p.objects)
    }, abort.signal)
    const progress = (value as { transferred?: TransferProgress }).transferred ?? last
    return { value, seconds: (Date.now() - started) / 1000, progress }
  } finally {
    process.off('SIGINT', onSigint)
    counter.stop()
  }
}

function describeTransfer(p: TransferProgress, seconds: number): string {
  const secs = Math.max(seconds, 0.001)
  return (
    `${p.objects.toLocaleString('en-US')} objects (${formatBytes(p.bytes)}) in ${seconds.toFixed(1)} s, ` +
    `${Math.round(p.objects / secs).toLocaleString('en-US')} objects/s, ${formatBytes(p.bytes / secs)}/s; ${p.commits} commits, ${p.present} already there`
  )
}

function report(r: SyncResult, seconds: number, opts: JsonOption): void {
  if (opts.json) return printJson({ ...r, seconds })
  if (!r.updates.length) print(`Everything up to date with ${r.remote}`)
  for (const u of r.updates) {
    const what = u.ref.startsWith('tag:') || u.ref.startsWith('pin:') ? u.ref : `${r.remote}/${u.ref}`
    const range = u.old && u.new ? `${shortId(u.old)}..${shortId(u.new)}` : shortId(u.new ?? u.old ?? '')
    print(`  ${u.status.padEnd(12)} ${what.padEnd(28)} ${range}${u.reason ? ` (${u.reason})` : ''}`)
  }
  if (r.transferred.objects || r.transferred.commits) print(describeTransfer(r.transferred, seconds))
}
