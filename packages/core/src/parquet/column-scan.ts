import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { VarveError } from '../errors/varve-error.js'
import { workerExecArgv } from '../util/worker-exec-argv.js'
import type { RangeSource } from './range-source.js'

export interface ScanRequest {
  readonly type: 'scan'
  readonly size: number
  readonly path: string
  readonly columns: readonly string[]
  /** Also look for a repeated value (the `unique` check). */
  readonly duplicates: boolean
  /** A folder the worker may spill hashes to (removed by the caller). */
  readonly dir: string
}

/** Messages between the caller and the scan worker. */
export type WorkerMessage =
  | { type: 'read'; id: number; start: number; end: number }
  | { type: 'done'; result: Record<string, ColumnScan> }
  | { type: 'failed'; message: string; code?: string | undefined }
export type CallerMessage = ScanRequest | { type: 'bytes'; id: number; bytes: Uint8Array } | { type: 'unreadable'; id: number; message: string }

export interface ColumnScan {
  readonly present: boolean
  readonly nullCount: number
  /** A value found twice, when duplicates were asked for. */
  readonly duplicate?: string
}

let live = 0
/** Column scans running now (for tests: a timed-out scan must not keep a thread busy). */
export const liveColumnScans = () => live

/**
 * Reads columns of a Parquet file in a worker thread, one column and one row group at a time, and
 * answers with their null counts and, with `duplicates`, a value found twice. The worker asks for
 * byte ranges (the footer, then each column chunk) and this thread reads them from `source`, so
 * memory is bounded by a row group's column, not the file. Decoding is synchronous CPU work on user
 * data, so only a thread that can be terminated lets a gate's timeout really stop it: `signal`
 * aborting terminates the worker at once and rejects with the signal's reason.
 */
export async function scanColumns(
  source: RangeSource,
  filePath: string,
  columns: readonly string[],
  options: { duplicates: boolean; signal?: AbortSignal },
): Promise<Record<string, ColumnScan>> {
  const { signal } = options
  if (signal?.aborted) throw signal.reason
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-scan-'))
  try {
    return await runWorker(source, filePath, columns, options.duplicates, dir, signal)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

function runWorker(
  source: RangeSource,
  filePath: string,
  columns: readonly string[],
  duplicates: boolean,
  dir: string,
  signal: AbortSignal | undefined,
): Promise<Record<string, ColumnScan>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./column-scan-worker.js', import.meta.url), { execArgv: workerExecArgv() })
    live++
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      live--
      signal?.removeEventListener('abort', onAbort)
      void worker.terminate().then(fn, fn)
    }
    const onAbort = () => finish(() => reject(signal!.reason))
    signal?.addEventListener('abort', onAbort, { once: true })
    const post = (m: CallerMessage, transfer: ArrayBuffer[] = []) => {
      if (!settled) worker.postMessage(m, transfer)
    }
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'read') {
        source.read(m.start, m.end).then(
          (bytes) => {
            // Transferred: as it is when the store says the buffer is ours alone and it spans its
            // whole ArrayBuffer (a copy would double the garbage this thread leaves per chunk), else
            // a copy (never a buffer a store keeps; Uint8Array's slice, as a Buffer's is a view).
            const whole = source.owned === true && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
            const copy = whole ? bytes : Uint8Array.prototype.slice.call(bytes)
            post({ type: 'bytes', id: m.id, bytes: copy }, [copy.buffer as ArrayBuffer])
          },
          (err) => {
            // A store that cannot be read is not a broken file: the scan fails with the store's error.
            finish(() => reject(err))
          },
        )
      } else if (m.type === 'done') {
        finish(() => resolve(m.result))
      } else {
        finish(() =>
          reject(new VarveError(m.code === 'INVALID_PARQUET' || !m.code ? 'INVALID_PARQUET' : 'UNAVAILABLE', m.message, { details: { path: filePath } })),
        )
      }
    })
    worker.once('error', (err) =>
      finish(() => reject(new VarveError('INVALID_PARQUET', `${filePath} could not be decoded: ${err.message}`, { cause: err, details: { path: filePath } }))),
    )
    worker.once('exit', (code) =>
      finish(() => reject(new VarveError('UNAVAILABLE', `the Parquet decoder of ${filePath} stopped (exit ${code})`, { details: { path: filePath } }))),
    )
    post({ type: 'scan', size: source.size, path: filePath, columns: [...columns], duplicates, dir })
  })
}
