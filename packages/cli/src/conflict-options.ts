import type { Command } from 'commander'
import {
  ErrorCodes,
  parseResolveFlag,
  VarveError,
  type Conflict,
  type ConflictRows,
  type Entry,
  type MergeResult,
  type MergeStrategy,
  type ResolveRule,
} from '@varve/core'
import { EXIT } from './exit-codes.js'
import { colors, formatBytes, print, printJson, printTable, shortId } from './output.js'

/** The flags merge, revert, cherry-pick and `mr merge` share to settle conflicts. */
export interface ConflictFlags {
  readonly strategy?: string
  readonly resolve?: string[]
  readonly dryRun?: boolean
}

const collectFlag = (value: string, previous: string[] = []) => [...previous, value]

export function addConflictOptions(cmd: Command, options: { dryRun?: boolean; strategyDefault?: boolean } = {}): Command {
  cmd
    .option('-s, --strategy <strategy>', 'conflicts no --resolve rule settles: fail | source-wins | dest-wins (default fail)')
    .option('--resolve <glob=side>', "settle the conflicts under a glob by taking one side, e.g. 'train/**=source' (repeatable; first match wins)", collectFlag)
  if (options.dryRun !== false) cmd.option('--dry-run', 'list the conflicts (both sides: size, address, time, Parquet rows) and run the gates, moving nothing')
  return cmd
}

export function conflictOptions(flags: ConflictFlags): { strategy?: MergeStrategy; resolve?: ResolveRule[] } {
  const strategy = flags.strategy
  if (strategy !== undefined && !['fail', 'source-wins', 'dest-wins'].includes(strategy))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, '--strategy must be fail, source-wins or dest-wins', { details: { usage: true } })
  const resolve = flags.resolve?.map(parseResolveFlag)
  return { ...(strategy ? { strategy: strategy as MergeStrategy } : {}), ...(resolve?.length ? { resolve } : {}) }
}

const side = (e: Entry | undefined, rows: number | undefined) =>
  e
    ? `${formatBytes(e.size)}${rows !== undefined ? `, ${rows} rows` : ''}, ${shortId(e.address)}, ${new Date(e.lastModified).toISOString().slice(0, 19)}Z`
    : '(none)'

/** Prints a dry run's result; exit code 3 when conflicts are left, as the real operation would fail. */
export function printDryRun(r: MergeResult, what: { operation: string; source: string; destination: string; json?: boolean }): void {
  const conflicts = r.conflicts ?? []
  if (conflicts.length) process.exitCode = EXIT.mergeConflict
  if (what.json)
    return printJson({
      dryRun: true,
      operation: what.operation,
      source: what.source,
      destination: what.destination,
      upToDate: r.upToDate,
      ...(conflicts.length ? {} : { commit: r.commit }),
      conflicts,
      resolved: r.resolved ?? [],
      gates: conflicts.length || r.upToDate ? null : { passed: true, runs: r.gateRuns ?? [] },
    })
  const c = colors()
  if (r.upToDate) return print(`${what.destination} already contains ${what.source}: nothing to ${what.operation}`)
  const rowsOf = (x: Conflict & { rows?: ConflictRows }, k: keyof ConflictRows) => x.rows?.[k]
  if (conflicts.length) {
    print(
      `${what.operation} of ${what.source} into ${c.bold(what.destination)} would conflict on ${conflicts.length} path${conflicts.length === 1 ? '' : 's'}:`,
    )
    printTable(
      conflicts.map((x) => [x.path, `${x.source}: ${side(x.sourceEntry, rowsOf(x, 'source'))}`, `${x.dest}: ${side(x.destEntry, rowsOf(x, 'dest'))}`]),
      { header: ['path', 'source', 'dest'] },
    )
  }
  const resolved = r.resolved ?? []
  if (resolved.length) {
    print(`${resolved.length} conflict${resolved.length === 1 ? '' : 's'} settled (${[...new Set(resolved.map((x) => x.by))].join(', ')}):`)
    printTable(resolved.map((x) => [x.path, `takes ${x.took}`, x.by]))
  }
  if (!conflicts.length)
    print(
      `${c.green('ok')}: ${what.operation} of ${what.source} into ${what.destination} would make ${shortId(r.commit.id)}; gates passed (${(r.gateRuns ?? []).length} run${(r.gateRuns ?? []).length === 1 ? '' : 's'}). Nothing moved.`,
    )
  else print('Nothing moved. Settle them with --resolve <glob>=source|dest or --strategy, then run it again.')
}
