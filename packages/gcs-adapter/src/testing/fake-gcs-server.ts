import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** A real GCS endpoint for tests (fake-gcs-server), with the means to crash and revive it. */
export interface TestGcs {
  readonly kind: 'env' | 'fake-gcs-server'
  /** The endpoint a user sets as STORAGE_EMULATOR_HOST (or GcsOptions.endpoint). */
  readonly endpoint: string
  /** Kills the emulator as a crash would (SIGKILL), keeping its data. Only for `fake-gcs-server`. */
  kill(): Promise<void>
  /** Starts it again on the same port and data after `kill`. Only for `fake-gcs-server`. */
  restart(): Promise<void>
  stop(): Promise<void>
  /** Creates a bucket (an existing one is fine). */
  createBucket(name: string): Promise<void>
}

/**
 * Gives a test suite a GCS endpoint: `VARVE_TEST_GCS_ENDPOINT` (an emulator already running), else
 * fake-gcs-server (Go: `GOTOOLCHAIN=local go install github.com/fsouza/fake-gcs-server@v1.56.1`, which
 * `scripts/install-emulators.sh` runs) on a free loopback port with a temp folder. It enforces
 * generation preconditions on uploads as GCS does.
 */
export async function startTestGcs(): Promise<TestGcs> {
  const env = process.env.VARVE_TEST_GCS_ENDPOINT
  const server = env ? external(env) : await startFakeGcs()
  return {
    ...server,
    createBucket: async (name) => {
      const r = await fetch(`${server.endpoint}/storage/v1/b?project=varve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      })
      if (!r.ok && r.status !== 409) throw new Error(`creating bucket ${name} failed: ${r.status} ${await r.text()}`)
    },
  }
}

function external(endpoint: string): Omit<TestGcs, 'createBucket'> {
  const none = async () => {
    throw new Error('cannot kill or restart an external GCS endpoint')
  }
  return { kind: 'env', endpoint: endpoint.replace(/\/+$/, ''), kill: none, restart: none, stop: async () => {} }
}

function findBinary(): string {
  const candidates = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'fake-gcs-server'))
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (gopath) candidates.push(path.join(gopath.split(path.delimiter)[0]!, 'bin', 'fake-gcs-server'))
  } catch {
    /* no go toolchain */
  }
  candidates.push(path.join(os.homedir(), 'go', 'bin', 'fake-gcs-server'))
  const found = candidates.find((c) => fs.existsSync(c))
  if (!found)
    throw new Error(
      'No GCS endpoint for the tests: set VARVE_TEST_GCS_ENDPOINT, or run bash scripts/install-emulators.sh ' +
        '(GOTOOLCHAIN=local go install github.com/fsouza/fake-gcs-server@v1.56.1)',
    )
  return found
}

async function startFakeGcs(): Promise<Omit<TestGcs, 'createBucket'>> {
  const binary = findBinary()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-fake-gcs-'))
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  let log = ''
  const launch = async () => {
    log = ''
    child = spawn(
      binary,
      [
        '-scheme',
        'http',
        '-host',
        '127.0.0.1',
        '-port',
        String(port),
        '-backend',
        'filesystem',
        '-filesystem-root',
        dir,
        '-external-url',
        endpoint,
        '-public-host',
        `127.0.0.1:${port}`,
        '-log-level',
        'error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child.stdout?.on('data', (d) => (log = (log + d).slice(-4000)))
    child.stderr?.on('data', (d) => (log = (log + d).slice(-4000)))
    await waitReady(
      endpoint,
      () => child?.exitCode ?? null,
      () => log,
    )
  }
  await launch()
  const killNow = async () => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await exited
  }
  return {
    kind: 'fake-gcs-server',
    endpoint,
    kill: killNow,
    restart: launch,
    stop: async () => {
      await killNow()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function freePort(): Promise<number> {
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

/** Ready when the bucket listing answers; a busy machine may take long, so the wait is generous. */
async function waitReady(endpoint: string, exitCode: () => number | null, log: () => string): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`fake-gcs-server exited with ${exitCode()}: ${log()}`)
    const ok = await fetch(`${endpoint}/storage/v1/b?project=varve`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`fake-gcs-server did not become ready at ${endpoint} within 120 s: ${log()}`)
}
