import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** A store emulator (MinIO, Azurite, fake-gcs-server) run as a child process on its own data folder. */
export interface EmulatorProcess {
  /** Stops it at once as a crash would (its `killSignal`), keeping its data folder. */
  kill(): Promise<void>
  /** Starts it again on the same port and data after `kill`. */
  restart(): Promise<void>
  /** Kills it and removes its data folder. */
  stop(): Promise<void>
}

export interface EmulatorSpec {
  readonly name: string
  readonly command: string
  /** The arguments, given the data folder. */
  readonly args: (dataDir: string) => string[]
  readonly env?: NodeJS.ProcessEnv
  /** True once it serves requests. */
  readonly ready: () => Promise<boolean>
  /** How `kill` stops it (default SIGKILL). */
  readonly killSignal?: NodeJS.Signals
}

/** A free port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

/** A program in PATH, `$(go env GOPATH)/bin` or `~/go/bin` (where `go install` puts it), or undefined. */
export function findGoBinary(name: string): string | undefined {
  const candidates = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, name))
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (gopath) candidates.push(path.join(gopath.split(path.delimiter)[0]!, 'bin', name))
  } catch {
    /* no go toolchain */
  }
  candidates.push(path.join(os.homedir(), 'go', 'bin', name))
  return candidates.find((c) => fs.existsSync(c))
}

/** True when something accepts connections on the loopback port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy()
      resolve(true)
    })
    s.on('error', () => resolve(false))
  })
}

/**
 * Spawns an emulator on a temporary data folder and waits until it is ready. The wait is generous
 * (120 s): on a busy machine a first start can take long, and a slow start is not a failure.
 */
export async function startEmulator(spec: EmulatorSpec): Promise<EmulatorProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `varve-${spec.name}-`))
  let child: ChildProcess | undefined
  let log = ''
  const launch = async () => {
    log = ''
    child = spawn(spec.command, spec.args(dataDir), { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (d) => (log = (log + d).slice(-4000)))
    child.stderr?.on('data', (d) => (log = (log + d).slice(-4000)))
    const deadline = Date.now() + 120_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${spec.name} exited with ${child.exitCode}: ${log}`)
      if (await spec.ready().catch(() => false)) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`${spec.name} did not become ready within 120 s: ${log}`)
  }
  await launch()
  const kill = async () => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill(spec.killSignal ?? 'SIGKILL')
    await exited
  }
  return {
    kill,
    restart: launch,
    stop: async () => {
      await kill()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
