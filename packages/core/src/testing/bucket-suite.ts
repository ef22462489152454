import { describe, expect, it } from 'vitest'
import { listAll, type Bucket } from '../buckets/bucket.js'
import { collect, withFixture, type StoreFixture } from './suite-util.js'

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined)
async function* chunks(parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield p
}

/**
 * The behaviour every Bucket adapter must have (decision 0020): the put modes, versions, ranges,
 * listings with pagination and a delimiter. The ref protocol relies on each line of it.
 */
export function bucketConformance(name: string, make: () => Promise<StoreFixture<Bucket>>): void {
  describe(`Bucket conformance: ${name}`, () => {
    const withBucket = (fn: (b: Bucket) => Promise<void>) => withFixture(make, fn)

    it(
      'create writes once; update needs the current version; overwrite always writes',
      withBucket(async (b) => {
        const v1 = await b.put('k', bytes('one'), 'create')
        expect(typeof v1).toBe('string')
        expect(await b.put('k', bytes('two'), 'create')).toBeUndefined()
        expect(text((await b.get('k'))?.bytes)).toBe('one')
        expect((await b.get('k'))?.version).toBe(v1)
        const v2 = await b.put('k', bytes('three'), { update: v1! })
        expect(v2).toBeDefined()
        expect(v2).not.toBe(v1)
        expect(await b.put('k', bytes('four'), { update: v1! })).toBeUndefined()
        expect(text((await b.get('k'))?.bytes)).toBe('three')
        expect(await b.put('missing', bytes('x'), { update: v1! })).toBeUndefined()
        expect(await b.get('missing')).toBeUndefined()
        const v3 = await b.put('k', bytes('five'))
        expect(v3).toBeDefined()
        expect(v3).not.toBe(v2)
        expect((await b.head('k'))?.version).toBe(v3)
      }),
    )

    it(
      'of concurrent creates or updates from one version, exactly one wins',
      withBucket(async (b) => {
        const created = await Promise.all(Array.from({ length: 6 }, (_, i) => b.put('race', bytes(`c${i}`), 'create')))
        expect(created.filter((v) => v !== undefined)).toHaveLength(1)
        const v = (await b.head('race'))!.version
        const updated = await Promise.all(Array.from({ length: 6 }, (_, i) => b.put('race', bytes(`u${i}`), { update: v })))
        expect(updated.filter((x) => x !== undefined)).toHaveLength(1)
        const winner = updated.findIndex((x) => x !== undefined)
        expect(text((await b.get('race'))?.bytes)).toBe(`u${winner}`)
      }),
    )

    it(
      'streams up (conditionally too) and down',
      withBucket(async (b) => {
        const parts = Array.from({ length: 12 }, (_, i) => new Uint8Array(100_000).fill(i))
        expect(await b.put('big/s', chunks(parts), 'create')).toBeDefined()
        expect(await b.put('big/s', chunks(parts.slice(0, 1)), 'create')).toBeUndefined()
        const got = Buffer.concat(await collect((await b.getStream('big/s'))!))
        expect(got.equals(Buffer.concat(parts))).toBe(true)
        expect((await b.head('big/s'))?.size).toBe(1_200_000)
        expect(await b.getStream('big/none')).toBeUndefined()
        expect(await b.put('empty', new Uint8Array(0))).toBeDefined()
        expect((await b.get('empty'))?.bytes.length).toBe(0)
      }),
    )

    it(
      'reads ranges (clamped; past the end: no bytes) and refuses another version',
      withBucket(async (b) => {
        const v = await b.put('r', bytes('0123456789'))
        expect(text((await b.get('r', { range: [2, 5] }))?.bytes)).toBe('234')
        expect(text((await b.get('r', { range: [7, 100] }))?.bytes)).toBe('789')
        expect((await b.get('r', { range: [10, 20] }))?.bytes.length).toBe(0)
        expect(await b.get('none', { range: [0, 2] })).toBeUndefined()
        expect(text((await b.get('r', { ifVersion: v! }))?.bytes)).toBe('0123456789')
        await b.put('r', bytes('changed'))
        expect(await b.get('r', { ifVersion: v! })).toBeUndefined()
        const head = await b.head('r')
        expect(head).toMatchObject({ key: 'r', size: 7 })
        expect(head!.lastModified).toBeGreaterThan(Date.now() - 3_600_000)
        expect(await b.head('none')).toBeUndefined()
      }),
    )

    it(
      'lists in key order, page by page, and folds folders with a delimiter',
      withBucket(async (b) => {
        const keys = ['l/a', 'l/a-b', 'l/a~b/x', 'l/b/1', 'l/b/2', 'l/b/3/deep', 'l/c', 'l/d0', 'l/d1', 'lz']
        for (const k of [...keys].reverse()) await b.put(k, bytes(k))
        expect((await collect(listAll(b, 'l/'))).map((o) => o.key)).toEqual(keys.filter((k) => k.startsWith('l/')))
        const seen: string[] = []
        let token: string | undefined
        let pages = 0
        do {
          const page = await b.listPage('l/', { maxKeys: 2, ...(token ? { token } : {}) })
          expect(page.objects.length + page.prefixes.length).toBeLessThanOrEqual(2)
          seen.push(...page.objects.map((o) => o.key))
          token = page.next
          pages++
        } while (token && pages < 50)
        expect(seen).toEqual(keys.filter((k) => k.startsWith('l/')))
        expect(pages).toBeGreaterThanOrEqual(5)
        const objects: string[] = []
        const prefixes: string[] = []
        token = undefined
        do {
          const page = await b.listPage('l/', { delimiter: '/', maxKeys: 2, ...(token ? { token } : {}) })
          objects.push(...page.objects.map((o) => o.key))
          prefixes.push(...page.prefixes)
          token = page.next
        } while (token)
        expect(objects).toEqual(['l/a', 'l/a-b', 'l/c', 'l/d0', 'l/d1'])
        expect([...new Set(prefixes)]).toEqual(['l/a~b/', 'l/b/'])
        const o = (await b.listPage('l/c')).objects[0]!
        expect(o).toMatchObject({ key: 'l/c', size: 3 })
        expect(o.version).toBe((await b.head('l/c'))!.version)
      }),
    )

    it(
      'deletes (a missing key is no error), many at once, and copies',
      withBucket(async (b) => {
        await b.put('d/1', bytes('1'))
        await b.put('d/2', bytes('2'))
        await b.put('d/3', bytes('3'))
        await b.delete('d/1')
        await b.delete('d/1')
        expect(await b.get('d/1')).toBeUndefined()
        if (b.deleteMany) {
          await b.deleteMany(['d/2', 'd/3', 'd/none'])
          expect(await collect(listAll(b, 'd/'))).toEqual([])
        }
        if (b.copy) {
          await b.put('c/from', bytes('copied'))
          expect(await b.copy('c/from', 'c/to')).toBe(true)
          expect(text((await b.get('c/to'))?.bytes)).toBe('copied')
          expect(await b.copy('c/none', 'c/to2')).toBe(false)
        }
      }),
    )
  })
}
