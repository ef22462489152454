import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { JsonValue } from './canonical-json.js'

/**
 * Sorts a stream too large for memory: runs of `runSize` items are sorted and written to temporary
 * files, then merged (a heap over the runs' heads). Memory stays at one run plus one line per run;
 * a stream that fits one run never touches the disk. Items must survive JSON (they are spilled as lines).
 */
export async function* spillSort<T extends JsonValue>(
  items: AsyncIterable<T>,
  compare: (a: T, b: T) => number,
  options: { readonly runSize?: number; readonly signal?: AbortSignal } = {},
): AsyncGenerator<T> {
  const runSize = options.runSize ?? 200_000
  let run: T[] = []
  let dir: string | undefined
  const files: string[] = []
  try {
    for await (const item of items) {
      run.push(item)
      if (run.length < runSize) continue
      options.signal?.throwIfAborted()
      dir ??= await fs.mkdtemp(path.join(os.tmpdir(), 'varve-sort-'))
      files.push(await writeRun(dir, files.length, run.sort(compare)))
      run = []
    }
    run.sort(compare)
    if (!files.length) {
      yield* run
      return
    }
    yield* mergeRuns([run[Symbol.iterator](), ...files.map((f) => readRun<T>(f))], compare)
  } finally {
    if (dir) await fs.rm(dir, { recursive: true, force: true })
  }
}

async function writeRun(dir: string, n: number, items: readonly JsonValue[]): Promise<string> {
  const file = path.join(dir, `run-${n}.ndjson`)
  const handle = await fs.open(file, 'w')
  try {
    const lines: string[] = []
    for (const item of items) {
      lines.push(JSON.stringify(item))
      if (lines.length >= 4096) await handle.write(`${lines.splice(0).join('\n')}\n`)
    }
    if (lines.length) await handle.write(`${lines.join('\n')}\n`)
  } finally {
    await handle.close()
  }
  return file
}

async function* readRun<T>(file: string): AsyncGenerator<T> {
  for await (const line of createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) if (line) yield JSON.parse(line) as T
}

type Cursor<T> = { value: T; rest: Iterator<T> | AsyncIterator<T> }

/** Merges sorted runs into one sorted stream. */
async function* mergeRuns<T>(runs: (Iterator<T> | AsyncIterator<T>)[], compare: (a: T, b: T) => number): AsyncGenerator<T> {
  const heap: Cursor<T>[] = []
  const less = (i: number, j: number) => compare(heap[i]!.value, heap[j]!.value) < 0
  const swap = (i: number, j: number) => ([heap[i], heap[j]] = [heap[j]!, heap[i]!])
  const up = (i: number) => {
    for (let p = (i - 1) >> 1; i > 0 && less(i, p); i = p, p = (i - 1) >> 1) swap(i, p)
  }
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && less(l, m)) m = l
      if (r < heap.length && less(r, m)) m = r
      if (m === i) return
      swap(i, m)
      i = m
    }
  }
  for (const rest of runs) {
    const first = await rest.next()
    if (first.done) continue
    heap.push({ value: first.value, rest })
    up(heap.length - 1)
  }
  while (heap.length) {
    const top = heap[0]!
    yield top.value
    const next = await top.rest.next()
    if (next.done) {
      const last = heap.pop()!
      if (heap.length) {
        heap[0] = last
        down(0)
      }
    } else {
      top.value = next.value
      down(0)
    }
  }
}
