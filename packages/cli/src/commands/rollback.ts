import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printJson, shortId } from '../output.js'

export function registerRollback(cli: Cli): void {
  cli.program
    .command('revert <branch> <commit>')
    .description('a new commit on the branch that undoes a commit')
    .addHelpText('after', '\nExamples:\n  varve revert main 3d49d868c40a\n  varve revert rollback 3d49d868c40a --parent 1   (a merge commit: undo what it brought in)')
    .option('--parent <n>', 'for a merge commit: the parent to revert to (default 1)')
    .option('--json', 'print the new commit as JSON')
    .action(async (branch: string, rev: string, opts: { parent?: string } & JsonOption) => {
      const c = await (await cli.repo()).revert(branch, rev, opts.parent ? { parent: Number(opts.parent) } : {})
      if (opts.json) return printJson(c)
      print(`[${colors().bold(branch)} ${shortId(c.id)}] ${c.message}`)
    })
  cli.program
    .command('reset <branch> <commit>')
    .description('move a branch to a commit (rollback), recorded in the ref log')
    .addHelpText('after', '\nExamples:\n  varve reset exp main~2\n  varve reset exp exp --discard-changes   (drop the uncommitted changes only)')
    .option('--discard-changes', 'drop the branch\'s uncommitted changes')
    .option('--json', 'print the result as JSON')
    .action(async (branch: string, rev: string, opts: { discardChanges?: boolean } & JsonOption) => {
      const repo = await cli.repo()
      const before = await repo.resolve(branch)
      const r = await repo.reset(branch, rev, opts.discardChanges ? { discardChanges: true } : {})
      if (opts.json) return printJson({ ...r, previous: before })
      print(`${colors().bold(branch)} moved from ${shortId(before)} to ${shortId(r.head)}`)
    })
  cli.program
    .command('cherry-pick <branch> <commit>')
    .description('a new commit on the branch that applies one commit\'s changes')
    .addHelpText('after', '\nExamples:\n  varve cherry-pick main fix-labels\n  varve cherry-pick release 3d49d868c40a')
    .option('--json', 'print the new commit as JSON')
    .action(async (branch: string, rev: string, opts: JsonOption) => {
      const c = await (await cli.repo()).cherryPick(branch, rev)
      if (opts.json) return printJson(c)
      print(`[${colors().bold(branch)} ${shortId(c.id)}] ${c.message}`)
    })
}
