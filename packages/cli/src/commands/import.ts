import type { ImportSummary } from '@varve/core'
import { parseAddress } from '../address.js'
import type { Cli, JsonOption } from '../cli.js'
import { formatBytes, print, printJson, printTable } from '../output.js'
import { startCounter } from '../progress.js'

interface ImportFlags extends JsonOption {
  message?: string
  replace?: boolean
  dryRun?: boolean
  commit?: boolean
  hash?: boolean
  copy?: boolean
  inventory?: string
}

export function registerImport(cli: Cli): void {
  cli.program
    .command('import <source> <address>')
    .description("record a bucket's objects on a branch without copying them (zero-copy import)")
    .option('-m, --message <text>', 'the commit message')
    .option('--replace', 'mirror the source under the path: also remove entries whose object is gone (default: add and update only)')
    .option('--dry-run', 'count what would be added, changed and removed, and write nothing')
    .option('--no-commit', 'stage the import for a later commit (default: commit it)')
    .option('--hash', 'read each new or changed object once to record its SHA-256 too (verified reads; a read, never a copy)')
    .option('--copy', "copy the bytes into the repository's store instead (the source may be deleted afterwards)")
    .option('--inventory <manifest>', 'read the objects from an S3 Inventory report (its manifest.json: s3://… or a file) instead of listing them')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\n<source> is s3://bucket/prefix/ (the S3 settings: VARVE_S3_ENDPOINT, AWS_REGION and the SDK credential chain)\n' +
        "or a named source (varve source add). Each entry records the object's version (versioned buckets) or its\n" +
        'ETag, and every read asks for exactly that: an object changed after the import is refused with\n' +
        'IMPORTED_OBJECT_CHANGED, a deleted one with NOT_FOUND, never read as other bytes. Running the same\n' +
        'import again writes only what changed. s3://bucket/a/b (no trailing slash) imports exactly the object a/b.\n' +
        'Ctrl-C (or a crash) keeps what was built up to the last checkpoint: run the same command again to continue.\n\n' +
        'Examples:\n  varve import s3://lake/raw/events/ main:events/ -m "adopt events"\n' +
        '  varve source add raw s3://lake/raw/ --endpoint http://minio:9000 --path-style\n  varve import raw/events/ main:events/ --replace\n' +
        '  varve import s3://lake/raw/2025/ main:archive/2025/ --copy   # then the source may go\n' +
        '  varve import s3://lake/ main:lake/ --inventory s3://inventory/lake/daily/2026-12-06T01-00Z/manifest.json',
    )
    .action(async (source: string, address: string, opts: ImportFlags) => {
      const { ref: branch, path } = parseAddress(address)
      const repo = await cli.repo()
      const abort = new AbortController()
      const onSigint = () => abort.abort()
      process.once('SIGINT', onSigint)
      const counter = startCounter('import')
      let summary: ImportSummary
      try {
        summary = await repo.importObjects(branch, {
          source,
          path,
          mode: opts.replace ? 'replace' : 'merge',
          dryRun: opts.dryRun === true,
          commit: opts.commit !== false,
          hash: opts.hash === true,
          copy: opts.copy === true,
          ...(opts.inventory !== undefined ? { inventory: opts.inventory } : {}),
          signal: abort.signal,
          ...(opts.message !== undefined ? { message: opts.message } : {}),
          onProgress: ({ listed, changed }) =>
            counter.update(`${listed.toLocaleString('en-US')} objects listed, ${changed.toLocaleString('en-US')} to write`, listed),
        })
      } catch (err) {
        if (!abort.signal.aborted) throw err
        counter.stop()
        process.stderr.write(`${(err as Error).message}\n`)
        process.exitCode = 130
        return
      } finally {
        process.off('SIGINT', onSigint)
        counter.stop()
      }
      if (opts.json) return printJson(summary)
      print(describe(summary, branch, path))
    })

  const sources = cli.program
    .command('source')
    .description('named import sources (where a bucket is; never credentials)')
    .addHelpText(
      'after',
      '\nExamples:\n  varve source add raw s3://lake/raw/ --endpoint http://minio:9000 --path-style\n  varve source list\n  varve import raw/events/ main:events/',
    )
  sources
    .command('add <name> <url>')
    .description('record a named source: s3://bucket/prefix/ and how to reach it')
    .option('--endpoint <url>', 'an S3-compatible endpoint (MinIO, Ceph, R2, ...)')
    .option('--region <region>', 'the bucket region')
    .option('--path-style', 'path-style addressing (endpoint/bucket/key), as MinIO needs')
    .addHelpText(
      'after',
      '\nCredentials are never stored: they come from the environment (AWS_ACCESS_KEY_ID, a profile, a role) when the source is read.\n\n' +
        'Examples:\n  varve source add raw s3://lake/raw/ --endpoint http://minio:9000 --path-style\n  varve source add archive s3://archive-eu/ --region eu-west-1',
    )
    .action(async (name: string, url: string, opts: { endpoint?: string; region?: string; pathStyle?: boolean }) => {
      const repo = await cli.repo()
      const s = await repo.addSource(name, url, {
        ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
        ...(opts.region !== undefined ? { region: opts.region } : {}),
        ...(opts.pathStyle ? { forcePathStyle: true } : {}),
      })
      print(`Source ${s.name}: ${s.url}${s.endpoint ? ` at ${s.endpoint}` : ''} (credentials come from the environment when it is read)`)
    })
  sources
    .command('list')
    .description('list the named sources')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  varve source list\n  varve source list --json')
    .action(async (opts: JsonOption) => {
      const repo = await cli.repo()
      const all = await repo.listSources()
      if (opts.json) return printJson(all)
      if (!all.length) return print('no named sources (varve source add <name> s3://bucket/prefix/)')
      printTable(
        all.map((s) => [s.name, s.url, s.endpoint ?? '', s.region ?? '', s.forcePathStyle ? 'path-style' : '']),
        { header: ['NAME', 'URL', 'ENDPOINT', 'REGION', ''] },
      )
    })
  sources
    .command('rm <name>')
    .description('forget a named source (what was imported from it reads again once it is added back)')
    .addHelpText('after', '\nExample:\n  varve source rm raw')
    .action(async (name: string) => {
      const repo = await cli.repo()
      await repo.removeSource(name)
      print(`Removed source ${name}`)
    })
}

function describe(s: ImportSummary, branch: string, path: string): string {
  const where = `${branch}:${path}`
  const counts = `${s.added} added, ${s.changed} changed, ${s.removed} removed, ${s.unchanged} unchanged (${formatBytes(s.bytes)} ${s.copied ? 'copied' : 'referenced, none copied'})`
  const rate = `${s.listed.toLocaleString('en-US')} objects listed in ${s.seconds.toFixed(1)} s, ${Math.round(s.listed / Math.max(s.seconds, 0.001)).toLocaleString('en-US')} objects/s`
  const skipped = s.skipped
    ? `; ${s.skipped} keys skipped, not valid paths (${s.skippedExamples.join(', ')}${s.skipped > s.skippedExamples.length ? ', ...' : ''})`
    : ''
  if (s.dryRun) return `Dry run into ${where}: ${counts}; ${rate}${skipped}`
  if (s.staged) return `Staged on ${where}: ${counts}; ${rate}${skipped}`
  const resumed = s.resumedAfter !== undefined ? `; continued an interrupted import after ${s.resumedAfter}` : ''
  return `Imported into ${where} as ${s.commit!.id.slice(0, 12)}: ${counts}; ${rate}${skipped}${resumed}`
}
