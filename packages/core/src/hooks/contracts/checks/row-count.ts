import type { HookFinding } from '../../hook-types.js'
import type { CheckDefinition } from '../check-types.js'
import { fileGlob } from '../file-glob.js'

/** Rows per written file (min/max) and for all matching files after the change (totalMin/totalMax), from footers. */
export const rowCount: CheckDefinition = {
  keys: ["files", "min", "max", "totalMin", "totalMax"],
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
      if (min !== undefined || max !== undefined)
        for (const e of env.written) {
          if (!glob.matches(e.path)) continue
          const rows = Number((await env.footer(e)).metadata.num_rows)
          if (min !== undefined && rows < min) out.push({ file: e.path, reason: `has ${rows} rows, fewer than min ${min}` })
          if (max !== undefined && rows > max) out.push({ file: e.path, reason: `has ${rows} rows, more than max ${max}` })
        }
      if (totalMin !== undefined || totalMax !== undefined) {
        let total = 0
        for await (const e of env.listCandidate(glob.base)) if (glob.matches(e.path)) total += Number((await env.footer(e)).metadata.num_rows)
        if (totalMin !== undefined && total < totalMin) out.push({ reason: `files matching ${f.str('files')} hold ${total} rows in all, fewer than totalMin ${totalMin}` })
        if (totalMax !== undefined && total > totalMax) out.push({ reason: `files matching ${f.str('files')} hold ${total} rows in all, more than totalMax ${totalMax}` })
      }
      return out
    },
  }
  },
}
