import type { Cli, JsonOption } from '../cli.js'
import { colors, formatBytes, print, printJson } from '../output.js'

export function registerMaintenance(cli: Cli): void {
  cli.program
    .command('gc')
    .description('delete objects no branch, tag, staged change or commit inside the retention window refers to')
    .option('--retain-days <days>', 'keep the data of commits younger than this', '7')
    .option('--grace-seconds <s>', 'never delete objects younger than this (uploads in flight)', '3600')
    .option('--dry-run', 'report what would be deleted, delete nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  varve gc --dry-run\n  varve gc --retain-days 30')
    .action(async (opts: { retainDays: string; graceSeconds: string; dryRun?: boolean } & JsonOption) => {
      const progress = process.stderr.isTTY && !opts.json
      const r = await (await cli.repo()).gc({
        retainDays: Number(opts.retainDays),
        graceSeconds: Number(opts.graceSeconds),
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(progress ? { onProgress: (p) => process.stderr.write(`\r${p.phase}: ${p.scanned} scanned, ${p.deleted} ${opts.dryRun ? 'to delete' : 'deleted'}   `) } : {}),
      })
      if (progress) process.stderr.write('\n')
      if (opts.json) return printJson(r)
      print(`${opts.dryRun ? 'Would delete' : 'Deleted'} ${r.deletedObjects} of ${r.scannedObjects} objects (${formatBytes(r.deletedBytes)}); ${r.liveDataObjects} data objects and ${r.retainedCommits} commits' data retained, in ${r.durationMs} ms`)
      if (r.restoredObjects) print(`Moved back ${r.restoredObjects} quarantined object${r.restoredObjects === 1 ? '' : 's'} that something refers to again`)
      if (r.droppedStagingTokens || r.removedTempFiles) print(`Dropped ${r.droppedStagingTokens} detached staging area${r.droppedStagingTokens === 1 ? '' : 's'} and ${r.removedTempFiles} temporary file${r.removedTempFiles === 1 ? '' : 's'} left by crashes`)
    })
  cli.program
    .command('verify')
    .description('check that everything reachable exists and decodes (--full: re-hash every data object)')
    .addHelpText('after', '\nExamples:\n  varve verify\n  varve verify --full --json')
    .option('--full', 'read and re-hash all data')
    .option('--retain-days <days>', 'check data of commits younger than this, besides heads and tags (default: all history)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { full?: boolean; retainDays?: string } & JsonOption) => {
      const progress = process.stderr.isTTY && !opts.json
      const r = await (await cli.repo()).verify({
        ...(opts.full ? { full: true } : {}),
        ...(opts.retainDays !== undefined ? { retainDays: Number(opts.retainDays) } : {}),
        ...(progress ? { onProgress: (p) => process.stderr.write(`\rverify: ${p.commits} commits, ${p.nodes} tree nodes, ${p.dataObjects} data objects, ${p.problems} problems   `) } : {}),
      })
      if (progress) process.stderr.write('\n')
      if (opts.json) printJson(r)
      else {
        const c = colors()
        for (const p of r.problems) print(`${c.red(p.kind)} ${p.objectType} ${p.object}${p.path ? ` (${p.path})` : ''}${p.commit ? ` in commit ${p.commit.slice(0, 12)}` : ''}`)
        print(r.ok ? c.green(`ok: ${r.commits} commits, ${r.nodes} tree nodes, ${r.dataObjects} data objects`) : c.red(`${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`))
        if (r.collectedDataObjects) print(`${r.collectedDataObjects} data object${r.collectedDataObjects === 1 ? '' : 's'} of commits outside the retention were collected by gc (not a problem; tag or pin what must stay readable)`)
      }
      if (!r.ok) process.exitCode = 1
    })
}
