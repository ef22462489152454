import { S3Client } from '@aws-sdk/client-s3'
import { VarveError, ErrorCodes } from '@varve/core'
import type { S3Location, S3Options } from './s3-options.js'

export function createS3Client(options: S3Options = {}): S3Client {
  if (options.client) return options.client
  return new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.credentials ? { credentials: options.credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    maxAttempts: options.maxAttempts ?? 6,
    retryMode: 'adaptive',
    // S3-compatible servers do not all speak the newer default checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

/** Parses `s3://bucket/some/prefix` into a bucket and a prefix ending in '/'. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url)
  if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(m[1]!))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `not an S3 location: ${JSON.stringify(url)} (expected s3://bucket/prefix)`, {
      details: { location: url },
    })
  const rest = m[2]!.replace(/\/+$/, '')
  if (rest.split('/').some((s) => s === '.' || s === '..') || rest.includes('//'))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `invalid prefix in S3 location ${url}`, { details: { location: url } })
  return { bucket: m[1]!, prefix: rest ? `${rest}/` : '' }
}
