import { spawn } from 'node:child_process'
import path from 'node:path'

export { collect, tempDir } from '../../packages/core/test/helpers.js'

/** Runs `node script ...args` as a child process; resolves with its stdout, rejects with its stderr. */
export function runNode(script: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`${path.basename(script)} exited with ${code ?? signal}: ${err.slice(-2000)}`))
    })
  })
}

export const workers = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'workers')
