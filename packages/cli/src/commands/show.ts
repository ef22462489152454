import type { Cli, JsonOption } from '../cli.js'
import { colors, print, printJson } from '../output.js'
import { printCommit } from './log.js'

export function registerShow(cli: Cli): void {
  cli.program
    .command('show <commit>')
    .description('a commit: message, author, metadata (including the code that produced it) and its changes')
    .addHelpText('after', '\nExamples:\n  varve show main\n  varve show 3d49d868c40a --json | jq .changes')
    .option('--json', 'print the commit and its changes as JSON')
    .action(async (rev: string, opts: JsonOption) => {
      const repo = await cli.repo()
      const c = await repo.getCommit(rev)
      const changes = []
      if (c.parents[0]) for await (const d of repo.diff(c.parents[0], c.id)) changes.push({ path: d.path, type: d.type })
      if (opts.json) return printJson({ ...c, changes })
      printCommit(c)
      const meta = Object.entries(c.metadata).filter(([k]) => k !== 'code')
      if (meta.length) for (const [k, v] of meta) print(`    ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      const col = colors()
      for (const ch of changes) print(`${ch.type === 'added' ? col.green('+') : ch.type === 'removed' ? col.red('-') : col.yellow('~')} ${ch.path}`)
    })
}
