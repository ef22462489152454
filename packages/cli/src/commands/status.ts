import type { UncommittedChange } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, formatBytes, print, printJson, printNdjson, printTable, shortId } from '../output.js'

/** Counts of a set of changes, and the bytes the added and changed entries hold. */
interface Tally {
  added: number
  changed: number
  removed: number
  bytes: number
}

const newTally = (): Tally => ({ added: 0, changed: 0, removed: 0, bytes: 0 })

function count(t: Tally, ch: UncommittedChange): void {
  t[ch.type]++
  t.bytes += ch.entry?.size ?? 0
}

/** "3 changes: 2 added, 1 removed (11.4 KiB staged)", the kinds with none left out. */
function summary(t: Tally): string {
  const n = t.added + t.changed + t.removed
  const kinds = (['added', 'changed', 'removed'] as const).filter((k) => t[k]).map((k) => `${t[k]} ${k}`)
  return `${n} change${n === 1 ? '' : 's'}: ${kinds.join(', ')}${t.added + t.changed ? ` (${formatBytes(t.bytes)} staged)` : ''}`
}

/** The folder a path is in (with its trailing '/'), or '' at the top. */
const folderOf = (p: string) => p.slice(0, p.lastIndexOf('/') + 1)

export function registerStatus(cli: Cli): void {
  cli.program
    .command('status <branch>')
    .description('uncommitted changes of a branch')
    .option('--stat', 'one line per folder (counts and bytes staged) instead of one per path')
    .option('--json', 'NDJSON, one change per line; a clean branch prints one document { branch, head, clean: true }')
    .addHelpText('after', '\nExamples:\n  varve status backfill\n  varve status backfill --stat\n  varve status backfill --json | jq -r .path')
    .action(async (branch: string, opts: JsonOption & { stat?: boolean }) => {
      const repo = await cli.repo()
      const c = colors()
      const b = await repo.getBranch(branch)
      const rows: string[][] = []
      const total = newTally()
      const byFolder = new Map<string, Tally>()
      for await (const ch of repo.uncommitted(branch)) {
        count(total, ch)
        if (opts.json) printNdjson(ch)
        else if (opts.stat) {
          const folder = folderOf(ch.path)
          let t = byFolder.get(folder)
          if (!t) byFolder.set(folder, (t = newTally()))
          count(t, ch)
        } else rows.push([ch.type === 'added' ? c.green('added') : ch.type === 'removed' ? c.red('removed') : c.yellow('changed'), ch.path])
      }
      const changes = total.added + total.changed + total.removed
      if (opts.json) return changes ? undefined : printJson({ branch, head: b.head, clean: true })
      print(`On branch ${c.bold(branch)} at ${shortId(b.head)}`)
      if (!changes) return print('nothing to commit')
      print(summary(total))
      if (opts.stat) {
        const stat = (t: Tally) => [c.green(`+${t.added}`), c.yellow(`~${t.changed}`), c.red(`-${t.removed}`), formatBytes(t.bytes)]
        return printTable([...byFolder].map(([folder, t]) => [folder || '/', ...stat(t)]))
      }
      printTable(rows)
    })
}
