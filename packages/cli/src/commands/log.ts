import { ErrorCodes, VarveError, type Commit } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, formatTime, print, printNdjson, shortId } from '../output.js'

export function registerLog(cli: Cli): void {
  cli.program
    .command('log <ref>')
    .description('commits reachable from a ref, newest first')
    .option('-n, --max-count <n>', 'at most n commits')
    .option('--oneline', 'one line per commit')
    .option('--first-parent', 'follow only the first parent')
    .option('--json', 'NDJSON, one commit per line')
    .addHelpText('after', '\nExamples:\n  varve log main --oneline -n 20\n  varve log v1 --json | jq -r .id')
    .action(async (ref: string, opts: { maxCount?: string; oneline?: boolean; firstParent?: boolean } & JsonOption) => {
      const repo = await cli.repo()
      const limit = opts.maxCount === undefined ? undefined : positiveCount(opts.maxCount)
      for await (const c of repo.log(ref, { ...(limit ? { limit } : {}), ...(opts.firstParent ? { firstParent: true } : {}) })) {
        if (opts.json) printNdjson(c)
        else if (opts.oneline) print(`${colors().yellow(shortId(c.id))} ${c.parents.length > 1 ? 'merge ' : ''}${c.message.split('\n')[0]}`)
        else printCommit(c)
      }
    })
}

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
  print(`Date:   ${formatTime(c.createdAt)}`)
  const code = c.metadata.code as { repo?: string; commit?: string; branch?: string; dirty?: boolean } | undefined
  if (code?.commit) print(`Code:   ${code.repo} ${code.commit.slice(0, 12)}${code.branch ? ` (${code.branch})` : ''}${code.dirty ? ' dirty' : ''}`)
  print('')
  for (const line of c.message.split('\n')) print(`    ${line}`)
  print('')
}
