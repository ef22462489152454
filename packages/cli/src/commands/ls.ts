import { parseAddress } from '../address.js'
import type { Cli, JsonOption } from '../cli.js'
import { colors, formatBytes, formatTime, printNdjson, printTable, shortId } from '../output.js'

export function registerLs(cli: Cli): void {
  cli.program
    .command('ls <address>')
    .description('list files and folders under a prefix (on a branch, including uncommitted changes)')
    .option('-r, --recursive', 'every file below, not just one level')
    .option('-l, --long', 'show size, time and address')
    .option('--json', 'NDJSON, one item per line')
    .addHelpText('after', '\nExamples:\n  varve ls main              (the same as main:)\n  varve ls -rl exp~2:train/')
    .action(async (address: string, opts: { recursive?: boolean; long?: boolean } & JsonOption) => {
      const { ref, path: prefix } = parseAddress(address, 'address', { bareRef: true })
      const repo = await cli.repo()
      const c = colors()
      const rows: string[][] = []
      for await (const item of repo.list(ref, { prefix, ...(opts.recursive ? {} : { delimiter: '/' }) })) {
        if (opts.json) printNdjson(item)
        else if (item.type === 'prefix') rows.push(opts.long ? ['', '', '', c.blue(item.path)] : [c.blue(item.path)])
        else rows.push(opts.long ? [formatBytes(item.size), formatTime(item.lastModified), c.yellow(shortId(item.address)), item.path] : [item.path])
      }
      if (!opts.json) printTable(rows)
    })
}
