// Worker thread of column-scan.ts: streams the named columns of one Parquet file, row group by row
// group, reading byte ranges through the calling thread, and answers with each column's null count
// and a value found twice. Runs apart so that a gate's timeout can terminate it.
import { randomInt } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { makeVector } from 'apache-arrow'
import type { CallerMessage, ColumnScan, ScanRequest, WorkerMessage } from './column-scan.js'
import { HashPartitions } from './hash-partitions.js'
import { ParquetStream } from './parquet-stream.js'
import { topLevelNames } from './parquet-types.js'
import type { RangeSource } from './range-source.js'
import { ValueHasher } from './value-hash.js'
import { valueKey } from './value-key.js'

/** Repeated hashes checked against the values per pass (almost always the first is a real duplicate). */
const CANDIDATES_PER_PASS = 4096

const port = parentPort!
const send = (m: WorkerMessage) => port.postMessage(m)
const pending = new Map<number, (bytes: Uint8Array) => void>()
let nextId = 0

port.on('message', (m: CallerMessage) => {
  if (m.type === 'scan') void scan(m)
  else if (m.type === 'bytes') pending.get(m.id)?.(m.bytes)
})

const source = (size: number): RangeSource => ({
  size,
  read: (start, end) =>
    new Promise((resolve) => {
      const id = nextId++
      pending.set(id, (bytes) => {
        pending.delete(id)
        resolve(bytes)
      })
      send({ type: 'read', id, start, end })
    }),
})

async function scan(req: ScanRequest): Promise<void> {
  let file: ParquetStream | undefined
  try {
    file = await ParquetStream.open(source(req.size), req.path)
    const present = new Set(topLevelNames(file.metadata))
    const result: Record<string, ColumnScan> = {}
    for (const name of req.columns) {
      if (!present.has(name)) result[name] = { present: false, nullCount: 0 }
      else result[name] = await scanColumn(file, name, req)
    }
    send({ type: 'done', result })
  } catch (err) {
    send({ type: 'failed', message: (err as Error)?.message ?? String(err), code: (err as { code?: string }).code })
  } finally {
    file?.close()
  }
}

async function scanColumn(file: ParquetStream, name: string, req: ScanRequest): Promise<ColumnScan> {
  const hasher = new ValueHasher(randomInt(2 ** 31), randomInt(2 ** 31))
  const hashes = req.duplicates ? new HashPartitions(req.dir, file.numRows) : undefined
  let nullCount = 0
  try {
    for await (const { table } of file.batches({ columns: [name] })) {
      const column = table.getChild(name)!
      nullCount += column.nullCount
      if (hashes) for (const data of column.data) hasher.hashAll(data, (_i, lo, hi) => hashes.add(lo, hi))
    }
    const duplicate = hashes ? await findDuplicate(file, name, hasher, hashes.repeated()) : undefined
    return { present: true, nullCount, ...(duplicate !== undefined ? { duplicate } : {}) }
  } finally {
    hashes?.close()
  }
}

/**
 * A value whose hash is repeated and that really occurs twice: the column is read again and the
 * values with those hashes are compared exactly (valueKey), a few thousand hashes per pass.
 */
async function findDuplicate(file: ParquetStream, name: string, hasher: ValueHasher, repeated: Iterator<[number, number]>): Promise<string | undefined> {
  for (;;) {
    const candidates = new Map<number, Set<number>>()
    let count = 0
    for (let next = repeated.next(); !next.done; next = count < CANDIDATES_PER_PASS ? repeated.next() : { done: true, value: undefined }) {
      const [lo, hi] = next.value
      let his = candidates.get(lo)
      if (!his) candidates.set(lo, (his = new Set()))
      his.add(hi)
      count++
    }
    if (count === 0) return undefined
    const seen = new Map<string, Set<string>>()
    for await (const { table } of file.batches({ columns: [name] })) {
      const column = table.getChild(name)!
      for (const data of column.data) {
        let found: number | undefined
        hasher.hashAll(data, (i, lo, hi) => {
          if (found !== undefined || !candidates.get(lo)?.has(hi)) return
          const hash = `${lo}:${hi}`
          const key = valueKey(data, i)!
          let keys = seen.get(hash)
          if (!keys) seen.set(hash, (keys = new Set()))
          if (keys.has(key)) found = i
          else keys.add(key)
        })
        if (found !== undefined) return showValue(makeVector(data).get(found))
      }
    }
  }
}

const showValue = (v: unknown): string =>
  typeof v === 'object' && v !== null && !(v instanceof Date) ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)) : String(v)
