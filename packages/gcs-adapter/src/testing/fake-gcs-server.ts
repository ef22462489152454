import { findGoBinary, freePort, startEmulator } from '@varve/core/testing/emulators'

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

async function startFakeGcs(): Promise<Omit<TestGcs, 'createBucket'>> {
  const binary = findGoBinary('fake-gcs-server')
  if (!binary)
    throw new Error(
      'No GCS endpoint for the tests: set VARVE_TEST_GCS_ENDPOINT, or run bash scripts/install-emulators.sh ' +
        '(GOTOOLCHAIN=local go install github.com/fsouza/fake-gcs-server@v1.56.1)',
    )
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const emulator = await startEmulator({
    name: 'fake-gcs-server',
    command: binary,
    args: (dir) => [
      ...['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'filesystem', '-filesystem-root', dir],
      ...['-external-url', endpoint, '-public-host', `127.0.0.1:${port}`, '-log-level', 'error'],
    ],
    ready: async () => (await fetch(`${endpoint}/storage/v1/b?project=varve`)).ok,
  })
  return { kind: 'fake-gcs-server', endpoint, ...emulator }
}
