import { VarveError, ErrorCodes } from '@varve/core'

/**
 * How to reach Google Cloud Storage. Credentials come the SDK's usual way (Application Default
 * Credentials: `GOOGLE_APPLICATION_CREDENTIALS`, `gcloud auth application-default login`, a metadata
 * server). `STORAGE_EMULATOR_HOST` (as the SDK honours it) or `endpoint` points at an emulator such
 * as fake-gcs-server, without credentials.
 */
export interface GcsOptions {
  /** An API endpoint other than Google's (an emulator: `http://127.0.0.1:4443`). */
  readonly endpoint?: string
  readonly projectId?: string
  /** A Cloud KMS key every object is written with (`projects/.../cryptoKeys/...`). */
  readonly kmsKeyName?: string
  /** Attempts per request for throttling, 5xx and network errors, with the SDK's backoff (default 6). */
  readonly maxAttempts?: number
}

/** Where a repository lives: a bucket and a key prefix ('' or ending in '/'). */
export interface GcsLocation {
  readonly bucket: string
  readonly prefix: string
}

/** Parses `gs://<bucket>/<prefix>`. */
export function parseGcsUrl(url: string): GcsLocation {
  const m = /^gs:\/\/([^/]+)\/?(.*)$/i.exec(url)
  const bad = (why: string) =>
    new VarveError(ErrorCodes.INVALID_ARGUMENT, `not a GCS location: ${JSON.stringify(url)} (${why}; expected gs://<bucket>/<prefix>)`, {
      details: { location: url },
    })
  if (!m) throw bad('no bucket')
  const [, bucket, rest] = m as unknown as [string, string, string]
  if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket) || /\.\.|^goog|google/.test(bucket)) throw bad('not a valid bucket name')
  const prefix = rest.replace(/\/+$/, '')
  if (prefix.split('/').some((s) => s === '.' || s === '..') || prefix.includes('//')) throw bad('invalid prefix')
  return { bucket, prefix: prefix ? `${prefix}/` : '' }
}
