import { createRequire } from 'node:module'
import path from 'node:path'
import { BlobServiceClient } from '@azure/storage-blob'
import { freePort, listening, startEmulator } from '@varve/core/testing/emulators'

/** A real Azure Blob endpoint for tests (Azurite), with the means to crash and revive it. */
export interface TestAzure {
  readonly kind: 'env' | 'azurite'
  /** The storage account every `az://` location of the tests names. */
  readonly account: string
  /** What a user sets as AZURE_STORAGE_CONNECTION_STRING to reach it. */
  readonly connectionString: string
  /**
   * Stops the emulator at once, as a crash looks to its clients (connections refused), keeping its
   * data. Only for `azurite`. SIGTERM, not SIGKILL (see startAzurite).
   */
  kill(): Promise<void>
  /** Starts it again on the same port and data after `kill`. Only for `azurite`. */
  restart(): Promise<void>
  stop(): Promise<void>
  /** Creates a container (an existing one is fine). */
  createContainer(name: string): Promise<void>
}

// Azurite's well-known development account (public, in Microsoft's documentation).
const ACCOUNT = 'devstoreaccount1'
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

/**
 * Gives a test suite a real Azure Blob endpoint: `VARVE_TEST_AZURE_CONNECTION_STRING` (any account),
 * else Azurite (the `azurite` npm package, a dev dependency of the workspace) spawned on a free
 * loopback port with a temp folder.
 */
export async function startTestAzure(): Promise<TestAzure> {
  const env = process.env.VARVE_TEST_AZURE_CONNECTION_STRING
  const server = env ? external(env) : await startAzurite()
  return {
    ...server,
    createContainer: async (name) => {
      const container = BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(name)
      await container.createIfNotExists()
    },
  }
}

function external(connectionString: string): Omit<TestAzure, 'createContainer'> {
  const none = async () => {
    throw new Error('cannot kill or restart an external Azure endpoint')
  }
  const account = /AccountName=([^;]+)/.exec(connectionString)?.[1] ?? ACCOUNT
  return { kind: 'env', account, connectionString, kill: none, restart: none, stop: async () => {} }
}

async function startAzurite(): Promise<Omit<TestAzure, 'createContainer'>> {
  const main = azuriteBlobMain()
  const port = await freePort()
  const emulator = await startEmulator({
    name: 'azurite',
    command: process.execPath,
    args: (dir) => [main, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir, '--silent', '--disableTelemetry', '--skipApiVersionCheck'],
    ready: () => listening(port),
    // Azurite keeps its metadata in memory and saves it every few seconds: a SIGKILL loses containers
    // and blobs it had acknowledged (seen: a container made a second before the kill was gone after
    // the restart), which Azure never does. SIGTERM stops it as abruptly for its clients, and it saves.
    killSignal: 'SIGTERM',
  })
  return {
    kind: 'azurite',
    account: ACCOUNT,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`,
    ...emulator,
  }
}

function azuriteBlobMain(): string {
  const require = createRequire(path.join(process.cwd(), 'package.json'))
  for (const from of [process.cwd(), path.dirname(new URL(import.meta.url).pathname)]) {
    try {
      return path.join(path.dirname(require.resolve('azurite/package.json', { paths: [from] })), 'dist', 'src', 'blob', 'main.js')
    } catch {
      /* try the next place */
    }
  }
  throw new Error('No Azure endpoint for the tests: set VARVE_TEST_AZURE_CONNECTION_STRING, or install Azurite (pnpm add -D azurite@3.35.0)')
}
