import fsp from 'node:fs/promises'

/**
 * Starts writing a growing file's bytes to disk, one sync at a time per caller (`running` is the
 * caller's sync in progress, or undefined): the store syncs the object before it is acknowledged,
 * and a gigabyte left to that last sync took seconds. Failures are the store's own sync's to report.
 * Returns the sync now running.
 */
export function startEarlySync(file: string, running: Promise<void> | undefined, done: () => void): Promise<void> {
  if (running) return running
  return (async () => {
    const fh = await fsp.open(file, 'r+')
    try {
      await fh.datasync()
    } finally {
      await fh.close()
    }
  })()
    .catch(() => {})
    .finally(done)
}
