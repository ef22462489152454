import cliProgress from 'cli-progress'
import { formatBytes } from './output.js'

export interface Progress {
  /** One file done, of `bytes` bytes. */
  tick(bytes: number): void
  stop(): void
}

/**
 * A progress bar on stderr (files, bytes, rate, ETA), only when stderr is a terminal: piped or
 * scripted runs get clean output.
 */
export function startProgress(label: string, totalFiles: number, totalBytes: number): Progress {
  if (!process.stderr.isTTY || process.env.VARVE_NO_PROGRESS) return { tick: () => {}, stop: () => {} }
  const started = Date.now()
  let files = 0
  let bytes = 0
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} {bar} {percentage}% | {files}/{totalFiles} files | {fileRate} files/s | {bytes}/{totalBytes} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(Math.max(1, totalBytes), 0, { files, totalFiles, fileRate: 0, bytes: formatBytes(0), totalBytes: formatBytes(totalBytes), rate: formatBytes(0) })
  return {
    tick(n) {
      files++
      bytes += n
      const secs = Math.max(0.001, (Date.now() - started) / 1000)
      bar.update(Math.min(bytes, Math.max(1, totalBytes)), {
        files,
        totalFiles,
        fileRate: Math.round(files / secs),
        bytes: formatBytes(bytes),
        totalBytes: formatBytes(totalBytes),
        rate: formatBytes(bytes / secs),
      })
    },
    stop() {
      bar.stop()
    },
  }
}

/** A one-line counter on stderr for work of unknown size (an import's listing): what is done, and its rate. */
export function startCounter(label: string): { update(text: string, done: number): void; stop(): void } {
  if (!process.stderr.isTTY || process.env.VARVE_NO_PROGRESS) return { update: () => {}, stop: () => {} }
  const started = Date.now()
  let last = 0
  let shown = false
  return {
    update(text, done) {
      const now = Date.now()
      if (now - last < 100) return
      last = now
      const rate = Math.round(done / Math.max(0.001, (now - started) / 1000))
      process.stderr.write(`\r${label}: ${text}, ${rate.toLocaleString('en-US')}/s\x1b[K`)
      shown = true
    },
    stop() {
      if (shown) process.stderr.write('\r\x1b[K')
    },
  }
}
