import type { Repository } from '@varve/core'
import { VarveError, ErrorCodes } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printJson, shortId } from '../output.js'
import { addConflictOptions, conflictOptions, printDryRun, type ConflictFlags } from '../conflict-options.js'

export function registerMerge(cli: Cli): void {
  const cmd = cli.program
    .command('merge <source> <destination>')
    .description('three-way merge of a ref into a branch, through the pre-merge gates (exit 3 on conflict, 4 when a gate refuses or approvals are missing)')
  addConflictOptions(cmd)
    .option('-m, --message <message>', 'the merge commit message')
    .option('--json', 'print the result as JSON (on a conflict: the conflicting paths; on a refused gate: the failures)')
    .addHelpText(
      'after',
      "\nExamples:\n  varve merge backfill main\n  varve merge exp main --dry-run\n  varve merge exp main --resolve 'train/**=source' --resolve 'config/*=dest'\n  varve merge exp main --strategy source-wins\n\nOnly committed changes merge: a source branch's uncommitted changes stay on it (a warning says so).\nA branch that requires approvals takes merges through merge requests: varve mr open <source> <branch> -t <title>.",
    )
    .action(async (source: string, dest: string, opts: ConflictFlags & { message?: string } & JsonOption) => {
      const settle = conflictOptions(opts)
      const repo = await cli.repo()
      const warnings: string[] = []
      if (await hasUncommitted(repo, source))
        warnings.push(`${source} has uncommitted changes; they are not merged (commit them first: varve commit ${source} -m <message>)`)
      if (!opts.json) for (const w of warnings) process.stderr.write(`${colors().yellow('warning')}: ${w}\n`)
      if (opts.dryRun)
        return printDryRun(await repo.merge(source, dest, { ...settle, dryRun: true }), { operation: 'merge', source, destination: dest, json: !!opts.json })
      let r
      try {
        r = await repo.merge(source, dest, { ...settle, ...(opts.message ? { message: opts.message } : {}) })
      } catch (err) {
        if (opts.json) printRefusal(err, source, dest, warnings)
        throw err
      }
      if (opts.json) return printJson({ merged: !r.upToDate, ...r, ...(warnings.length ? { warnings } : {}) })
      if (r.upToDate) return print(`${dest} already contains ${source}`)
      print(`Merged ${source} into ${colors().bold(dest)}: ${shortId(r.commit.id)}`)
    })
}

/** Whether `source` is a branch with staged changes (a tag, a commit or `main~2` has none). */
async function hasUncommitted(repo: Repository, source: string): Promise<boolean> {
  try {
    return (await repo.getBranch(source)).dirty
  } catch {
    return false
  }
}

/** With --json, a refused merge still prints its result on stdout: what conflicted, or which gate said no. */
function printRefusal(err: unknown, source: string, destination: string, warnings: string[]): void {
  const extra = warnings.length ? { warnings } : {}
  if (VarveError.is(err, ErrorCodes.MERGE_CONFLICT))
    printJson({ merged: false, source, destination, conflicts: (err.details as { conflicts?: unknown[] }).conflicts ?? [], ...extra })
  else if (VarveError.is(err, ErrorCodes.HOOK_FAILED)) {
    const d = err.details as { event?: string; runId?: string; failures?: unknown[] }
    printJson({ merged: false, source, destination, gate: { event: d.event, runId: d.runId, failures: d.failures ?? [] }, ...extra })
  }
}
