import { nullCount } from '../../../parquet/parquet-schema.js'
import { columnsOf, fieldAt, formatType, parseType, typeMatches, TypeSyntaxError, TYPE_NAMES, type ParquetType } from '../../../parquet/parquet-types.js'
import type { HookFinding } from '../../hook-types.js'
import type { CheckDefinition } from '../check-types.js'
import { fileGlob } from '../file-glob.js'

interface ColumnRule {
  type?: ParquetType
  nullable?: boolean
}

/**
 * Files matching a glob are valid Parquet with the given columns and types; reads footers only (and a
 * column's data only to count the nulls of a nested column). A column is a top-level name or a
 * dotted path to a nested field (`st.a`, `lst.element`, `m.key`); a type is coarse (`timestamp`) or
 * precise in pyarrow's spelling (`timestamp[ms, tz=UTC]`, `decimal128(10, 2)`, `list<int32>`).
 */
export const parquetSchema: CheckDefinition = {
  keys: ['files', 'columns', 'allowExtraColumns'],
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
      if (r.nullable !== undefined && typeof r.nullable !== 'boolean')
        throw f.invalid(`column ${name}: nullable must be true or false`, ['columns', name, 'nullable'])
      let type: ParquetType | undefined
      if (typeof r.type === 'string')
        try {
          type = parseType(r.type)
        } catch (err) {
          if (!(err instanceof TypeSyntaxError)) throw err
          throw f.invalid(
            `column ${name}: ${err.message} (types: ${TYPE_NAMES.join(', ')}, precise as pyarrow spells them, e.g. timestamp[ms, tz=UTC], decimal128(10, 2), list<int32>)`,
            ['columns', name, 'type'],
          )
        }
      columns.set(name, { ...(type ? { type } : {}), ...(r.nullable !== undefined ? { nullable: r.nullable as boolean } : {}) })
    }
    const allowExtra = f.bool('allowExtraColumns') ?? true
    return {
      type: 'parquet-schema',
      async run(env) {
        const out: HookFinding[] = []
        for (const { entry: e, footer } of await env.writtenFooters(glob.matches)) {
          const { metadata } = footer
          const fields = columnsOf(metadata.schema)
          for (const [name, rule] of columns) {
            const field = fieldAt(fields, name)
            if (!field) {
              out.push({ file: e.path, reason: `column ${name} is missing` })
              continue
            }
            if (rule.type && !typeMatches(rule.type, field.type))
              out.push({ file: e.path, reason: `column ${name} has type ${formatType(field.type)}, expected ${formatType(rule.type)}` })
            if (rule.nullable === false && field.nullable) {
              if (name.includes('.')) {
                // a nested field's own nulls are not counted apart from its parents': its declaration decides
                out.push({ file: e.path, reason: `column ${name} is declared nullable, expected non-nullable` })
                continue
              }
              // Declared optional is fine when it holds no nulls: counted from the footer, or for a
              // nested column (whose own nulls no statistic counts) or a file without statistics, by
              // reading that column. A file of no rows holds none.
              let nulls = Number(metadata.num_rows) === 0 ? 0 : nullCount(metadata, name)
              nulls ??= (await env.scanColumns(e, [name], { duplicates: false }))[name]!.nullCount
              if (nulls !== 0)
                out.push({ file: e.path, reason: `column ${name} is nullable and holds ${nulls} null${nulls === 1 ? '' : 's'}, expected non-nullable` })
            }
          }
          if (!allowExtra) {
            const listed = new Set([...columns.keys()].map((c) => c.split('.')[0]!))
            for (const c of fields) if (!listed.has(c.name)) out.push({ file: e.path, reason: `column ${c.name} is not allowed (allowExtraColumns: false)` })
          }
        }
        return out
      },
    }
  },
}
