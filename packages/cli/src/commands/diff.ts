import type { Cli, JsonOption } from '../cli.js'
import { colors, formatBytes, print, printJson, printNdjson } from '../output.js'

export function registerDiff(cli: Cli): void {
  cli.program
    .command('diff <left> <right>')
    .description('differences between two refs\' commits')
    .option('--stat', 'counts and bytes, and per Parquet file its rows and column changes (from the footers)')
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
      // Per Parquet file: rows and columns from the two footers (a few KiB of each file).
      const tables = []
      for await (const t of repo.tableChangeStats(left, right, opts.prefix ? { prefix: opts.prefix } : {})) tables.push(t)
      if (opts.json) return printJson({ ...stat, tables })
      print(`${stat.added} added, ${stat.changed} changed, ${stat.removed} removed (+${formatBytes(stat.bytesAdded)}, -${formatBytes(stat.bytesRemoved)})`)
      for (const t of tables) {
        const { before, after } = t.rows
        const rows =
          before === undefined ? `${after ?? '?'} rows` : after === undefined ? `${before} rows removed` : before === after ? `${after} rows` : `rows ${before} → ${after} (${after > before ? '+' : ''}${after - before})`
        const columns = [
          ...t.columns.added.map((col) => c.green(`+${col.name} ${col.type}`)),
          ...t.columns.removed.map((col) => c.red(`-${col.name} ${col.type}`)),
          ...t.columns.changed.map((col) => c.yellow(`~${col.name} ${col.before} → ${col.after}`)),
        ]
        print(`  ${t.path}  ${rows}${columns.length ? `  ${columns.join('  ')}` : ''}${t.invalid ? `  ${c.red(`not valid Parquet: ${t.invalid}`)}` : ''}`)
      }
    })
}
