import type { Grant, Session } from './api.js'

// What the logged-in key may do, to show only the buttons it can use. The server checks every
// request itself; this only spares a user buttons that would be refused.

const matchers = new Map<string, RegExp>()
function matches(pattern: string, value: string): boolean {
  if (pattern === '*' || pattern === '**') return true
  let re = matchers.get(pattern)
  if (!re) {
    const body = pattern
      .split(/(\*\*|\*|\?)/)
      .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')
    re = new RegExp(`^${body}$`)
    matchers.set(pattern, re)
  }
  return re.test(value)
}

export type Action = 'read' | 'write' | 'commit' | 'approve' | 'admin'

export function can(session: Session, action: Action, repository: string, ref?: string): boolean {
  return session.grants.some(
    (g: Grant) =>
      g.actions.includes(action) && g.repositories.some((p) => matches(p, repository)) && (ref === undefined || g.branches.some((p) => matches(p, ref))),
  )
}
