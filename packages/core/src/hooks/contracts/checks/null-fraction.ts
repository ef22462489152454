import { describeSchema, nullCount } from '../../../parquet/parquet-schema.js'
import type { HookFinding } from '../../hook-types.js'
import type { CheckDefinition } from '../check-types.js'
import { fileGlob } from '../file-glob.js'

/**
 * At most a fraction of nulls per column: `columns: { score: 0.01 }`, or `max` for every listed/all
 * columns. Uses footer statistics; reads the column only when a writer left them out.
 */
export const nullFraction: CheckDefinition = {
  keys: ['files', 'columns', 'max'],
  compile: (f) => {
    const glob = fileGlob(f.str('files', true)!)
    const perColumn = f.map('columns') ?? {}
    const fallback = f.num('max')
    for (const [c, v] of Object.entries(perColumn))
      if (typeof v !== 'number' || v < 0 || v > 1) throw f.invalid(`column ${c}: the fraction must be a number from 0 to 1`, ['columns', c])
    if (fallback === undefined && Object.keys(perColumn).length === 0) throw f.invalid('null-fraction needs columns: { name: fraction } or max')
    return {
      type: 'null-fraction',
      async run(env) {
        const out: HookFinding[] = []
        for (const { entry: e, footer } of await env.writtenFooters(glob.matches)) {
          const { metadata } = footer
          const rows = Number(metadata.num_rows)
          if (rows === 0) continue
          // `max` alone covers the file's top-level columns (a list or struct is one column: its own
          // nulls, not its leaves named element, key, value or a field's name).
          const names =
            fallback !== undefined && Object.keys(perColumn).length === 0 ? describeSchema(metadata).columns.map((c) => c.name) : Object.keys(perColumn)
          for (const name of names) {
            const limit = (perColumn[name] as number | undefined) ?? fallback!
            let nulls = nullCount(metadata, name)
            if (nulls === undefined) {
              const col = (await env.scanColumns(e, [name], { duplicates: false }))[name]!
              if (!col.present) {
                out.push({ file: e.path, reason: `column ${name} is missing` })
                continue
              }
              nulls = col.nullCount
            }
            const frac = nulls / rows
            if (frac > limit)
              out.push({
                file: e.path,
                reason: `column ${name} is ${(frac * 100).toFixed(2)}% null (${nulls} of ${rows}), more than ${(limit * 100).toFixed(2)}%`,
              })
          }
        }
        return out
      },
    }
  },
}
