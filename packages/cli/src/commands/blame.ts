import { parseAddress, pathSpec } from '../address.js'
import type { Cli, JsonOption } from '../cli.js'
import { colors, formatTime, print, printNdjson, shortId } from '../output.js'

export function registerBlame(cli: Cli): void {
  cli.program
    .command('blame <address>')
    .description('for each file under a prefix, the commit that last changed it (first-parent history)')
    .option('--json', 'NDJSON, one file per line: path, commit, author, createdAt, message, address, size')
    .addHelpText(
      'after',
      '\nLines stream as each file is settled, newest commits first; pipe to sort for path order.\n\n' +
        "Examples:\n  varve blame main:train/\n  varve blame v1:train/day=1 --json | jq -r '[.commit, .path] | @tsv'",
    )
    .action(async (address: string, opts: JsonOption) => {
      const parsed = parseAddress(address, 'address', { bareRef: true })
      const repo = await cli.repo()
      const prefix = await pathSpec(repo, parsed.ref, parsed.path)
      const c = colors()
      for await (const line of repo.blame(parsed.ref, prefix)) {
        const { commit, entry } = line
        if (opts.json)
          printNdjson({
            path: line.path,
            commit: commit.id,
            author: commit.author,
            createdAt: commit.createdAt,
            message: commit.message,
            address: entry.address,
            size: entry.size,
          })
        else print(`${c.yellow(shortId(commit.id))}  ${formatTime(commit.createdAt)}  ${commit.author}  ${line.path}`)
      }
    })
}
