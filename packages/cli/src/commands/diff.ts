import type { TableRow } from '@varve/core'
import { VarveError } from '@varve/core'
import type { Cli, JsonOption } from '../cli.js'
import { colors, formatBytes, print, printJson, printNdjson } from '../output.js'

interface DiffOptions extends JsonOption {
  stat?: boolean
  prefix?: string
  rows?: boolean
  key?: string[]
  positional?: boolean
  columns?: string
  schema?: boolean
}

/** Flags that may also follow the path, as in `varve diff a b -- train/ --rows --key id`. */
const FLAGS = new Set(['--rows', '--stat', '--json', '--schema', '--positional'])

export function registerDiff(cli: Cli): void {
  cli.program
    .command('diff <left> <right> [path...]')
    .description("differences between two refs' commits; with --rows, the rows of a Parquet table that changed")
    .option('--stat', 'counts and bytes, and per Parquet file its rows and column changes (from the footers); with --rows: row counts only')
    .option('--prefix <prefix>', 'only paths under a prefix (the same as a path after --)')
    .option('--json', 'NDJSON, one change per line (with --stat: one document)')
    .option('--rows', 'row-level diff of the Parquet file or folder (all its files as one table) given as path, matched by --key')
    .option('--key <columns>', 'the column(s) that identify a row, for --rows (comma-separated or repeated)', (v: string, prev: string[] = []) => [
      ...prev,
      ...v.split(',').filter(Boolean),
    ])
    .option('--positional', 'with --rows and no --key: match row i with row i (a table with no key)')
    .option('--columns <columns>', 'with --rows: the columns each row shows (comma-separated; default all)')
    .option('--schema', 'per Parquet file, only its column changes (from the footers)')
    .addHelpText(
      'after',
      '\nExamples:\n  varve diff main exp\n  varve diff main~1 main --stat\n  varve diff v1 v2 -- train/ --rows --key id\n  varve diff v1 v2 -- train/part-0.parquet --rows --key id --json | jq -c \'select(.type == "changed")\'\n  varve diff v1 v2 -- train/ --schema',
    )
    .action(async (left: string, right: string, operands: string[], opts: DiffOptions) => {
      const paths: string[] = []
      for (let i = 0; i < operands.length; i++) {
        const a = operands[i]!
        if (FLAGS.has(a)) (opts as Record<string, unknown>)[a.slice(2)] = true
        else if (a === '--key' || a === '--columns') {
          const v = operands[++i]
          if (v === undefined) throw new VarveError('INVALID_ARGUMENT', `${a} needs a value`)
          if (a === '--key') opts.key = [...(opts.key ?? []), ...v.split(',').filter(Boolean)]
          else opts.columns = v
        } else if (a.startsWith('--key=')) opts.key = [...(opts.key ?? []), ...a.slice(6).split(',').filter(Boolean)]
        else paths.push(a)
      }
      if (paths.length > 1 || (paths.length && opts.prefix !== undefined))
        throw new VarveError('INVALID_ARGUMENT', 'give one path (after --) or --prefix, not several')
      const path = paths[0] ?? opts.prefix
      if (opts.rows) return rowDiff(cli, left, right, path, opts)
      if (opts.schema) return schemaDiff(cli, left, right, path, opts)
      return fileDiff(cli, left, right, path, opts)
    })
}

async function fileDiff(cli: Cli, left: string, right: string, prefix: string | undefined, opts: DiffOptions): Promise<void> {
  const repo = await cli.repo()
  const c = colors()
  const stat = { added: 0, removed: 0, changed: 0, bytesAdded: 0, bytesRemoved: 0 }
  for await (const d of repo.diff(left, right, prefix ? { prefix } : {})) {
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
  for await (const t of repo.tableChangeStats(left, right, prefix ? { prefix } : {})) tables.push(t)
  if (opts.json) return printJson({ ...stat, tables })
  print(`${stat.added} added, ${stat.changed} changed, ${stat.removed} removed (+${formatBytes(stat.bytesAdded)}, -${formatBytes(stat.bytesRemoved)})`)
  for (const t of tables) {
    const { before, after } = t.rows
    const rows =
      before === undefined
        ? `${after ?? '?'} rows`
        : after === undefined
          ? `${before} rows removed`
          : before === after
            ? `${after} rows`
            : `rows ${before} → ${after} (${after > before ? '+' : ''}${after - before})`
    print(`  ${t.path}  ${rows}${columnChanges(t.columns)}${t.invalid ? `  ${c.red(`not valid Parquet: ${t.invalid}`)}` : ''}`)
  }
}

type Columns = {
  added: readonly { name: string; type: string }[]
  removed: readonly { name: string; type: string }[]
  changed: readonly { name: string; before: string; after: string }[]
}

function columnChanges(cols: Columns): string {
  const c = colors()
  const parts = [
    ...cols.added.map((col) => c.green(`+${col.name} ${col.type}`)),
    ...cols.removed.map((col) => c.red(`-${col.name} ${col.type}`)),
    ...cols.changed.map((col) => c.yellow(`~${col.name} ${col.before} → ${col.after}`)),
  ]
  return parts.length ? `  ${parts.join('  ')}` : ''
}

async function schemaDiff(cli: Cli, left: string, right: string, prefix: string | undefined, opts: DiffOptions): Promise<void> {
  const repo = await cli.repo()
  for await (const t of repo.tableChangeStats(left, right, prefix ? { prefix } : {})) {
    if (opts.json) printNdjson({ path: t.path, type: t.type, columns: t.columns, ...(t.invalid ? { invalid: t.invalid } : {}) })
    else if (t.invalid) print(`  ${t.path}  ${colors().red(`not valid Parquet: ${t.invalid}`)}`)
    else if (t.type !== 'changed') print(`  ${t.path}  ${t.type}`)
    else print(`  ${t.path}${columnChanges(t.columns) || '  same columns'}`)
  }
}

async function rowDiff(cli: Cli, left: string, right: string, path: string | undefined, opts: DiffOptions): Promise<void> {
  if (path === undefined)
    throw new VarveError('INVALID_ARGUMENT', 'diff --rows needs a Parquet file or folder: varve diff <left> <right> -- <path> --rows --key <column>')
  if (!opts.key?.length && !opts.positional)
    throw new VarveError('INVALID_ARGUMENT', 'diff --rows needs --key <column> (the column(s) that identify a row), or --positional (row by row)')
  const repo = await cli.repo()
  const c = colors()
  const columns = opts.columns?.split(',').filter(Boolean)
  for await (const r of repo.diffTable(left, right, path, {
    key: opts.key ?? [],
    ...(opts.positional ? { positional: true } : {}),
    ...(columns ? { columns } : {}),
  })) {
    if (opts.stat && r.type !== 'summary' && r.type !== 'schema') continue
    if (opts.json) {
      process.stdout.write(JSON.stringify(r, jsonValues) + '\n')
      continue
    }
    if (r.type === 'schema') {
      const changes = columnChanges(r)
      if (changes) print(`columns:${changes}`)
    } else if (r.type === 'summary') {
      print(`${r.added} added, ${r.removed} removed, ${r.changed} changed, ${r.unchanged} unchanged rows (${r.rows.before} → ${r.rows.after})`)
    } else if (r.type === 'added') print(c.green(`+ ${show(r.after)}`))
    else if (r.type === 'removed') print(c.red(`- ${show(r.before)}`))
    else print(c.yellow(`~ ${show(r.key)}  ${r.columns.map((col) => `${col}: ${value(r.before[col])} → ${value(r.after[col])}`).join(', ')}`))
  }
}

/** Values as JSON can carry them: integers as numbers when exact (else strings), bytes as base64. */
const jsonValues = (_k: string, v: unknown) =>
  typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v
const value = (v: unknown): string => JSON.stringify(v, jsonValues) ?? 'null'
const show = (row: TableRow): string =>
  Object.entries(row)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ')
