import type { Repository } from '@varve/core'

/** A key split into the ref it names and the path under that ref. */
export interface RefPath {
  readonly ref: string
  readonly path: string
}

/**
 * Keys are `<ref>/<path>`. A ref is one key segment (`main`, `v1`, a commit id, `main~3`), or a
 * branch or tag whose name holds `/` (`team/exp`) when the key starts with it: the longest such name
 * wins (docs/decisions/0009-s3-gateway.md).
 */
export async function splitKey(repo: Repository, key: string, names: RefNames): Promise<RefPath | undefined> {
  const slash = key.indexOf('/')
  if (slash <= 0) return undefined
  for (const name of await names.withSlash(repo)) if (key.startsWith(`${name}/`)) return { ref: name, path: key.slice(name.length + 1) }
  return { ref: key.slice(0, slash), path: key.slice(slash + 1) }
}

/** Branch and tag names per repository, cached briefly (listings and `/` names look them up per request). */
export class RefNames {
  readonly #cache = new Map<Repository, { at: number; all: Promise<string[]> }>()
  constructor(private readonly ttlMs = 1000) {}

  /** Every branch and tag name, sorted as keys sort (`name/` in code-unit order). */
  all(repo: Repository): Promise<string[]> {
    const hit = this.#cache.get(repo)
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.all
    const all = (async () => {
      const names = new Set<string>()
      for await (const b of repo.branches()) names.add(b.name)
      for await (const t of repo.tags()) names.add(t.name)
      return [...names].sort((a, b) => compareKeys(`${a}/`, `${b}/`))
    })()
    all.catch(() => this.#cache.delete(repo))
    this.#cache.set(repo, { at: Date.now(), all })
    return all
  }

  /** Names holding `/`, longest first. */
  async withSlash(repo: Repository): Promise<string[]> {
    return (await this.all(repo)).filter((n) => n.includes('/')).sort((a, b) => b.length - a.length)
  }

  forget(repo: Repository): void {
    this.#cache.delete(repo)
  }
}

/** S3 orders keys by their UTF-8 bytes. */
export const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))
