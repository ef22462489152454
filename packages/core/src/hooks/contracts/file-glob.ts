import { safeGlob } from './safe-pattern.js'

/**
 * A path glob and the static prefix under which its matches live (to list no more than needed).
 * Matching is linear in the path length whatever the glob (RE2; see safe-pattern.ts).
 */
export function fileGlob(glob: string): { matches: (path: string) => boolean; base: string } {
  const g = safeGlob(glob)
  return { matches: (p) => g.test(p), base: g.base }
}
