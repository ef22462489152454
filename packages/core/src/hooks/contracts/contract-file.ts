import { createRequire } from 'node:module'
import type * as Yaml from 'yaml'
import type { Document } from 'yaml'
import { VarveError } from '../../errors/varve-error.js'
import { branchMatches } from '../hook-registry.js'
import { HOOK_EVENTS, type HookEvent } from '../hook-types.js'
import type { CompiledCheck, FieldReader } from './check-types.js'
import { CHECKS } from './checks/index.js'
import { safeGlob } from './safe-pattern.js'

// Loaded on first use (synchronously: parseContract is synchronous): yaml costs ~35 ms of CPU to
// import, paid otherwise by every CLI command. Its Node build is CommonJS, so require loads the same.
const requireLazily = createRequire(import.meta.url)
let yamlModule: typeof Yaml | undefined
const yaml = (): typeof Yaml => (yamlModule ??= requireLazily('yaml') as typeof Yaml)

/** Where contracts live in a repository: reviewed and versioned like the data itself. */
export const CONTRACTS_PREFIX = '_varve/hooks/'

export interface Contract {
  readonly id: string
  /** The rules file, e.g. `_varve/hooks/train-contract.yaml`. */
  readonly file: string
  readonly on: readonly HookEvent[]
  readonly branches: readonly string[]
  readonly timeoutMs?: number
  readonly checks: readonly CompiledCheck[]
}

type Path = (string | number)[]

/**
 * Parses and validates one rules file. Any problem is VarveError INVALID_CONFIG naming the file and
 * line (`_varve/hooks/x.yaml:7: unknown check type "row-cnt"`). Rules are data: nothing in them runs.
 */
export function parseContract(file: string, text: string): Contract
export function parseContract(file: string, text: string, only: { event: HookEvent; branch: string }): Contract | undefined
export function parseContract(file: string, text: string, only?: { event: HookEvent; branch: string }): Contract | undefined {
  if (text.length > MAX_RULES_FILE_CHARS)
    throw new VarveError('INVALID_CONFIG', `${file}:1: a rules file is limited to ${MAX_RULES_FILE_CHARS} characters (this one has ${text.length})`, {
      details: { file, line: 1 },
    })
  try {
    return parseChecked(file, text, only)
  } catch (err) {
    if (err instanceof VarveError) throw err
    // The YAML parser's own limits (alias counts, nesting) and anything unforeseen: still bad config.
    throw new VarveError('INVALID_CONFIG', `${file}:1: ${(err as Error).message ?? String(err)}`, { cause: err, details: { file, line: 1 } })
  }
}

/** Rules files are reviewed text: anything larger is a mistake, and would slow every gated operation. */
export const MAX_RULES_FILE_CHARS = 256 * 1024
/** timeoutMs of a contract is clamped to [100 ms, 10 min]. */
export const TIMEOUT_RANGE_MS = [100, 600_000] as const

function parseChecked(file: string, text: string, only?: { event: HookEvent; branch: string }): Contract | undefined {
  const { LineCounter, parseDocument } = yaml()
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const lineOf = (path: Path): number => {
    for (let p = path; ; p = p.slice(0, -1)) {
      const node = (p.length ? doc.getIn(p, true) : doc.contents) as { range?: [number, number, number] } | undefined
      if (node?.range) return lines.linePos(node.range[0]).line
      if (!p.length) return 1
    }
  }
  const invalid = (message: string, path: Path = []) =>
    new VarveError('INVALID_CONFIG', `${file}:${lineOf(path)}: ${message}`, { details: { file, line: lineOf(path) } })
  const problem = doc.errors[0]
  if (problem) {
    const line = problem.linePos?.[0]?.line ?? 1
    throw new VarveError('INVALID_CONFIG', `${file}:${line}: ${problem.message.split('\n')[0]}`, { details: { file, line } })
  }
  const root = toJs(doc)
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw invalid('a rules file is a mapping with id, on, branches and checks')
  const top = fieldReader(root as Record<string, unknown>, [], invalid)
  for (const key of Object.keys(root))
    if (!['id', 'on', 'branches', 'checks', 'timeoutMs', 'description'].includes(key)) throw invalid(`unknown key ${key}`, [key])
  const id = top.str('id', true)!
  const on = top.strList('on', true)!
  on.forEach((e, i) => {
    if (!HOOK_EVENTS.includes(e as HookEvent) || !e.startsWith('pre-'))
      throw invalid(`unknown event ${JSON.stringify(e)}: contracts run on ${HOOK_EVENTS.filter((x) => x.startsWith('pre-')).join(', ')}`, ['on', i])
  })
  const branches = top.strList('branches') ?? []
  branches.forEach((b, i) => {
    try {
      safeGlob(b)
    } catch (e) {
      throw invalid(`branches[${i}] is not a valid glob: ${(e as Error).message}`, ['branches', i])
    }
  })
  // A file that does not govern this event and branch is not judged by it (a broken file must not
  // block the branch creation that is needed to repair it).
  if (only && (!on.includes(only.event) || !branchMatches(branches, only.branch))) return undefined
  const rawTimeout = top.num('timeoutMs')
  const timeoutMs = rawTimeout === undefined ? undefined : Math.min(TIMEOUT_RANGE_MS[1], Math.max(TIMEOUT_RANGE_MS[0], rawTimeout))
  const rawChecks = (root as Record<string, unknown>).checks
  if (!Array.isArray(rawChecks) || rawChecks.length === 0) throw invalid('checks must be a non-empty list', ['checks'])
  const checks = rawChecks.map((raw, i) => {
    const at: Path = ['checks', i]
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('each check is a mapping with a type', at)
    const type = (raw as Record<string, unknown>).type
    const def = typeof type === 'string' ? CHECKS[type] : undefined
    if (!def) throw invalid(`unknown check type ${JSON.stringify(type)} (known: ${Object.keys(CHECKS).join(', ')})`, [...at, 'type'])
    // A key the check does not know is a typo (`mn: 1`): say so, at its line, before anything else.
    for (const k of Object.keys(raw))
      if (k !== 'type' && k !== 'description' && !def.keys.includes(k))
        throw invalid(`unknown key ${k} for a ${type} check (known: ${def.keys.join(', ')})`, [...at, k])
    try {
      return def.compile(fieldReader(raw as Record<string, unknown>, at, invalid))
    } catch (err) {
      if (err instanceof VarveError) throw err
      throw invalid(`${type} check: ${(err as Error).message}`, at) // e.g. a glob RE2 cannot compile
    }
  })
  return { id, file, on: on as HookEvent[], branches, ...(timeoutMs !== undefined ? { timeoutMs } : {}), checks }
}

function toJs(doc: Document): unknown {
  return doc.toJS({ maxAliasCount: 100 })
}

function fieldReader(obj: Record<string, unknown>, at: Path, invalid: (m: string, p?: Path) => Error): FieldReader {
  const get = (key: string) => obj[key]
  const reader: FieldReader = {
    str(key, required) {
      const v = get(key)
      if (v === undefined || v === null) {
        if (required) throw invalid(`${key} is required`, at)
        return undefined
      }
      if (typeof v !== 'string' || v === '') throw invalid(`${key} must be a non-empty string`, [...at, key])
      return v
    },
    num(key, required) {
      const v = get(key)
      if (v === undefined || v === null) {
        if (required) throw invalid(`${key} is required`, at)
        return undefined
      }
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(`${key} must be a number >= 0`, [...at, key])
      return v
    },
    bool(key) {
      const v = get(key)
      if (v === undefined || v === null) return undefined
      if (typeof v !== 'boolean') throw invalid(`${key} must be true or false`, [...at, key])
      return v
    },
    strList(key, required) {
      const v = get(key)
      if (v === undefined || v === null) {
        if (required) throw invalid(`${key} is required`, at)
        return undefined
      }
      const list = typeof v === 'string' ? [v] : v
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw invalid(`${key} must be a list of strings`, [...at, key])
      return list as string[]
    },
    map(key, required) {
      const v = get(key)
      if (v === undefined || v === null) {
        if (required) throw invalid(`${key} is required`, at)
        return undefined
      }
      if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${key} must be a mapping`, [...at, key])
      return v as Record<string, unknown>
    },
    invalid: (message, key) => invalid(message, key === undefined ? at : [...at, ...(Array.isArray(key) ? key : [key])]),
  }
  return reader
}
