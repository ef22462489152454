import { Worker } from 'node:worker_threads'
import { VarveError } from '../errors/varve-error.js'

export interface ScanRequest {
  readonly bytes: Uint8Array
  readonly columns: readonly string[]
  /** Also look for a repeated value (the `unique` check). */
  readonly duplicates: boolean
}

export interface ColumnScan {
  readonly present: boolean
  readonly nullCount: number
  /** The first value seen twice, when duplicates were asked for. */
  readonly duplicate?: string
}

let live = 0
/** Column scans running now (for tests: a timed-out scan must not keep a thread busy). */
export const liveColumnScans = () => live

/**
 * Decodes columns of a Parquet file in a worker thread: decoding is synchronous CPU work on user
 * data, so only a thread that can be terminated lets a gate's timeout really stop it. `signal`
 * aborting terminates the worker at once and rejects with the signal's reason.
 */
export function scanColumns(bytes: Uint8Array, path: string, columns: readonly string[], options: { duplicates: boolean; signal?: AbortSignal }): Promise<Record<string, ColumnScan>> {
  const { signal } = options
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./column-scan-worker.js', import.meta.url))
    live++
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      live--
      signal?.removeEventListener('abort', onAbort)
      void worker.terminate()
      fn()
    }
    const onAbort = () => finish(() => reject(signal!.reason))
    signal?.addEventListener('abort', onAbort, { once: true })
    worker.once('message', (m: { ok: true; result: Record<string, ColumnScan> } | { ok: false; message: string }) =>
      finish(() =>
        m.ok
          ? resolve(m.result)
          : reject(new VarveError('INVALID_PARQUET', `${path} is not a valid Parquet file: ${m.message}`, { details: { path } })),
      ),
    )
    worker.once('error', (err) => finish(() => reject(new VarveError('INVALID_PARQUET', `${path} could not be decoded: ${err.message}`, { cause: err, details: { path } }))))
    worker.once('exit', (code) => finish(() => reject(new VarveError('UNAVAILABLE', `the Parquet decoder of ${path} stopped (exit ${code})`, { details: { path } }))))
    const copy = bytes.slice() // transferred: the caller keeps its own bytes
    worker.postMessage({ bytes: copy, columns: [...columns], duplicates: options.duplicates } satisfies ScanRequest, [copy.buffer])
  })
}
