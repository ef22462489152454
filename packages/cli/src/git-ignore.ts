import fs from 'node:fs'
import path from 'node:path'

/** The git working tree `dir` is in (a folder holding `.git`, a directory or a worktree's file), if any. */
export function gitWorkTreeOf(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return d
    if (path.dirname(d) === d) return undefined
  }
}

/**
 * Keeps a repository folder made inside a git working tree out of git: appends `<name>/` to the
 * `.gitignore` beside it. Returns the line added, or undefined when not in a git tree or already there.
 */
export function ignoreInGit(repoFolder: string): { line: string; file: string } | undefined {
  const parent = path.dirname(path.resolve(repoFolder))
  if (!gitWorkTreeOf(parent)) return undefined
  const line = `${path.basename(path.resolve(repoFolder))}/`
  const file = path.join(parent, '.gitignore')
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const lines = new Set(text.split(/\r?\n/).map((l) => l.trim()))
  if (lines.has(line) || lines.has(`/${line}`) || lines.has(line.slice(0, -1)) || lines.has(`/${line.slice(0, -1)}`)) return undefined
  fs.appendFileSync(file, `${text && !text.endsWith('\n') ? '\n' : ''}${line}\n`)
  return { line, file }
}
