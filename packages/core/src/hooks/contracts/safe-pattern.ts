import { createRequire } from 'node:module'
import type { RE2JS as RE2JSType } from 're2js'

// Loaded on first use (synchronously, as patterns compile): every CLI command would pay its import.
const requireLazily = createRequire(import.meta.url)
let re2: typeof RE2JSType | undefined
const RE2 = (): typeof RE2JSType => (re2 ??= (requireLazily('re2js') as { RE2JS: typeof RE2JSType }).RE2JS)

/**
 * Patterns from rules files run on every gated operation, on paths anyone can write: they are
 * matched by RE2 (re2js), whose time is linear in the path whatever the pattern (`^(a+)+$` on a long
 * path cannot hang a merge, as it does with backtracking JavaScript RegExps).
 */
export interface SafePattern {
  readonly source: string
  test(text: string): boolean
}

/** Longest pattern accepted, in characters (a rules file is reviewed text, not a data dump). */
export const MAX_PATTERN_LENGTH = 4096

/** A regular expression in RE2 syntax (no backreferences or lookaround); throws with the reason. */
export function safeRegex(source: string): SafePattern {
  if (source.length > MAX_PATTERN_LENGTH) throw new Error(`longer than ${MAX_PATTERN_LENGTH} characters`)
  const re = RE2().compile(source)
  return { source, test: (text) => re.matcher(text).find() }
}

/**
 * A path glob compiled to RE2: `*` and `?` within a segment, `**` across segments, `[...]` classes,
 * `{a,b}` alternatives, and the extglobs `@(..)`, `?(..)`, `+(..)`, `*(..)` (not `!(..)`, which needs
 * negation). Dot files match like any other (picomatch's `dot: true`, which this replaces).
 */
export function safeGlob(glob: string): SafePattern & { readonly base: string } {
  if (glob.length > MAX_PATTERN_LENGTH) throw new Error(`longer than ${MAX_PATTERN_LENGTH} characters`)
  if (glob.startsWith('!') && !glob.startsWith('!(')) throw new Error('negated globs (a leading !) are not supported: list what to match')
  const body = translate(glob, 0, glob.length, 0)
  const re = RE2().compile(`^${body}$`)
  return { source: glob, base: staticBase(glob), test: (text) => re.matcher(text).matches() }
}

/** Where the static part of a glob ends: its first special character, or an escape (the path has the escaped character, not the backslash). */
const SPECIAL = /[*?[{}@+!(\\]/
const escapeRegex = (c: string) => c.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')

/** The folder under which every match lives (`train/day=*` -> `train/`), to list no more than needed. */
function staticBase(glob: string): string {
  const first = glob.search(SPECIAL)
  if (first < 0) return glob
  const cut = glob.lastIndexOf('/', first)
  return cut < 0 ? '' : glob.slice(0, cut + 1)
}

function translate(g: string, from: number, to: number, depth: number): string {
  if (depth > 10) throw new Error('nested too deeply')
  let out = ''
  for (let i = from; i < to; ) {
    const c = g[i]!
    const next = g[i + 1]
    if (c === '\\') {
      if (i + 1 >= to) throw new Error('ends with a lone backslash')
      out += escapeRegex(g[i + 1]!)
      i += 2
    } else if (c === '*' && next === '*') {
      const segmentStart = i === from || g[i - 1] === '/'
      const segmentEnd = i + 2 === to || g[i + 2] === '/'
      if (!segmentStart || !segmentEnd) throw new Error('** must be a whole path segment')
      if (g[i + 2] === '/') {
        out += '(?:[^/]*/)*' // zero or more whole segments
        i += 3
      } else if (out.endsWith('/')) {
        out = out.slice(0, -1) + '(?:/.*)?' // a trailing /** also matches the folder itself
        i += 2
      } else {
        out += '.*'
        i += 2
      }
    } else if ('?*+@!'.includes(c) && next === '(') {
      if (c === '!') throw new Error('!(...) extglobs are not supported')
      const close = matching(g, i + 1, to, '(', ')')
      const alts = split(g, i + 2, close).map(([a, b]) => translate(g, a, b, depth + 1))
      out += `(?:${alts.join('|')})${c === '@' ? '' : c}`
      i = close + 1
    } else if (c === '*') {
      out += '[^/]*'
      i++
    } else if (c === '?') {
      out += '[^/]'
      i++
    } else if (c === '[') {
      const close = g.indexOf(']', i + 2)
      if (close < 0 || close >= to) throw new Error('an unclosed [')
      let cls = g.slice(i + 1, close)
      if (cls.startsWith('!')) cls = `^${cls.slice(1)}`
      out += `[${cls.replace(/\\(?![\]\\^-])/g, '\\\\')}]`
      i = close + 1
    } else if (c === '{') {
      const close = matching(g, i, to, '{', '}')
      const alts = split(g, i + 1, close).map(([a, b]) => translate(g, a, b, depth + 1))
      out += `(?:${alts.join('|')})`
      i = close + 1
    } else {
      out += escapeRegex(c)
      i++
    }
  }
  return out
}

/** Index of the bracket closing the one at `open`. */
function matching(g: string, open: number, to: number, o: string, c: string): number {
  let depth = 0
  for (let i = open; i < to; i++) {
    if (g[i] === '\\') i++
    else if (g[i] === o || (o === '(' && g[i] === '(')) depth++
    else if (g[i] === c && --depth === 0) return i
  }
  throw new Error(`an unclosed ${o}`)
}

/** Top-level alternatives between `from` and `to`, split at ',' or '|'. */
function split(g: string, from: number, to: number): [number, number][] {
  const parts: [number, number][] = []
  let depth = 0
  let start = from
  for (let i = from; i < to; i++) {
    if (g[i] === '\\') i++
    else if (g[i] === '{' || g[i] === '(') depth++
    else if (g[i] === '}' || g[i] === ')') depth--
    else if ((g[i] === ',' || g[i] === '|') && depth === 0) {
      parts.push([start, i])
      start = i + 1
    }
  }
  parts.push([start, to])
  return parts
}
