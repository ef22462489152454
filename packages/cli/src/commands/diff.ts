import type { Cli, JsonOption } from '../cli.js'
import { colors, formatBytes, print, printJson, printNdjson } from '../output.js'

export function registerDiff(cli: Cli): void {
  cli.program
    .command('diff <left> <right>')
    .description('differences between two refs\' commits')
    .option('--stat', 'counts and bytes only')
    .option('--prefix <prefix>', 'only paths under a prefix')
    .option('--json', 'NDJSON, one change per line (with --stat: one document)')
    .addHelpText('after', '\nExamples:\n  varve diff main exp\n  varve diff main~1 main --stat')
    .action(async (left: string, right: string, opts: { stat?: boolean; prefix?: string } & JsonOption) => {
      const repo = await cli.repo()
      const c = colors()
      const stat = { added: 0, removed: 0, changed: 0, bytesAdded: 0, bytesRemoved: 0 }
      for await (const d of repo.diff(left, right, opts.prefix ? { prefix: opts.prefix } : {})) {
        stat[d.type]++
        stat.bytesAdded += d.right?.size ?? 0
        stat.bytesRemoved += d.left?.size ?? 0
        if (opts.stat) continue
        if (opts.json) printNdjson({ path: d.path, type: d.type, left: d.left, right: d.right })
        else print(`${d.type === 'added' ? c.green('+ added  ') : d.type === 'removed' ? c.red('- removed') : c.yellow('~ changed')} ${d.path}`)
      }
      if (!opts.stat) return
      if (opts.json) return printJson(stat)
      print(`${stat.added} added, ${stat.changed} changed, ${stat.removed} removed (+${formatBytes(stat.bytesAdded)}, -${formatBytes(stat.bytesRemoved)})`)
    })
}
