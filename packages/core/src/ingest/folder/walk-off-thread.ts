import { Worker } from 'node:worker_threads'
import { workerExecArgv } from '../../util/worker-exec-argv.js'
import { FileList, type FileListParts } from './local-files.js'

type WalkReply = { parts: FileListParts } | { error: { code?: string; message: string } }

/**
 * `walkFolder` in a worker thread, so the caller's thread is free meanwhile (putFolder reads the
 * branch's listing while the folder's files are stat'ed). Fails as walkFolder does, with the same code.
 */
export function walkOffThread(root: string, options: { followSymlinks?: boolean } = {}): Promise<FileList> {
  const worker = new Worker(new URL('./walk-worker.js', import.meta.url), { execArgv: workerExecArgv() })
  return new Promise<FileList>((resolve, reject) => {
    worker.once('message', (reply: WalkReply) => {
      if ('parts' in reply) return resolve(FileList.from(reply.parts))
      reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }))
    })
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`the folder walk's thread exited (${code}) before it answered`)))
    worker.postMessage({ root, followSymlinks: options.followSymlinks === true })
  }).finally(() => void worker.terminate())
}
