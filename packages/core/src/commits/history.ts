import type { Commit } from '../model/commit.js'
import type { ObjectStore } from '../objects/object-store.js'

/** A max-heap of commits by (generation, createdAt, id): newest first, deterministic. */
class CommitQueue {
  readonly #items: Commit[] = []
  get size() {
    return this.#items.length
  }
  static newer(a: Commit, b: Commit): boolean {
    if (a.generation !== b.generation) return a.generation > b.generation
    if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt
    return a.id > b.id
  }
  push(c: Commit): void {
    const h = this.#items
    h.push(c)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!CommitQueue.newer(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }
  peek(): Commit | undefined {
    return this.#items[0]
  }
  pop(): Commit | undefined {
    const h = this.#items
    const top = h[0]
    const last = h.pop()
    if (h.length && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && CommitQueue.newer(h[l]!, h[m]!)) m = l
        if (r < h.length && CommitQueue.newer(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

export interface LogOptions {
  readonly limit?: number
  /** Follow only first parents (the branch's own line of history). */
  readonly firstParent?: boolean
  /** Only commits that changed something under this prefix (against their first parent). */
  readonly prefix?: string
}

/** Every commit reachable from `start`, newest generation first, each exactly once. */
export async function* walkHistory(store: ObjectStore, start: string, options: LogOptions = {}): AsyncGenerator<Commit> {
  let left = options.limit ?? Infinity
  const seen = new Set<string>([start])
  const queue = new CommitQueue()
  queue.push(await store.readCommit(start))
  while (queue.size && left > 0) {
    const c = queue.pop()!
    yield c
    left--
    const parents = options.firstParent ? c.parents.slice(0, 1) : c.parents
    for (const p of parents) {
      if (seen.has(p)) continue
      seen.add(p)
      queue.push(await store.readCommit(p))
    }
  }
}

/**
 * The best common ancestor of two commits (git's paint-down-to-common, ordered by generation): walk
 * both histories newest first, mark what each side reaches, and stop at the first commit both reach.
 * Returns undefined when the histories share nothing.
 */
export async function mergeBase(store: ObjectStore, a: string, b: string): Promise<string | undefined> {
  if (a === b) return a
  const LEFT = 1
  const RIGHT = 2
  const flags = new Map<string, number>([[a, LEFT]])
  flags.set(b, (flags.get(b) ?? 0) | RIGHT)
  const queue = new CommitQueue()
  queue.push(await store.readCommit(a))
  queue.push(await store.readCommit(b))
  while (queue.size) {
    const c = queue.pop()!
    const f = flags.get(c.id)!
    if (f === (LEFT | RIGHT)) return c.id
    for (const p of c.parents) {
      const pf = flags.get(p)
      if (pf === undefined) {
        flags.set(p, f)
        queue.push(await store.readCommit(p))
      } else if ((pf | f) !== pf) {
        flags.set(p, pf | f)
        // Already queued with fewer flags: its entry in the heap reads the map when popped.
      }
    }
  }
  return undefined
}
