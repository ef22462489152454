import type { Change } from './api.js'

/** Counts of added, changed and removed paths per folder one level below the folder all of them share. */
export function countByFolder(changes: readonly Change[]): Map<string, { added: number; changed: number; removed: number }> {
  const folderOf = (p: string) => p.slice(0, p.lastIndexOf('/') + 1)
  let shared = changes.length ? folderOf(changes[0]!.path) : ''
  for (const ch of changes) while (!ch.path.startsWith(shared)) shared = folderOf(shared.slice(0, -1))
  const counts = new Map<string, { added: number; changed: number; removed: number }>()
  for (const ch of changes) {
    const rest = ch.path.slice(shared.length)
    const slash = rest.indexOf('/')
    const group = slash < 0 ? shared || '(top level)' : shared + rest.slice(0, slash + 1)
    const c = counts.get(group) ?? { added: 0, changed: 0, removed: 0 }
    c[ch.type]++
    counts.set(group, c)
  }
  return counts
}
