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
      const bytes = fs.readFileSync(job.file)
      if (job.check && createHash('sha256').update(bytes).digest('hex') === job.check) {
        results.push({ unchanged: true })
        continue
      }
      // A copy of exactly the file's bytes, so the transferred buffer holds nothing else.
      const own = new Uint8Array(bytes.byteLength)
      own.set(bytes)
      transfer.push(own.buffer)
      results.push({ bytes: own })
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      results.push({ error: { code: e.code ?? 'EIO', message: e.message } })
    }
  }
  parentPort!.postMessage({ id, results }, transfer)
})
