import type { HookFinding } from '../../hook-types.js'
import type { CheckDefinition } from '../check-types.js'
import { fileGlob } from '../file-glob.js'

/** A column holds no duplicate values within a file (reads that column's data). */
export const unique: CheckDefinition = {
  keys: ['files', 'column', 'columns'],
  compile: (f) => {
    const glob = fileGlob(f.str('files', true)!)
    const columns = f.strList('columns') ?? [f.str('column', true)!]
    return {
      type: 'unique',
      async run(env) {
        const out: HookFinding[] = []
        for (const e of env.written) {
          if (!glob.matches(e.path)) continue
          const scan = await env.scanColumns(e, columns, { duplicates: true })
          for (const name of columns) {
            const col = scan[name]!
            if (!col.present) out.push({ file: e.path, reason: `column ${name} is missing` })
            else if (col.duplicate !== undefined) out.push({ file: e.path, reason: `column ${name} has duplicate value ${col.duplicate}` })
          }
        }
        return out
      },
    }
  },
}
