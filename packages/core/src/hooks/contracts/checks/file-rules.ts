import { safeRegex } from '../safe-pattern.js'
import type { HookFinding } from '../../hook-types.js'
import type { CheckDefinition } from '../check-types.js'
import { fileGlob } from '../file-glob.js'

const optionalGlob = (glob: string | undefined) => (glob ? fileGlob(glob).matches : () => true)

/** Written files are between min and max bytes. */
export const fileSize: CheckDefinition = {
  keys: ['files', 'min', 'max'],
  compile: (f) => {
    const matches = optionalGlob(f.str('files'))
    const min = f.num('min')
    const max = f.num('max')
    if (min === undefined && max === undefined) throw f.invalid('file-size needs min or max (bytes)')
    return {
      type: 'file-size',
      async run(env) {
        const out: HookFinding[] = []
        for (const e of env.written) {
          if (!matches(e.path)) continue
          if (min !== undefined && e.size < min) out.push({ file: e.path, reason: `is ${e.size} bytes, smaller than min ${min}` })
          if (max !== undefined && e.size > max) out.push({ file: e.path, reason: `is ${e.size} bytes, larger than max ${max}` })
        }
        return out
      },
    }
  },
}

/** A pattern as people write it in code: /source/ with its slashes escaped. */
const shown = (r: { source: string }) => `/${r.source.replace(/(?<!\\)\//g, '\\/')}/`

/** Written paths must match one `allow` regex (when given) and no `forbid` regex. */
export const pathPattern: CheckDefinition = {
  keys: ['allow', 'forbid'],
  compile: (f) => {
    const compile = (key: string) =>
      (f.strList(key) ?? []).map((src, i) => {
        try {
          return safeRegex(src)
        } catch (e) {
          throw f.invalid(`${key}[${i}] is not a valid regular expression (RE2 syntax: no backreferences or lookaround): ${(e as Error).message}`, [key, i])
        }
      })
    const allow = compile('allow')
    const forbid = compile('forbid')
    if (!allow.length && !forbid.length) throw f.invalid('path-pattern needs allow or forbid')
    return {
      type: 'path-pattern',
      async run(env) {
        const out: HookFinding[] = []
        for (const e of env.written) {
          if (allow.length && !allow.some((r) => r.test(e.path)))
            out.push({ file: e.path, reason: `path matches none of the allowed patterns ${allow.map(shown).join(', ')}` })
          const bad = forbid.find((r) => r.test(e.path))
          if (bad) out.push({ file: e.path, reason: `path matches the forbidden pattern ${shown(bad)}` })
        }
        return out
      },
    }
  },
}

/** Every folder (partition) a matching written file lands in must also hold `require` (e.g. _SUCCESS). */
export const requiredFiles: CheckDefinition = {
  keys: ['files', 'require'],
  compile: (f) => {
    const matches = fileGlob(f.str('files', true)!).matches
    const required = f.strList('require') ?? [f.str('require', true)!]
    return {
      type: 'required-files',
      async run(env) {
        const out: HookFinding[] = []
        const dirs = new Set(env.written.filter((e) => matches(e.path)).map((e) => e.path.slice(0, e.path.lastIndexOf('/') + 1)))
        for (const dir of dirs)
          for (const name of required)
            if (!(await env.hasInCandidate(dir + name))) out.push({ file: dir + name, reason: `required in ${dir || 'the root'}, which this change writes to` })
        return out
      },
    }
  },
}

/** Paths matching the glob may not be removed. */
export const noDelete: CheckDefinition = {
  keys: ['files'],
  compile: (f) => {
    const matches = fileGlob(f.str('files', true)!).matches
    return {
      type: 'no-delete',
      async run(env) {
        return env.changes.filter((c) => c.type === 'removed' && matches(c.path)).map((c) => ({ file: c.path, reason: 'may not be deleted' }))
      },
    }
  },
}

/** A guard against runaway backfills: at most `max` changed paths (matching `files`, when given). */
export const maxChangedFiles: CheckDefinition = {
  keys: ['max', 'files'],
  compile: (f) => {
    const max = f.num('max', true)!
    const matches = optionalGlob(f.str('files'))
    return {
      type: 'max-changed-files',
      async run(env) {
        const n = env.changes.filter((c) => matches(c.path)).length
        return n > max ? [{ reason: `${n} files changed, more than max ${max}` }] : []
      },
    }
  },
}
