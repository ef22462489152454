import type { MergeStrategy } from '@varve/core'
import { VarveError, ErrorCodes } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printJson, shortId } from '../output.js'

export function registerMerge(cli: Cli): void {
  cli.program
    .command('merge <source> <destination>')
    .description('three-way merge of a ref into a branch, through the pre-merge gates (exit 3 on conflict, 4 when a gate refuses)')
    .option('-s, --strategy <strategy>', 'fail | source-wins | dest-wins', 'fail')
    .option('-m, --message <message>', 'the merge commit message')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  varve merge backfill main\n  varve merge exp main --strategy source-wins')
    .action(async (source: string, dest: string, opts: { strategy: string; message?: string } & JsonOption) => {
      if (!['fail', 'source-wins', 'dest-wins'].includes(opts.strategy))
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `--strategy must be fail, source-wins or dest-wins`, { details: { usage: true } })
      const r = await (await cli.repo()).merge(source, dest, { strategy: opts.strategy as MergeStrategy, ...(opts.message ? { message: opts.message } : {}) })
      if (opts.json) return printJson(r)
      if (r.upToDate) return print(`${dest} already contains ${source}`)
      print(`Merged ${source} into ${colors().bold(dest)}: ${shortId(r.commit.id)}`)
    })
}
