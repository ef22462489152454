import { describe, expect, it } from 'vitest'
import { canonicalJson, COMPACT_LEAF_BITS, encodeNodeLocations, encodeTreeNode, INNER_BITS, LEAF_BITS, makeCommit, pathHash } from '@varve/core/internal'
import { createHash } from 'node:crypto'

// These ids pin the storage format. If one changes, every existing repository's ids change with it:
// bump the format tag (varve/...:v2) and write a decision record instead of updating the value.
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('storage format (golden hashes)', () => {
  it('commit encoding', () => {
    const { commit, bytes } = makeCommit({
      parents: ['a'.repeat(64)],
      root: 'b'.repeat(64),
      message: 'add part 0',
      author: 'etl-bot',
      metadata: { z: 1, a: { y: [true, null], b: 'x' } },
      createdAt: 1_700_000_000_000,
      generation: 2,
    })
    expect(Buffer.from(bytes).toString()).toBe(
      '{"author":"etl-bot","createdAt":1700000000000,"generation":2,"message":"add part 0","metadata":{"a":{"b":"x","y":[true,null]},"z":1},"parents":["' +
        'a'.repeat(64) +
        '"],"root":"' +
        'b'.repeat(64) +
        '","t":"varve/commit:v1"}',
    )
    expect(commit.id).toBe(sha(bytes))
    expect(commit.id).toMatchInlineSnapshot(`"92ae4ba08e808bdf7a7fefd1dd431b8ea1b10e2202e167a4afd671ab0bd11f6a"`)
  })

  it('leaf and inner node encodings', () => {
    const leaf = encodeTreeNode({
      kind: 'leaf',
      entries: [
        { path: 'a.csv', address: 'c'.repeat(64), size: 3, lastModified: 5 },
        { path: 'b.csv', address: 'd'.repeat(64), size: 4, lastModified: 6, contentType: 'text/csv', metadata: { k: 'v' } },
      ],
    })
    expect(sha(leaf)).toMatchInlineSnapshot(`"8c99055a7e831cb34b33eb129d9eb19aedede584680c6ebba0fd17023119ac69"`)
    const inner = encodeTreeNode({ kind: 'inner', level: 1, children: [{ lastKey: 'b.csv', id: 'e'.repeat(64), count: 2 }] })
    expect(Buffer.from(inner).toString()).toBe(`{"t":"varve/node:v1","l":1,"c":[["b.csv","${'e'.repeat(64)}",2]]}`)
  })

  it('format 2: a commit locating its packed root, and the child locations stored after an inner node', () => {
    const { commit, bytes } = makeCommit({
      parents: [],
      root: 'b'.repeat(64),
      rootAt: { pack: 'c'.repeat(64), offset: 10, size: 20 },
      message: 'm',
      author: 'a',
      metadata: {},
      createdAt: 1,
      generation: 1,
    })
    expect(Buffer.from(bytes).toString()).toBe(
      `{"author":"a","createdAt":1,"generation":1,"message":"m","metadata":{},"parents":[],"root":"${'b'.repeat(64)}","rootAt":["${'c'.repeat(64)}",10,20],"t":"varve/commit:v1"}`,
    )
    expect(commit.id).toBe(sha(bytes))
    const own = { id: undefined }
    const sealed = { id: 'd'.repeat(64) }
    const locations = encodeNodeLocations(
      {
        kind: 'inner',
        level: 1,
        children: [
          { lastKey: 'a', id: 'e'.repeat(64), count: 1, at: { pack: own, offset: 0, size: 5 } },
          { lastKey: 'b', id: 'f'.repeat(64), count: 1 },
          { lastKey: 'c', id: '0'.repeat(64), count: 1, at: { pack: sealed, offset: 7, size: 9 } },
        ],
      },
      own,
    )
    expect(locations).toBe(`{"t":"varve/node-locations:v1","k":["${'d'.repeat(64)}"],"c":[[-1,0,5],null,[0,7,9]]}`)
    expect([LEAF_BITS, COMPACT_LEAF_BITS, INNER_BITS]).toEqual([8, 6, 6])
    // A format-2 leaf with packed entries names each pack once.
    const packed = (pack: string | undefined, offset: number, path: string) => ({
      path,
      address: 'a'.repeat(64),
      size: 1,
      lastModified: 2,
      ...(pack ? { pack, offset } : {}),
    })
    const leaf = encodeTreeNode(
      { kind: 'leaf', entries: [packed('c'.repeat(64), 0, 'x'), packed(undefined, 0, 'y'), packed('c'.repeat(64), 9, 'z'), packed('d'.repeat(64), 4, 'zz')] },
      { packTable: true },
    )
    expect(Buffer.from(leaf).toString()).toBe(
      `{"t":"varve/leaf:v3","p":["x","y","z","zz"],"a":["${'a'.repeat(64)}","${'a'.repeat(64)}","${'a'.repeat(64)}","${'a'.repeat(64)}"],"s":[1,1,1,1],"m":[2,2,2,2],"K":["${'c'.repeat(64)}","${'d'.repeat(64)}"],"k":[0,null,0,1],"o":[0,null,9,4]}`,
    )
  })

  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 4, e: 5 }] } })).toBe('{"a":{"c":[3,{"e":5,"f":4}],"d":2},"b":1}')
  })

  it('boundary hash', () => {
    expect([pathHash(''), pathHash('a'), pathHash('train/part-0.parquet'), pathHash('données/😀')]).toMatchInlineSnapshot(`
      [
        3338908027751811,
        7929297801672961,
        616892883593846,
        421137994504270,
      ]
    `)
  })
})
