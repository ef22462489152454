import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// Every public entry point's exports, values and types, read from the built declarations by the
// TypeScript compiler, against the committed list in test/public-exports.json (as isomorphic-git's
// test-exports): a name that disappears or changes kind fails here before a user's build does. A
// change on purpose: `UPDATE_EXPORTS=1 npx vitest run test/public-exports.test.ts`, and say it in the
// package's README. `@varve/core/internal` is not public and is not listed.

const ROOT = path.resolve(import.meta.dirname, '..')
const LIST = path.join(ROOT, 'test', 'public-exports.json')
const ENTRY_POINTS = ['core', 'core/testing', 's3-adapter', 's3-adapter/testing', 'server', 'web', 'cli']

function declarationsOf(entry: string): string {
  const [pkg, sub] = entry.split('/')
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages', pkg!, 'package.json'), 'utf8')) as {
    exports: Record<string, { types: string }>
  }
  return path.join(ROOT, 'packages', pkg!, manifest.exports[sub ? `./${sub}` : '.']!.types)
}

function kindOf(symbol: ts.Symbol): string {
  const f = symbol.flags
  if (f & ts.SymbolFlags.Class) return 'class'
  if (f & ts.SymbolFlags.Function) return 'function'
  if (f & ts.SymbolFlags.Enum) return 'enum'
  if (f & ts.SymbolFlags.Variable) return 'const'
  if (f & ts.SymbolFlags.Interface) return 'interface'
  if (f & ts.SymbolFlags.TypeAlias) return 'type'
  if (f & ts.SymbolFlags.Namespace) return 'namespace'
  return 'other'
}

function exportsOf(entries: readonly string[]): Record<string, string[]> {
  const files = entries.map(declarationsOf)
  const program = ts.createProgram(files, {
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  })
  const checker = program.getTypeChecker()
  const out: Record<string, string[]> = {}
  entries.forEach((entry, i) => {
    const source = program.getSourceFile(files[i]!)
    const module = source && checker.getSymbolAtLocation(source)
    if (!module) throw new Error(`no declarations for @varve/${entry} at ${files[i]} (run pnpm build)`)
    out[`@varve/${entry}`] = checker
      .getExportsOfModule(module)
      .map((s) => `${s.name} (${kindOf(s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s)})`)
      .sort()
  })
  return out
}

describe('public exports', () => {
  it('every entry point exports what test/public-exports.json lists, each as the same kind', () => {
    const actual = exportsOf(ENTRY_POINTS)
    if (process.env.UPDATE_EXPORTS) fs.writeFileSync(LIST, `${JSON.stringify(actual, null, 2)}\n`)
    const listed = JSON.parse(fs.readFileSync(LIST, 'utf8')) as Record<string, string[]>
    expect(actual).toEqual(listed)
  }, 60_000)
})
