import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { BlobServiceClient } from '@azure/storage-blob'

/** A real Azure Blob endpoint for tests (Azurite), with the means to crash and revive it. */
export interface TestAzure {
  readonly kind: 'env' | 'azurite'
  /** The storage account every `az://` location of the tests names. */
  readonly account: string
  /** What a user sets as AZURE_STORAGE_CONNECTION_STRING to reach it. */
  readonly connectionString: string
  /**
   * Stops the emulator at once, as a crash looks to its clients (connections refused), keeping its
   * data. Only for `azurite`. SIGTERM, not SIGKILL: Azurite keeps its metadata in memory and saves it
   * every few seconds, so a SIGKILL loses containers and blobs it had acknowledged, which Azure never
   * does (measured: a container made a second before the kill was gone after the restart).
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-azurite-'))
  const port = await freePort()
  let child: ChildProcess | undefined
  let log = ''
  const launch = async () => {
    log = ''
    child = spawn(
      process.execPath,
      [main, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir, '--silent', '--disableTelemetry', '--skipApiVersionCheck'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child.stdout?.on('data', (d) => (log = (log + d).slice(-4000)))
    child.stderr?.on('data', (d) => (log = (log + d).slice(-4000)))
    await waitListening(
      port,
      () => child?.exitCode ?? null,
      () => log,
    )
  }
  await launch()
  const killNow = async () => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGTERM')
    await exited
  }
  return {
    kind: 'azurite',
    account: ACCOUNT,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`,
    kill: killNow,
    restart: launch,
    stop: async () => {
      await killNow()
      fs.rmSync(dir, { recursive: true, force: true })
    },
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

/** Ready when its port accepts a connection; a busy machine may take long, so the wait is generous. */
async function waitListening(port: number, exitCode: () => number | null, log: () => string): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`azurite exited with ${exitCode()}: ${log()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`azurite did not listen on 127.0.0.1:${port} within 120 s: ${log()}`)
}
