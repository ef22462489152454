import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

// The layout's rules, checked from the code's own imports (docs/decisions/0016-house-layout.md):
// no import circle among a package's files, no engine folder importing the facade (repository/) or the
// layers above it (lineage/, testing/), and no package outside core reaching into `@varve/core/internal`.

const ROOT = path.resolve(import.meta.dirname, '..')
const PACKAGES = ['core', 's3-adapter', 'server', 'web', 'cli']
/** Core folders above the engine: the facade, and what is built on the facade. */
const ABOVE_ENGINE = new Set(['repository', 'lineage', 'testing'])

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name))
}

/** Relative imports (static, dynamic and re-exports) of a file, resolved to source files. */
function importsOf(file: string): { relative: string[]; packages: string[] } {
  const text = fs.readFileSync(file, 'utf8')
  const relative: string[] = []
  const packages: string[] = []
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^']+)'/g)) {
    const spec = m[1]!
    if (!spec.startsWith('.')) {
      packages.push(spec)
      continue
    }
    const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '')
    const found = ['.ts', '.tsx', '/index.ts'].map((ext) => target + ext).find((f) => fs.existsSync(f))
    if (found) relative.push(found)
  }
  return { relative, packages }
}

/** Every cycle's files (strongly connected components of more than one file, or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const out: string[][] = []
  const visit = (v: string) => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        on.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc)
    }
  }
  for (const v of graph.keys()) if (!idx.has(v)) visit(v)
  return out
}

describe('the layout', () => {
  for (const pkg of PACKAGES) {
    const src = path.join(ROOT, 'packages', pkg, 'src')
    const files = sourceFiles(src)
    const graph = new Map(files.map((f) => [f, importsOf(f).relative]))

    it(`${pkg}: no import circle`, () => {
      expect(cycles(graph).map((c) => c.map((f) => path.relative(src, f)).sort())).toEqual([])
    })

    if (pkg === 'core')
      it('core: no engine folder imports the facade or a layer above it', () => {
        const folderOf = (f: string) => path.relative(src, f).split(path.sep)[0]!
        const upward: string[] = []
        for (const [file, targets] of graph) {
          const from = folderOf(file)
          if (ABOVE_ENGINE.has(from) || !path.relative(src, file).includes(path.sep)) continue
          for (const t of targets) if (ABOVE_ENGINE.has(folderOf(t))) upward.push(`${path.relative(src, file)} -> ${path.relative(src, t)}`)
        }
        expect(upward).toEqual([])
      })
    else
      it(`${pkg}: a public job needs no @varve/core/internal`, () => {
        const internal = files.filter((f) => importsOf(f).packages.some((p) => p.startsWith('@varve/core/internal')))
        expect(internal.map((f) => path.relative(ROOT, f))).toEqual([])
      })
  }
})
