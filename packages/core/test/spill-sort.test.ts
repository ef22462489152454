import fs from 'node:fs/promises'
import os from 'node:os'
import { describe, expect, it } from 'vitest'
import { comparePaths } from '../src/util/paths.js'
import { spillSort } from '../src/util/spill-sort.js'

// The sort an inventory import uses (issue 25): runs spilled to disk and merged give the order of one
// in-memory sort, for any run size, and leave no temporary files behind.

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items
}
const collectAll = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
const tempRuns = async () => (await fs.readdir(os.tmpdir())).filter((n) => n.startsWith('varve-sort-')).length

describe('spillSort', () => {
  it('sorts through spilled runs exactly as one sort does (UTF-8 key order), for many run sizes', async () => {
    const keys = Array.from(
      { length: 5000 },
      (_, i) => `k/${((i * 7919) % 5003).toString(36)}/${String.fromCodePoint(0x41 + (i % 3) * 0x4000 + (i % 5) * 0x3000)}`,
    )
    const expected = [...keys].sort(comparePaths)
    const before = await tempRuns()
    for (const runSize of [13, 1000, 4999, 5000, 100_000]) expect(await collectAll(spillSort(from(keys), comparePaths, { runSize }))).toEqual(expected)
    expect(await tempRuns()).toBe(before)
  })

  it('removes its runs when the consumer stops early or the source fails', async () => {
    const before = await tempRuns()
    for await (const _ of spillSort(from(Array.from({ length: 100 }, (_, i) => [String(i), i])), (a, b) => comparePaths(a[0] as string, b[0] as string), {
      runSize: 10,
    }))
      break
    async function* failing() {
      for (let i = 0; i < 50; i++) yield String(i)
      throw new Error('source failed')
    }
    await expect(collectAll(spillSort(failing(), comparePaths, { runSize: 10 }))).rejects.toThrow('source failed')
    expect(await tempRuns()).toBe(before)
  })
})
