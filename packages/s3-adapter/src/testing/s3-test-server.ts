import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { createS3Client } from '../s3-client.js'
import type { S3Options } from '../s3-options.js'

/** A real S3 endpoint for tests, with the means to crash and revive it when it is ours. */
export interface TestS3 {
  readonly kind: 'env' | 'minio-binary' | 'testcontainers'
  readonly options: Required<Pick<S3Options, 'endpoint' | 'region' | 'credentials' | 'forcePathStyle'>>
  /** Kills the server as a crash would (SIGKILL), keeping its data. Only for `minio-binary`. */
  kill(): Promise<void>
  /** Starts the server again on the same port and data after `kill`. Only for `minio-binary`. */
  restart(): Promise<void>
  stop(): Promise<void>
  /** Creates a bucket on this endpoint (ignores one that already exists and is ours). */
  createBucket(name: string): Promise<void>
}

const USER = 'varvetest'
const PASSWORD = 'varvetest-secret'

/**
 * Gives a test suite a real S3 endpoint, in this order: `VARVE_TEST_S3_ENDPOINT` (any S3; with
 * `VARVE_TEST_S3_ACCESS_KEY`, `VARVE_TEST_S3_SECRET_KEY`, `VARVE_TEST_S3_REGION`); a `minio` binary on
 * PATH or in `$(go env GOPATH)/bin`, spawned on a free loopback port with a temp data dir; a Docker
 * engine, through @testcontainers/minio. Otherwise it fails saying how to get MinIO.
 */
export async function startTestS3(options: { credentials?: { accessKeyId: string; secretAccessKey: string } } = {}): Promise<TestS3> {
  const server = await startServer(options.credentials)
  return {
    ...server,
    createBucket: async (name) => {
      const client = createS3Client(server.options)
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }))
      } catch (err) {
        if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw err
      } finally {
        client.destroy()
      }
    },
  }
}

/** `root`: a MinIO binary's own root user (a second server with other credentials); an external endpoint or a container keep theirs. */
async function startServer(root?: { accessKeyId: string; secretAccessKey: string }): Promise<Omit<TestS3, 'createBucket'>> {
  const env = process.env.VARVE_TEST_S3_ENDPOINT
  if (env) {
    const none = async () => {
      throw new Error('cannot kill or restart an external S3 endpoint')
    }
    return {
      kind: 'env',
      options: {
        endpoint: env,
        region: process.env.VARVE_TEST_S3_REGION ?? 'us-east-1',
        credentials: { accessKeyId: process.env.VARVE_TEST_S3_ACCESS_KEY ?? USER, secretAccessKey: process.env.VARVE_TEST_S3_SECRET_KEY ?? PASSWORD },
        forcePathStyle: process.env.VARVE_TEST_S3_PATH_STYLE !== 'false',
      },
      kill: none,
      restart: none,
      stop: async () => {},
    }
  }
  const binary = findMinio()
  if (binary) return startMinioBinary(binary, root ?? { accessKeyId: USER, secretAccessKey: PASSWORD })
  const container = await startContainer().catch((e: Error) => e)
  if (!(container instanceof Error)) return container
  throw new Error(
    'No S3 endpoint for the tests. Either set VARVE_TEST_S3_ENDPOINT (and VARVE_TEST_S3_ACCESS_KEY / ' +
      'VARVE_TEST_S3_SECRET_KEY) to any S3, or install MinIO with `GOTOOLCHAIN=local go install ' +
      'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c` (bash scripts/install-minio.sh; puts `minio` in $(go env GOPATH)/bin), or run a Docker engine. ' +
      `(Docker: ${container.message})`,
  )
}

function findMinio(): string | undefined {
  const candidates = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'minio'))
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (gopath) candidates.push(path.join(gopath.split(path.delimiter)[0]!, 'bin', 'minio'))
  } catch {
    /* no go toolchain */
  }
  candidates.push(path.join(os.homedir(), 'go', 'bin', 'minio'))
  return candidates.find((c) => fs.existsSync(c))
}

export async function freePort(): Promise<number> {
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

async function startMinioBinary(binary: string, root: { accessKeyId: string; secretAccessKey: string }): Promise<Omit<TestS3, 'createBucket'>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-minio-'))
  const port = await freePort()
  const consolePort = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  let log = ''
  const launch = async () => {
    log = ''
    child = spawn(binary, ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'], {
      env: { ...process.env, MINIO_ROOT_USER: root.accessKeyId, MINIO_ROOT_PASSWORD: root.secretAccessKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
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
    kind: 'minio-binary',
    options: { endpoint, region: 'us-east-1', credentials: root, forcePathStyle: true },
    kill: killNow,
    restart: launch,
    stop: async () => {
      await killNow()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

async function waitReady(endpoint: string, exitCode: () => number | null, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`minio exited with ${exitCode()}: ${log()}`)
    const ok = await fetch(`${endpoint}/minio/health/live`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`minio did not become ready at ${endpoint} within 60 s: ${log()}`)
}

async function startContainer(): Promise<Omit<TestS3, 'createBucket'>> {
  const tc = await import('testcontainers')
  await tc.getContainerRuntimeClient() // rejects at once when no Docker engine answers
  const { MinioContainer } = await import('@testcontainers/minio')
  const container = await new MinioContainer('minio/minio:latest').withUsername(USER).withPassword(PASSWORD).start()
  const none = async () => {
    throw new Error('kill/restart are only supported with the minio binary')
  }
  return {
    kind: 'testcontainers',
    options: {
      endpoint: container.getConnectionUrl(),
      region: 'us-east-1',
      credentials: { accessKeyId: USER, secretAccessKey: PASSWORD },
      forcePathStyle: true,
    },
    kill: none,
    restart: none,
    stop: async () => {
      await container.stop()
    },
  }
}
