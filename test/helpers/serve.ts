import { execFile, spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { VARVE_BIN } from './varve-cli.js'

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..')

/** A `varve serve` process, spawned from the built CLI; `url` from its first stdout line. */
export interface ServeProcess {
  readonly url: string
  readonly child: ChildProcess
  /** SIGTERM, then the exit code (0 when it drained and stopped). */
  stop(): Promise<number | null>
}

export async function spawnServe(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<ServeProcess> {
  const child = spawn(process.execPath, [VARVE_BIN, 'serve', ...args], {
    cwd: options.cwd,
    env: { ...process.env, VARVE_REPO: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const line = out.split('\n')[0]!
      if (out.includes('\n')) {
        const m = /^listening on (https?:\/\/\S+)$/.exec(line)
        if (m) resolve(m[1]!)
        else reject(new Error(`unexpected first line: ${line}`))
      }
    })
    void exited.then((code) => reject(new Error(`varve serve exited with ${code}: ${stderr}`)))
  })
  return {
    url,
    child,
    stop: async () => {
      child.kill('SIGTERM')
      return exited
    },
  }
}

/** The Python venv with the pinned clients (scripts/python-venv.sh makes it once, then reuses it). */
export async function pythonVenv(): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)('bash', [path.join(ROOT, 'scripts', 'python-venv.sh')], { timeout: 20 * 60_000 })
  if (stderr.trim()) process.stderr.write(stderr)
  return stdout.trim()
}

/** Runs a script of test/python with the venv's python; resolves with its JSON output. */
export async function runPython(venv: string, script: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await promisify(execFile)(path.join(venv, 'bin', 'python'), [path.join(ROOT, 'test', 'python', script)], {
      env: { ...process.env, ...env },
      timeout: 15 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    })
    return JSON.parse(stdout) as Record<string, unknown>
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string }
    throw new Error(`${script} failed:\n${e.stderr ?? ''}\n${e.stdout ?? ''}\n${e.message}`)
  }
}
