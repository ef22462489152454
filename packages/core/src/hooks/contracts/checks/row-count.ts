import { mapLimit } from '../../../util/map-limit.js'
import type { HookFinding } from '../../hook-types.js'
import type { CheckDefinition } from '../check-types.js'
import { fileGlob } from '../file-glob.js'

/** Rows per written file (min/max) and for all matching files after the change (totalMin/totalMax), from footers. */
export const rowCount: CheckDefinition = {
  keys: ['files', 'min', 'max', 'totalMin', 'totalMax'],
  compile: (f) => {
    const glob = fileGlob(f.str('files', true)!)
    const min = f.num('min')
    const max = f.num('max')
    const totalMin = f.num('totalMin')
    const totalMax = f.num('totalMax')
    if ([min, max, totalMin, totalMax].every((x) => x === undefined)) throw f.invalid('row-count needs min, max, totalMin or totalMax')
    return {
      type: 'row-count',
      async run(env) {
        const out: HookFinding[] = []
        if (min !== undefined || max !== undefined) {
          for (const { entry: e, footer } of await env.writtenFooters(glob.matches)) {
            const rows = Number(footer.metadata.num_rows)
            if (min !== undefined && rows < min) out.push({ file: e.path, reason: `has ${rows} rows, fewer than min ${min}` })
            if (max !== undefined && rows > max) out.push({ file: e.path, reason: `has ${rows} rows, more than max ${max}` })
          }
        }
        if (totalMin !== undefined || totalMax !== undefined) {
          const all = []
          for await (const e of env.listCandidate(glob.base)) if (glob.matches(e.path)) all.push(e)
          const total = (await mapLimit(all, 16, (e) => env.footer(e))).reduce((n, f) => n + Number(f.metadata.num_rows), 0)
          if (totalMin !== undefined && total < totalMin)
            out.push({ reason: `files matching ${f.str('files')} hold ${total} rows in all, fewer than totalMin ${totalMin}` })
          if (totalMax !== undefined && total > totalMax)
            out.push({ reason: `files matching ${f.str('files')} hold ${total} rows in all, more than totalMax ${totalMax}` })
        }
        return out
      },
    }
  },
}
