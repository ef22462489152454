import { describeSchema, KNOWN_TYPES, normaliseType, nullCount } from '../../../parquet/parquet-schema.js'
import type { HookFinding } from '../../hook-types.js'
import type { CheckDefinition } from '../check-types.js'
import { fileGlob } from '../file-glob.js'

interface ColumnRule {
  type?: string
  nullable?: boolean
}

/** Files matching a glob are valid Parquet with the given columns and types; reads footers only. */
export const parquetSchema: CheckDefinition = {
  keys: ["files", "columns", "allowExtraColumns"],
  compile: (f) => {
  const glob = fileGlob(f.str('files', true)!)
  const raw = f.map('columns', true)!
  const columns = new Map<string, ColumnRule>()
  for (const [name, rule] of Object.entries(raw)) {
    if (rule === null || rule === undefined) {
      columns.set(name, {})
      continue
    }
    if (typeof rule !== 'object' || Array.isArray(rule)) throw f.invalid(`column ${name}: expected { type, nullable }`, ['columns', name])
    const r = rule as Record<string, unknown>
    for (const k of Object.keys(r)) if (k !== 'type' && k !== 'nullable') throw f.invalid(`column ${name}: unknown key ${k}`, ['columns', name, k])
    if (r.type !== undefined && typeof r.type !== 'string') throw f.invalid(`column ${name}: type must be a string`, ['columns', name, 'type'])
    if (r.nullable !== undefined && typeof r.nullable !== 'boolean') throw f.invalid(`column ${name}: nullable must be true or false`, ['columns', name, 'nullable'])
    if (typeof r.type === 'string' && !KNOWN_TYPES.has(normaliseType(r.type)))
      throw f.invalid(`column ${name}: unknown type ${JSON.stringify(r.type)} (known: ${[...KNOWN_TYPES].join(', ')}; aliases utf8, float64, float32, bool)`, ['columns', name, 'type'])
    columns.set(name, { ...(r.type ? { type: normaliseType(r.type as string) } : {}), ...(r.nullable !== undefined ? { nullable: r.nullable as boolean } : {}) })
  }
  const allowExtra = f.bool('allowExtraColumns') ?? true
  return {
    type: 'parquet-schema',
    async run(env) {
      const out: HookFinding[] = []
      for (const { entry: e, footer } of await env.writtenFooters(glob.matches)) {
        const { metadata } = footer
        const schema = describeSchema(metadata)
        const actual = new Map(schema.columns.map((c) => [c.name, c]))
        for (const [name, rule] of columns) {
          const col = actual.get(name)
          if (!col) {
            out.push({ file: e.path, reason: `column ${name} is missing` })
            continue
          }
          if (rule.type && col.type !== rule.type) out.push({ file: e.path, reason: `column ${name} has type ${col.type}, expected ${rule.type}` })
          if (rule.nullable === false && col.nullable) {
            // Declared optional is fine when it holds no nulls: counted from the footer, or for a
            // nested column (whose own nulls no statistic counts) or a file without statistics, by
            // reading that column. A file of no rows holds none.
            let nulls = schema.numRows === 0 ? 0 : nullCount(metadata, name)
            nulls ??= (await env.scanColumns(e, [name], { duplicates: false }))[name]!.nullCount
            if (nulls !== 0) out.push({ file: e.path, reason: `column ${name} is nullable and holds ${nulls} null${nulls === 1 ? '' : 's'}, expected non-nullable` })
          }
        }
        if (!allowExtra)
          for (const c of schema.columns) if (!columns.has(c.name)) out.push({ file: e.path, reason: `column ${c.name} is not allowed (allowExtraColumns: false)` })
      }
      return out
    },
  }
  },
}
