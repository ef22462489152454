import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { parentPort } from 'node:worker_threads'
import type { ReadJob, ReadResult } from './file-reader.js'

// Reads small files with synchronous calls, off the main thread: on a busy or virtualised machine
// handing each open/read/close to the thread pool costs more than the calls themselves.
parentPort!.on('message', ({ id, jobs }: { id: number; jobs: ReadJob[] }) => {
  const results: ReadResult[] = []
  const transfer: ArrayBuffer[] = []
  for (const job of jobs) {
    try {
      const bytes = readWhole(job.file, job.size)
      if (job.check && createHash('sha256').update(bytes).digest('hex') === job.check) {
        results.push({ unchanged: true })
        continue
      }
      transfer.push(bytes.buffer as ArrayBuffer)
      results.push({ bytes })
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      results.push({ error: { code: e.code ?? 'EIO', message: e.message } })
    }
  }
  parentPort!.postMessage({ id, results }, transfer)
})

/**
 * The file's bytes in a buffer of their own (it is transferred): sized from the walk's stat and read
 * with one call, no copy. A file that grew since the walk is read again whole.
 */
function readWhole(file: string, size: number): Uint8Array {
  const fd = fs.openSync(file, 'r')
  let n = 0
  const buf = new Uint8Array(size + 1)
  try {
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, n)
      n += r
      if (r === 0 || n === buf.length) break
    }
  } finally {
    fs.closeSync(fd)
  }
  if (n <= size) return buf.subarray(0, n)
  const again = fs.readFileSync(file)
  const own = new Uint8Array(again.byteLength)
  own.set(again)
  return own
}
