import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printNdjson, printTable, shortId } from '../output.js'

export function registerStatus(cli: Cli): void {
  cli.program
    .command('status <branch>')
    .description('uncommitted changes of a branch')
    .option('--json', 'NDJSON, one change per line')
    .action(async (branch: string, opts: JsonOption) => {
      const repo = await cli.repo()
      const c = colors()
      const b = await repo.getBranch(branch)
      const rows: string[][] = []
      for await (const ch of repo.uncommitted(branch)) {
        if (opts.json) printNdjson(ch)
        else rows.push([ch.type === 'added' ? c.green('added') : ch.type === 'removed' ? c.red('removed') : c.yellow('changed'), ch.path])
      }
      if (opts.json) return
      print(`On branch ${c.bold(branch)} at ${shortId(b.head)}`)
      if (!rows.length) return print('nothing to commit')
      printTable(rows)
    })
}
