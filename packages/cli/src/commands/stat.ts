import { parseAddress } from '../address.js'
import type { Cli, JsonOption } from '../cli.js'
import { formatBytes, formatTime, print, printJson } from '../output.js'

export function registerStat(cli: Cli): void {
  cli.program
    .command('stat <address>')
    .description("one file's entry: size, content address, time, content type, metadata (on a branch, including uncommitted changes)")
    .option('--json', 'print the entry as JSON')
    .addHelpText('after', '\nExamples:\n  varve stat main:train/part-0.parquet\n  varve stat v1:train/part-0.parquet --json | jq -r .address')
    .action(async (address: string, opts: JsonOption) => {
      const { ref, path } = parseAddress(address)
      const e = await (await cli.repo()).stat(ref, path)
      if (opts.json) return printJson(e)
      print(`path          ${e.path}`)
      print(`size          ${e.size} (${formatBytes(e.size)})`)
      print(`address       sha256:${e.address}`)
      print(`modified      ${formatTime(e.lastModified)}`)
      if (e.contentType) print(`content type  ${e.contentType}`)
      if (e.pack) print(`stored in     pack ${e.pack} at ${e.offset}`)
      for (const [k, v] of Object.entries(e.metadata ?? {})) print(`metadata      ${k}: ${v}`)
    })
}
