import type { HookFinding } from '../../hook-types.js'
import type { CheckDefinition } from '../check-types.js'
import { fileGlob } from '../file-glob.js'

/** A column holds no duplicate values within a file (reads that column's data). */
export const unique: CheckDefinition = {
  keys: ["files", "column", "columns"],
  compile: (f) => {
  const glob = fileGlob(f.str('files', true)!)
  const columns = f.strList('columns') ?? [f.str('column', true)!]
  return {
    type: 'unique',
    async run(env) {
      const out: HookFinding[] = []
      for (const e of env.written) {
        if (!glob.matches(e.path)) continue
        const table = await env.table(e)
        for (const name of columns) {
          const col = table.getChild(name)
          if (!col) {
            out.push({ file: e.path, reason: `column ${name} is missing` })
            continue
          }
          const seen = new Set<unknown>()
          for (const v of col) {
            if (v === null) continue
            const key = typeof v === 'object' ? String(v) : v
            if (seen.has(key)) {
              out.push({ file: e.path, reason: `column ${name} has duplicate value ${String(v)}` })
              break
            }
            seen.add(key)
          }
        }
      }
      return out
    },
  }
  },
}
