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
        ...(progress
          ? { onProgress: (p) => process.stderr.write(`\r${p.phase}: ${p.scanned} scanned, ${p.deleted} ${opts.dryRun ? 'to delete' : 'deleted'}   `) }
          : {}),
      })
      if (progress) process.stderr.write('\n')
      if (opts.json) return printJson(r)
      print(
        `${opts.dryRun ? 'Would delete' : 'Deleted'} ${r.deletedObjects} of ${r.scannedObjects} objects (${formatBytes(r.deletedBytes)}); ${r.liveDataObjects} data objects and ${r.retainedCommits} commits' data retained, in ${r.durationMs} ms`,
      )
      if (r.restoredObjects) print(`Moved back ${r.restoredObjects} quarantined object${r.restoredObjects === 1 ? '' : 's'} that something refers to again`)
      if (r.droppedStagingTokens || r.removedTempFiles)
        print(
          `Dropped ${r.droppedStagingTokens} detached staging area${r.droppedStagingTokens === 1 ? '' : 's'} and ${r.removedTempFiles} temporary file${r.removedTempFiles === 1 ? '' : 's'} left by crashes`,
        )
    })
  cli.program
    .command('verify')
    .description('check that everything reachable exists and decodes (--full: re-hash every data object)')
    .addHelpText(
      'after',
      '\nExamples:\n  varve verify\n  varve verify --full --json\n  varve verify --approvals main   (every merge into main carried the approvals its rules required)\n\n--approvals walks the history of protected branches (one, or all) and lists each commit that landed\nwithout the reviewed, approved (and, where required, signed) merge request the rules then in force\nrequired. It detects a writer that bypassed Varve (refs written straight into the bucket); it cannot\nprevent one.',
    )
    .option('--full', 'read and re-hash all data')
    .option('--retain-days <days>', 'check data of commits younger than this, besides heads and tags (default: all history)')
    .option('--approvals [branch]', 'audit merges into protected branches (one, or all) against the approvals their rules required')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { full?: boolean; retainDays?: string; approvals?: boolean | string } & JsonOption) => {
      if (opts.approvals !== undefined) {
        const audit = await (await cli.repo()).verifyApprovals(typeof opts.approvals === 'string' ? { branch: opts.approvals } : {})
        if (opts.json) printJson(audit)
        else {
          const c = colors()
          for (const p of audit.problems)
            print(`${c.red('unapproved')} ${p.branch} ${p.commit.slice(0, 12)} by ${p.author}: ${p.reason} ("${p.message.split('\n')[0]}")`)
          const checked = audit.branches.map((b) => `${b.branch} (${b.checked} merge${b.checked === 1 ? '' : 's'} checked)`).join(', ') || 'no protected branch'
          print(
            audit.ok
              ? c.green(`ok: ${checked}`)
              : c.red(`${audit.problems.length} commit${audit.problems.length === 1 ? '' : 's'} without the approvals their rules required; ${checked}`),
          )
        }
        if (!audit.ok) process.exitCode = 1
        return
      }
      const progress = process.stderr.isTTY && !opts.json
      const r = await (await cli.repo()).verify({
        ...(opts.full ? { full: true } : {}),
        ...(opts.retainDays !== undefined ? { retainDays: Number(opts.retainDays) } : {}),
        ...(progress
          ? {
              onProgress: (p) =>
                process.stderr.write(`\rverify: ${p.commits} commits, ${p.nodes} tree nodes, ${p.dataObjects} data objects, ${p.problems} problems   `),
            }
          : {}),
      })
      if (progress) process.stderr.write('\n')
      if (opts.json) printJson(r)
      else {
        const c = colors()
        for (const p of r.problems)
          print(`${c.red(p.kind)} ${p.objectType} ${p.object}${p.path ? ` (${p.path})` : ''}${p.commit ? ` in commit ${p.commit.slice(0, 12)}` : ''}`)
        print(
          r.ok
            ? c.green(`ok: ${r.commits} commits, ${r.nodes} tree nodes, ${r.dataObjects} data objects`)
            : c.red(`${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`),
        )
        if (r.collectedDataObjects)
          print(
            `${r.collectedDataObjects} data object${r.collectedDataObjects === 1 ? '' : 's'} of commits outside the retention were collected by gc (not a problem; tag or pin what must stay readable)`,
          )
        if (r.notFetchedDataObjects)
          print(
            `${r.notFetchedDataObjects} data object${r.notFetchedDataObjects === 1 ? '' : 's'} not fetched by this partial or lazy clone (not a problem; verify fetches nothing)`,
          )
      }
      if (!r.ok) process.exitCode = 1
    })
}
