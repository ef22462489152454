import { randomInt } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { HashPartitions, ValueHasher } from '@varve/core/internal/parquet'
import { makeData, makeVector, Utf8, vectorFromArray } from 'apache-arrow'

// The building blocks of the exact `unique` check with bounded memory: hashes split into partitions
// spilled to files, and a hasher that gives equal values equal hashes.

describe('HashPartitions', () => {
  it('finds exactly the hashes added more than once, spilled across partitions and in one', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-hashes-'))
    try {
      for (const sizes of [{ partition: 1000, buffered: 4096 }, {}]) {
        const n = 20_000
        const parts = new HashPartitions(dir, n, sizes)
        const added = new Map<string, number>()
        for (let i = 0; i < n; i++) {
          // every 1,000th hash repeats an earlier one; high words vary so every partition is used
          const j = i % 1000 === 999 ? i - 500 : i
          const lo = (j * 2654435761) >>> 0
          const hi = (j * 40503 + (j << 20)) >>> 0
          parts.add(lo, hi)
          added.set(`${lo}:${hi}`, (added.get(`${lo}:${hi}`) ?? 0) + 1)
        }
        if (sizes.partition) {
          expect(parts.partitions).toBeGreaterThan(1)
          expect((await fs.readdir(dir)).length).toBeGreaterThan(0) // spilled
        }
        const repeated = [...parts.repeated()].map(([lo, hi]) => `${lo}:${hi}`).sort()
        expect(repeated).toEqual(
          [...added]
            .filter(([, c]) => c > 1)
            .map(([k]) => k)
            .sort(),
        )
        parts.close()
        expect(await fs.readdir(dir)).toEqual([]) // each partition's file is removed once read
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})

describe('ValueHasher', () => {
  it('equal values hash equal (-0 as 0, every NaN as one, strings by bytes); different values almost never collide', () => {
    const hasher = new ValueHasher(randomInt(2 ** 31), randomInt(2 ** 31))
    const hashes = (data: Parameters<ValueHasher['hashAll']>[0]) => {
      const out: string[] = []
      hasher.hashAll(data, (i, lo, hi) => (out[i] = `${lo}:${hi}`))
      return out
    }
    const f = hashes(vectorFromArray(new Float64Array([0, -0, NaN, 0 / 0, 1.5])).data[0]!)
    expect(f[0]).toBe(f[1])
    expect(f[2]).toBe(f[3])
    expect(new Set(f).size).toBe(3)
    const s = hashes(vectorFromArray(['a,b', 'a,b', 'ab', '', 'é'], new Utf8()).data[0]!)
    expect(s[0]).toBe(s[1])
    expect(new Set(s).size).toBe(4)
    const big = new BigInt64Array(100_000)
    for (let i = 0; i < big.length; i++) big[i] = BigInt(i) * 1_000_000_007n
    const h = hashes(makeVector(big).data[0]!)
    expect(new Set(h).size).toBe(big.length)
    // nulls get no hash
    const withNull = hashes(
      makeData({
        type: new Utf8(),
        length: 2,
        nullCount: 1,
        nullBitmap: new Uint8Array([1]),
        valueOffsets: new Int32Array([0, 1, 1]),
        data: new Uint8Array([120]),
      }),
    )
    expect(Object.keys(withNull)).toEqual(['0'])
  })
})
