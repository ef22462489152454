/**
 * Content-defined chunk boundaries. Whether a path ends a node depends only on the path itself
 * (a 53-bit hash of it), never on its neighbours or on history, so an edit can only change the nodes
 * around it and two trees with the same entries are the same tree. Boundaries nest: a path that
 * ends a level-L node ends a node on every level below, which keeps reused subtrees canonical.
 *
 * Leaves average 2^leafBits entries, inner nodes 2^INNER_BITS children. Changing any constant here
 * changes every tree id: it is part of the format (docs/decisions/0002-tree-format.md). The leaf size
 * is a property of the repository (its manifest): format-1 repositories use LEAF_BITS, format 2
 * COMPACT_LEAF_BITS (docs/decisions/0008-node-packs.md).
 */
export const LEAF_BITS = 8
export const COMPACT_LEAF_BITS = 6
export const INNER_BITS = 6
const MAX_BITS = 48

/** cyrb53 (public domain): a fast, well-mixed 53-bit string hash over UTF-16 code units. */
export function pathHash(path: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < path.length; i++) {
    const ch = path.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

/** Does `key` end a node at `level` (0 = leaf) in trees whose leaves average 2^leafBits entries? */
export function isBoundary(level: number, key: string, leafBits: number = LEAF_BITS): boolean {
  return pathHash(key) % boundaryModulus(level, leafBits) === 0
}

/** 2^bits of a node at `level`: `pathHash(key) % boundaryModulus(...) === 0` ends it. */
export function boundaryModulus(level: number, leafBits: number): number {
  return 2 ** Math.min(MAX_BITS, leafBits + INNER_BITS * level)
}
