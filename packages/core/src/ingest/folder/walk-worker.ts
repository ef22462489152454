import { parentPort } from 'node:worker_threads'
import { walkFolder } from './local-files.js'

// Walks a folder off the main thread, which meanwhile reads the branch's listing (walkOffThread).
parentPort!.once('message', ({ root, followSymlinks }: { root: string; followSymlinks: boolean }) => {
  try {
    const parts = walkFolder(root, { followSymlinks }).toParts()
    parentPort!.postMessage({ parts }, [parts.names, ...parts.columns])
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    parentPort!.postMessage({ error: { code: e.code, message: e.message } })
  }
})
