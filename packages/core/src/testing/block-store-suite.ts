import { describe, expect, it } from 'vitest'
import type { BlockStore } from '../stores/block-store.js'

import { collect, withFixture, type StoreFixture } from './suite-util.js'

export type { StoreFixture }

async function* chunks(parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield p
}

/** The behaviour every BlockStore must have. Run it against each implementation. */
/** What a store is known to do differently, named so the suite checks the rest (each one is written down where it is found). */
export interface BlockStoreQuirks {
  /** An in-place copy (`touch`) does not move LastModified (versitygw's POSIX backend keeps the file's mtime). */
  readonly touchKeepsLastModified?: boolean
}

export function blockStoreConformance(name: string, make: () => Promise<StoreFixture<BlockStore>>, quirks: BlockStoreQuirks = {}): void {
  describe(`BlockStore conformance: ${name}`, () => {
    const withStore = (fn: (s: BlockStore) => Promise<void>) => withFixture(make, fn)

    it(
      'puts and gets bytes; a missing key is undefined',
      withStore(async (s) => {
        expect(await s.put('a/b/c', Buffer.from('hello'))).toBe(true)
        expect(Buffer.from((await s.get('a/b/c'))!).toString()).toBe('hello')
        expect(await s.get('a/b/missing')).toBeUndefined()
        expect(await s.head('a/b/missing')).toBeUndefined()
        expect(await s.getStream('nope')).toBeUndefined()
      }),
    )

    it(
      'puts from a stream and reads back as a stream',
      withStore(async (s) => {
        const parts = Array.from({ length: 5 }, (_, i) => Buffer.alloc(100_000, i))
        await s.put('streamed/x', chunks(parts))
        const got = Buffer.concat(await collect((await s.getStream('streamed/x'))!))
        expect(got.equals(Buffer.concat(parts))).toBe(true)
        const info = await s.head('streamed/x')
        expect(info?.size).toBe(500_000)
        expect(info?.lastModified).toBeGreaterThan(0)
      }),
    )

    it(
      'reads byte ranges, clamped to the object, without reading the rest',
      withStore(async (s) => {
        const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 256)
        await s.put('ranged', bytes)
        expect(Array.from((await s.getRange('ranged', 10, 14))!)).toEqual([10, 11, 12, 13])
        expect((await s.getRange('ranged', 990, 2000))!.byteLength).toBe(10)
        expect((await s.getRange('ranged', 0, 1000))!.byteLength).toBe(1000)
        expect((await s.getRange('ranged', 5, 5))!.byteLength).toBe(0)
        expect(await s.getRange('missing', 0, 10)).toBeUndefined()
      }),
    )

    it(
      'with ownedReads, every read is a buffer of its own: detaching one changes no later read',
      withStore(async (s) => {
        if (!s.ownedReads) return
        const bytes = Uint8Array.from({ length: 64 * 1024 }, (_, i) => i % 251)
        await s.put('owned', bytes)
        for (const read of [() => s.getRange('owned', 0, bytes.length), () => s.getRange('owned', 100, 50_000), () => s.get('owned')]) {
          const first = (await read())!
          const expected = Array.from(first)
          // what a caller that owns the bytes may do: transfer (detach) their buffer, or write into it
          if (first.byteOffset === 0 && first.byteLength === first.buffer.byteLength && first.buffer instanceof ArrayBuffer)
            structuredClone(first.buffer, { transfer: [first.buffer] })
          else first.fill(0)
          expect(Array.from((await read())!)).toEqual(expected)
        }
      }),
    )

    it(
      'put-if-absent writes once and never overwrites',
      withStore(async (s) => {
        expect(await s.put('once', Buffer.from('first'), { ifAbsent: true })).toBe(true)
        expect(await s.put('once', Buffer.from('second'), { ifAbsent: true })).toBe(false)
        expect(Buffer.from((await s.get('once'))!).toString()).toBe('first')
      }),
    )

    it(
      'put-if-absent from concurrent writers lets exactly one win',
      withStore(async (s) => {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.put('race', Buffer.from(`writer-${i}`), { ifAbsent: true })))
        expect(results.filter(Boolean)).toHaveLength(1)
        const winner = results.indexOf(true)
        expect(Buffer.from((await s.get('race'))!).toString()).toBe(`writer-${winner}`)
      }),
    )

    it(
      'overwrites without ifAbsent',
      withStore(async (s) => {
        await s.put('k', Buffer.from('1'))
        await s.put('k', Buffer.from('2'))
        expect(Buffer.from((await s.get('k'))!).toString()).toBe('2')
      }),
    )

    it(
      'deletes, and deleting a missing key is fine',
      withStore(async (s) => {
        await s.put('d/1', Buffer.from('x'))
        await s.delete('d/1')
        await s.delete('d/1')
        expect(await s.get('d/1')).toBeUndefined()
      }),
    )

    it(
      'lists by raw key prefix, in key order',
      withStore(async (s) => {
        for (const k of ['p/a', 'p/b/c', 'p/b.d', 'p/ba', 'q/a', 'pz']) await s.put(k, Buffer.from(k))
        expect((await collect(s.list('p/'))).map((o) => o.key)).toEqual(['p/a', 'p/b.d', 'p/b/c', 'p/ba'])
        expect((await collect(s.list('p/b'))).map((o) => o.key)).toEqual(['p/b.d', 'p/b/c', 'p/ba'])
        expect((await collect(s.list('p'))).map((o) => o.key)).toEqual(['p/a', 'p/b.d', 'p/b/c', 'p/ba', 'pz'])
        expect(await collect(s.list('nothing/'))).toEqual([])
        const [first] = await collect(s.list('p/a'))
        expect(first?.size).toBe(3)
      }),
    )

    it(
      'lists many keys',
      withStore(async (s) => {
        const keys = Array.from({ length: 1200 }, (_, i) => `many/${String(i).padStart(5, '0')}`)
        await Promise.all(keys.map((k) => s.put(k, Buffer.from('v'))))
        expect((await collect(s.list('many/'))).map((o) => o.key)).toEqual(keys)
      }),
    )

    it(
      'touches an object to refresh its lastModified; deletes many at once',
      withStore(async (s) => {
        await s.put('touched', Buffer.from('x'))
        const before = (await s.head('touched'))!.lastModified
        await new Promise((r) => setTimeout(r, 1100)) // S3 keeps LastModified to the second
        expect(await s.touch('touched')).toBe(true)
        if (!quirks.touchKeepsLastModified) expect((await s.head('touched'))!.lastModified).toBeGreaterThan(before)
        expect(Buffer.from((await s.get('touched'))!).toString()).toBe('x')
        expect(await s.touch('never-was')).toBe(false)
        for (let i = 0; i < 5; i++) await s.put(`many/${i}`, Buffer.from('v'))
        await (s.deleteMany ? s.deleteMany(['many/0', 'many/1', 'many/2', 'nope']) : Promise.all(['many/0', 'many/1', 'many/2'].map((k) => s.delete(k))))
        expect((await collect(s.list('many/'))).map((o) => o.key)).toEqual(['many/3', 'many/4'])
      }),
    )

    it(
      'renames onto a new key and removes the old one',
      withStore(async (s) => {
        await s.put('tmp/x', Buffer.from('payload'))
        await s.rename('tmp/x', 'final/x')
        expect(await s.get('tmp/x')).toBeUndefined()
        expect(Buffer.from((await s.get('final/x'))!).toString()).toBe('payload')
      }),
    )

    it(
      'stores empty objects and binary content exactly',
      withStore(async (s) => {
        await s.put('empty', new Uint8Array(0))
        expect((await s.get('empty'))?.byteLength).toBe(0)
        const bin = Uint8Array.from({ length: 256 }, (_, i) => i)
        await s.put('bin', bin)
        expect(Buffer.from((await s.get('bin'))!).equals(Buffer.from(bin))).toBe(true)
      }),
    )

    // Stores with multipart uploads of their own (NativeMultipart): what repo.uploads relies on.
    it(
      'native multipart (where the store has it): parts in any order, listed, assembled; abort drops the upload',
      withStore(async (s) => {
        const m = s.multipart
        if (!m) return // a store without it keeps uploads elsewhere (the gateway's upload folder)
        const MiB = 1024 * 1024
        const parts = [Buffer.alloc(5 * MiB, 1), Buffer.alloc(5 * MiB, 2), Buffer.from('the last part is short')]
        const id = await m.create('blobs/mp-1')
        const etags: string[] = []
        etags[2] = await m.uploadPart('blobs/mp-1', id, 3, parts[2]!, parts[2]!.byteLength)
        etags[0] = await m.uploadPart('blobs/mp-1', id, 1, chunks([parts[0]!.subarray(0, MiB), parts[0]!.subarray(MiB)]), parts[0]!.byteLength)
        etags[1] = await m.uploadPart('blobs/mp-1', id, 2, parts[1]!, parts[1]!.byteLength)
        const listed = await m.listParts('blobs/mp-1', id)
        expect(listed?.map((p) => [p.n, p.etag, p.size])).toEqual([
          [1, etags[0], 5 * MiB],
          [2, etags[1], 5 * MiB],
          [3, etags[2], parts[2]!.byteLength],
        ])
        expect(await s.head('blobs/mp-1')).toBeUndefined() // nothing is visible before complete
        await m.complete(
          'blobs/mp-1',
          id,
          etags.map((etag, i) => ({ n: i + 1, etag })),
        )
        expect(Buffer.from((await s.get('blobs/mp-1'))!).equals(Buffer.concat(parts))).toBe(true)
        expect(await m.listParts('blobs/mp-1', id)).toBeUndefined()

        const dropped = await m.create('blobs/mp-2')
        await m.uploadPart('blobs/mp-2', dropped, 1, parts[2]!, parts[2]!.byteLength)
        await m.abort('blobs/mp-2', dropped)
        expect(await m.listParts('blobs/mp-2', dropped)).toBeUndefined()
        expect(await s.head('blobs/mp-2')).toBeUndefined()
        await m.abort('blobs/mp-2', dropped) // aborting again is not an error
      }),
    )

    it(
      'a failing stream leaves no object behind',
      withStore(async (s) => {
        async function* broken(): AsyncIterable<Uint8Array> {
          yield Buffer.alloc(1000, 1)
          throw new Error('source broke')
        }
        await expect(s.put('broken', broken())).rejects.toThrow(/source broke/)
        expect(await s.get('broken')).toBeUndefined()
      }),
    )
  })
}
