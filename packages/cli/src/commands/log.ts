import { ErrorCodes, VarveError, type Commit } from '@varve/core'
import { pathSpec } from '../address.js'
import type { Cli, JsonOption } from '../cli.js'
import { HistoryGraph } from '../graph.js'
import { colors, formatTime, print, printNdjson, shortId } from '../output.js'

interface LogFlags extends JsonOption {
  maxCount?: string
  oneline?: boolean
  firstParent?: boolean
  fullHistory?: boolean
  graph?: boolean
}

export function registerLog(cli: Cli): void {
  cli.program
    .command('log <ref> [path...]')
    .description('commits reachable from a ref, newest first; with -- <path>, those that changed something under it')
    .option('-n, --max-count <n>', 'at most n commits')
    .option('--oneline', 'one line per commit')
    .option('--first-parent', 'follow only the first parent')
    .option('--full-history', 'with a path: follow every parent, not just the first')
    .option('--graph', 'draw the branches and merges beside the commits (one line each)')
    .option('--json', 'NDJSON, one commit per line')
    .addHelpText(
      'after',
      '\nExamples:\n  varve log main --oneline -n 20\n  varve log main -- train/day=1/      (commits that changed anything under it)\n' +
        '  varve log main --graph\n  varve log v1 --json | jq -r .id',
    )
    .action(async (ref: string, paths: string[], opts: LogFlags) => {
      if (paths.length > 1) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'log takes one path (a file or a folder)', { details: { usage: true } })
      const repo = await cli.repo()
      const limit = opts.maxCount === undefined ? undefined : positiveCount(opts.maxCount)
      const path = paths[0] === undefined ? undefined : await pathSpec(repo, ref, paths[0])
      // A path's history follows the branch's own line by default, as `git log --first-parent -- path`.
      const firstParent = opts.firstParent || (path !== undefined && !opts.fullHistory)
      const graph = opts.graph && !opts.json ? new HistoryGraph() : undefined
      const commits = repo.log(ref, {
        ...(limit ? { limit } : {}),
        ...(firstParent ? { firstParent: true } : {}),
        ...(path !== undefined ? { prefix: path } : {}),
      })
      for await (const c of commits) {
        if (opts.json) printNdjson(c)
        else if (graph) {
          const { before, row, after } = graph.next(c)
          for (const line of before) print(line)
          print(`${row} ${onelineOf(c)}`)
          for (const line of after) print(line)
        } else if (opts.oneline) print(onelineOf(c))
        else printCommit(c)
      }
    })
}

const onelineOf = (c: Commit) => `${colors().yellow(shortId(c.id))} ${c.parents.length > 1 ? 'merge ' : ''}${c.message.split('\n')[0]}`

/** A -n value: a positive whole number, else a usage error (exit 2). */
function positiveCount(text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `-n wants a positive whole number, not ${JSON.stringify(text)}`, { details: { usage: true } })
  return n
}

export function printCommit(c: Commit): void {
  const col = colors()
  print(col.yellow(`commit ${c.id}`))
  if (c.parents.length > 1) print(`Merge:  ${c.parents.map(shortId).join(' ')}`)
  print(`Author: ${c.author}`)
  // Someone else made the commit (through varve serve: the access key), as git's author/committer split.
  if (c.committer !== undefined) print(`Commit: ${c.committer}`)
  print(`Date:   ${formatTime(c.createdAt)}`)
  const code = c.metadata.code as { repo?: string; commit?: string; branch?: string; dirty?: boolean } | undefined
  if (code?.commit) print(`Code:   ${code.repo} ${code.commit.slice(0, 12)}${code.branch ? ` (${code.branch})` : ''}${code.dirty ? ' dirty' : ''}`)
  print('')
  for (const line of c.message.split('\n')) print(`    ${line}`)
  print('')
}
