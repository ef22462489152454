import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printJson, shortId } from '../output.js'
import { addConflictOptions, conflictOptions, printDryRun, type ConflictFlags } from '../conflict-options.js'

export function registerRollback(cli: Cli): void {
  addConflictOptions(
    cli.program
      .command('revert <branch> <commit>')
      .description('a new commit on the branch that undoes a commit (exit 3 on conflict: paths the branch changed since)'),
  )
    .addHelpText(
      'after',
      "\nExamples:\n  varve revert main 3d49d868c40a\n  varve revert rollback 3d49d868c40a --parent 1   (a merge commit: undo what it brought in)\n  varve revert main 3d49d868c40a --dry-run\n  varve revert main 3d49d868c40a --resolve 'train/**=source'   (source: the reverted state; dest: the branch)",
    )
    .option('--parent <n>', 'for a merge commit: the parent to revert to (default 1)')
    .option('--json', 'print the new commit as JSON')
    .action(async (branch: string, rev: string, opts: { parent?: string } & ConflictFlags & JsonOption) => {
      const settle = conflictOptions(opts)
      const repo = await cli.repo()
      const base = { ...settle, ...(opts.parent ? { parent: Number(opts.parent) } : {}) }
      if (opts.dryRun)
        return printDryRun(await repo.revert(branch, rev, { ...base, dryRun: true }), {
          operation: 'revert',
          source: rev,
          destination: branch,
          json: !!opts.json,
        })
      const c = await repo.revert(branch, rev, base)
      if (opts.json) return printJson(c)
      print(`[${colors().bold(branch)} ${shortId(c.id)}] ${c.message}`)
    })
  cli.program
    .command('reset <branch> <commit>')
    .description('move a branch to a commit (rollback), recorded in the ref log')
    .addHelpText('after', '\nExamples:\n  varve reset exp main~2\n  varve reset exp exp --discard-changes   (drop the uncommitted changes only)')
    .option('--discard-changes', "drop the branch's uncommitted changes")
    .option('--json', 'print the result as JSON')
    .action(async (branch: string, rev: string, opts: { discardChanges?: boolean } & JsonOption) => {
      const repo = await cli.repo()
      const before = await repo.resolve(branch)
      const r = await repo.reset(branch, rev, opts.discardChanges ? { discardChanges: true } : {})
      if (opts.json) return printJson({ ...r, previous: before })
      print(`${colors().bold(branch)} moved from ${shortId(before)} to ${shortId(r.head)}`)
    })
  addConflictOptions(
    cli.program.command('cherry-pick <branch> <commit>').description("a new commit on the branch that applies one commit's changes (exit 3 on conflict)"),
  )
    .addHelpText(
      'after',
      "\nExamples:\n  varve cherry-pick main fix-labels\n  varve cherry-pick release 3d49d868c40a\n  varve cherry-pick release 3d49d868c40a --dry-run --resolve '*=source'",
    )
    .option('--json', 'print the new commit as JSON')
    .action(async (branch: string, rev: string, opts: ConflictFlags & JsonOption) => {
      const settle = conflictOptions(opts)
      const repo = await cli.repo()
      if (opts.dryRun)
        return printDryRun(await repo.cherryPick(branch, rev, { ...settle, dryRun: true }), {
          operation: 'cherry-pick',
          source: rev,
          destination: branch,
          json: !!opts.json,
        })
      const c = await repo.cherryPick(branch, rev, settle)
      if (opts.json) return printJson(c)
      print(`[${colors().bold(branch)} ${shortId(c.id)}] ${c.message}`)
    })
}
