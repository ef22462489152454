import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printJson, printNdjson, printTable, shortId } from '../output.js'

export function registerStatus(cli: Cli): void {
  cli.program
    .command('status <branch>')
    .description('uncommitted changes of a branch')
    .option('--json', 'NDJSON, one change per line; a clean branch prints one document { branch, head, clean: true }')
    .addHelpText('after', '\nExamples:\n  varve status backfill\n  varve status backfill --json | jq -r .path')
    .action(async (branch: string, opts: JsonOption) => {
      const repo = await cli.repo()
      const c = colors()
      const b = await repo.getBranch(branch)
      const rows: string[][] = []
      let changes = 0
      for await (const ch of repo.uncommitted(branch)) {
        changes++
        if (opts.json) printNdjson(ch)
        else rows.push([ch.type === 'added' ? c.green('added') : ch.type === 'removed' ? c.red('removed') : c.yellow('changed'), ch.path])
      }
      if (opts.json) return changes ? undefined : printJson({ branch, head: b.head, clean: true })
      print(`On branch ${c.bold(branch)} at ${shortId(b.head)}`)
      if (!rows.length) return print('nothing to commit')
      printTable(rows)
    })
}
