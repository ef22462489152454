import { spawn } from 'node:child_process'
import path from 'node:path'

export const VARVE_BIN = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'packages', 'cli', 'dist', 'bin.js')

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the built `varve` binary as a process, as a user or a script would. */
export function varve(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VARVE_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', VARVE_REPO: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr })
    })
  })
}

export const ndjson = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)

/** The environment that points the CLI (or `varve serve`) at an S3 server: endpoint, path style, region and credentials. */
export function s3CliEnv(o: {
  endpoint: string
  forcePathStyle?: boolean
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
}): Record<string, string> {
  return {
    VARVE_S3_ENDPOINT: o.endpoint,
    VARVE_S3_FORCE_PATH_STYLE: String(o.forcePathStyle ?? true),
    AWS_REGION: o.region,
    AWS_ACCESS_KEY_ID: o.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: o.credentials.secretAccessKey,
  }
}
