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
  readonly #cache = new Map<Repository, { at: number; names: Promise<{ all: string[]; withSlash: string[] }> }>()
  constructor(private readonly ttlMs = 1000) {}

  /** Every branch and tag name, sorted as keys sort (`name/` by UTF-8 bytes). */
  async all(repo: Repository): Promise<string[]> {
    return (await this.#names(repo)).all
  }

  /** Names holding `/`, longest first. */
  async withSlash(repo: Repository): Promise<string[]> {
    return (await this.#names(repo)).withSlash
  }

  /** Both lists, made once per refresh: `withSlash` is asked for on every request that names a key. */
  #names(repo: Repository): Promise<{ all: string[]; withSlash: string[] }> {
    const hit = this.#cache.get(repo)
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.names
    const names = (async () => {
      const set = new Set<string>()
      for await (const b of repo.branches()) set.add(b.name)
      for await (const t of repo.tags()) set.add(t.name)
      const all = [...set].sort((a, b) => compareKeys(`${a}/`, `${b}/`))
      return { all, withSlash: all.filter((n) => n.includes('/')).sort((a, b) => b.length - a.length) }
    })()
    names.catch(() => this.#cache.delete(repo))
    this.#cache.set(repo, { at: Date.now(), names })
    return names
  }
}

/** S3 orders keys by their UTF-8 bytes. */
export const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))
