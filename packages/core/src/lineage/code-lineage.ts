import fs from 'node:fs'

/** The code a dataset was produced or consumed with: a git working tree's HEAD. */
export interface CodeLineage {
  /** The `origin` remote's URL, else the working tree's path. */
  readonly repo: string
  /** HEAD's commit id, or null in a repository with no commit yet. */
  readonly commit: string | null
  /** The checked-out branch, or null on a detached HEAD. */
  readonly branch: string | null
  /** Tracked files differ from HEAD (untracked files do not count, as with `git describe --dirty`). */
  readonly dirty: boolean
}

/**
 * Reads the git repository around `dir` (upward, like git) with isomorphic-git: no git binary needed.
 * Undefined outside a git working tree. Never rewrites `.git/index`.
 */
export async function readCodeLineage(dir: string = process.cwd()): Promise<CodeLineage | undefined> {
  // Loaded on first use: isomorphic-git costs ~160 ms of CPU to import, more than most CLI commands.
  const { default: git } = await import('isomorphic-git')
  let root: string
  try {
    root = await git.findRoot({ fs, filepath: dir })
  } catch {
    return undefined
  }
  const commit = await git.resolveRef({ fs, dir: root, ref: 'HEAD' }).catch(() => null)
  const branch = (await git.currentBranch({ fs, dir: root, fullname: false }).catch(() => undefined)) ?? null
  const remote = (await git.getConfig({ fs, dir: root, path: 'remote.origin.url' }).catch(() => undefined)) as string | undefined
  let dirty = false
  if (commit) {
    const rows = await git.statusMatrix({ fs, dir: root, refresh: false })
    dirty = rows.some(([, head, workdir, stage]) => !(head === 1 && workdir === 1 && stage === 1) && !(head === 0 && stage === 0))
  }
  return { repo: remote ?? root, commit, branch, dirty }
}
