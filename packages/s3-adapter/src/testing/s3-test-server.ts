import https from 'node:https'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { findGoBinary, freePort, listening, startEmulator } from '@varve/core/testing/emulators'
import { createS3Client } from '../s3-client.js'
import type { S3Options } from '../s3-options.js'

export interface TestS3Options {
  /** A MinIO binary's own root user (a second server with other credentials). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string }
  /**
   * A static KMS key for a MinIO binary, `<name>:<32 bytes base64>` (MINIO_KMS_SECRET_KEY): SSE-S3 and
   * SSE-KMS with that key id then work as on AWS.
   */
  readonly kmsKey?: string
  /** A MinIO binary serving HTTPS with a fresh self-signed certificate (`ca`): what SSE-C needs. */
  readonly tls?: boolean
}

/** A real S3 endpoint for tests, with the means to crash and revive it when it is ours. */
export interface TestS3 {
  readonly kind: 'env' | 'minio-binary' | 'testcontainers' | 'versitygw'
  readonly options: Required<Pick<S3Options, 'endpoint' | 'region' | 'credentials' | 'forcePathStyle'>>
  /** With `tls`: the certificate (PEM) a client must trust. */
  readonly ca?: string
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
export async function startTestS3(options: TestS3Options = {}): Promise<TestS3> {
  const server = await startServer(options.credentials, options.kmsKey, options.tls)
  return withCreateBucket(server)
}

/** `root`: a MinIO binary's own root user (a second server with other credentials); an external endpoint or a container keep theirs. */
async function startServer(root?: { accessKeyId: string; secretAccessKey: string }, kmsKey?: string, tls?: boolean): Promise<Omit<TestS3, 'createBucket'>> {
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
  const binary = findGoBinary('minio')
  if (binary) return startMinioBinary(binary, root ?? { accessKeyId: USER, secretAccessKey: PASSWORD }, kmsKey, tls)
  const container = await startContainer().catch((e: Error) => e)
  if (!(container instanceof Error)) return container
  throw new Error(
    'No S3 endpoint for the tests. Either set VARVE_TEST_S3_ENDPOINT (and VARVE_TEST_S3_ACCESS_KEY / ' +
      'VARVE_TEST_S3_SECRET_KEY) to any S3, or install MinIO with `GOTOOLCHAIN=local go install ' +
      'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c` (bash scripts/install-minio.sh; puts `minio` in $(go env GOPATH)/bin), or run a Docker engine. ' +
      `(Docker: ${container.message})`,
  )
}

async function startMinioBinary(
  binary: string,
  root: { accessKeyId: string; secretAccessKey: string },
  kmsKey?: string,
  tls?: boolean,
): Promise<Omit<TestS3, 'createBucket'>> {
  const port = await freePort()
  const consolePort = await freePort()
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`
  const certs = tls ? selfSignedCertificate() : undefined
  const emulator = await startEmulator({
    name: 'minio',
    command: binary,
    args: (dir) => [
      ...['server', dir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
      ...(certs ? ['--certs-dir', certs.dir] : []),
    ],
    env: {
      MINIO_ROOT_USER: root.accessKeyId,
      MINIO_ROOT_PASSWORD: root.secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      ...(kmsKey ? { MINIO_KMS_SECRET_KEY: kmsKey } : {}),
    },
    ready: async () => (certs ? listening(port) : (await fetch(`${endpoint}/minio/health/live`)).ok),
  })
  return {
    kind: 'minio-binary',
    options: { endpoint, region: 'us-east-1', credentials: root, forcePathStyle: true },
    ...(certs ? { ca: certs.ca } : {}),
    ...emulator,
  }
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

/** A self-signed certificate for 127.0.0.1 in a folder MinIO reads (`public.crt`, `private.key`), by openssl. */
function selfSignedCertificate(): { dir: string; ca: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-minio-certs-'))
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'private.key'), '-out', path.join(dir, 'public.crt')],
    ],
    { stdio: 'ignore' },
  )
  return { dir, ca: fs.readFileSync(path.join(dir, 'public.crt'), 'utf8') }
}

/** A client of the test server; with `tls`, one that trusts its self-signed certificate. */
export function testS3Client(server: Pick<TestS3, 'options' | 'ca'>): S3Client {
  if (!server.ca) return createS3Client(server.options)
  return new S3Client({
    ...server.options,
    requestHandler: { httpsAgent: new https.Agent({ ca: server.ca, keepAlive: true }) },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

/**
 * A second S3 implementation for the tests: Versity's S3 gateway over a POSIX folder (Go:
 * `GOTOOLCHAIN=local go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`, which
 * `scripts/install-emulators.sh` runs), on a free loopback port. It honours If-None-Match and If-Match
 * as MinIO does; where it differs is noted in the tests that meet it.
 */
export async function startTestVersityGw(): Promise<TestS3> {
  const binary = findGoBinary('versitygw')
  if (!binary)
    throw new Error(
      'No versitygw for the tests: run bash scripts/install-emulators.sh (GOTOOLCHAIN=local go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)',
    )
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const root = { accessKeyId: USER, secretAccessKey: PASSWORD }
  const emulator = await startEmulator({
    name: 'versitygw',
    command: binary,
    args: (dir) => ['--access', root.accessKeyId, '--secret', root.secretAccessKey, '--port', `127.0.0.1:${port}`, '--quiet', 'posix', dir],
    ready: () => listening(port),
  })
  const server = { kind: 'versitygw' as const, options: { endpoint, region: 'us-east-1', credentials: root, forcePathStyle: true }, ...emulator }
  return withCreateBucket(server)
}

/** The server, with a way to create a bucket on it (one that exists and is ours is fine). */
function withCreateBucket(server: Omit<TestS3, 'createBucket'>): TestS3 {
  return {
    ...server,
    createBucket: async (name) => {
      const client = testS3Client(server)
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
