import picomatch from 'picomatch'
import type { AccessKey, Action, Grant } from './config.js'

/** Who is asking: a configured key, or nobody (anonymous). */
export interface Principal {
  readonly accessKey: string | null
  readonly grants: readonly Grant[]
}

// Patterns are config, not request input: compiled once per pattern. `*` alone is every name (ref
// names may hold `/`); otherwise globs, where `*` stays within a `/` segment and `**` crosses them.
const matchers = new Map<string, (s: string) => boolean>()
const matches = (pattern: string, value: string) => {
  if (pattern === '*' || pattern === '**') return true
  let m = matchers.get(pattern)
  if (!m) matchers.set(pattern, (m = picomatch(pattern, { dot: true })))
  return m(value)
}

/**
 * Whether the principal may do `action` on `repository`, at `ref` when the request names one (a
 * listing of the repository's refs names none: any grant on the repository allows it).
 */
export function allowed(who: Principal, action: Action, repository: string, ref?: string): boolean {
  return who.grants.some(
    (g) => g.actions.includes(action) && g.repositories.some((p) => matches(p, repository)) && (ref === undefined || g.branches.some((p) => matches(p, ref))),
  )
}

/** Whether the principal may see the repository at all (ListBuckets shows only those). */
export const seesRepository = (who: Principal, repository: string) => who.grants.some((g) => g.repositories.some((p) => matches(p, repository)))

export const principalOf = (key: AccessKey): Principal => ({ accessKey: key.accessKey, grants: key.grants })
