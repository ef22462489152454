import type { Cli, JsonOption } from '../cli.js'
import { colors, formatTime, printNdjson, printTable, shortId } from '../output.js'

export function registerReflog(cli: Cli): void {
  cli.program
    .command('reflog <ref>')
    .description('every move of a branch (or tag), newest first: who, when, from which commit to which')
    .option('-n, --max-count <n>', 'at most n moves')
    .option('--json', 'NDJSON, one move per line')
    .addHelpText('after', '\nExamples:\n  varve reflog main\n  varve reflog main --json | jq -r \'select(.operation == "reset") | .old\'')
    .action(async (ref: string, opts: { maxCount?: string } & JsonOption) => {
      const repo = await cli.repo()
      const c = colors()
      const rows: string[][] = []
      const limit = opts.maxCount === undefined ? undefined : Math.max(1, Number(opts.maxCount) || 1)
      const show = (id: string | null) => (id ? shortId(id) : '-')
      for await (const r of repo.refLog(ref, limit ? { limit } : {})) {
        if (opts.json) printNdjson(r)
        else rows.push([formatTime(r.at), r.operation, `${c.yellow(show(r.old))} -> ${c.yellow(show(r.new))}`, r.author, r.message?.split('\n')[0] ?? ''])
      }
      if (!opts.json) printTable(rows)
    })
}
