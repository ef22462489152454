import type { IncomingMessage } from 'node:http'
import { invalidArgument } from '../errors.js'

/** User metadata from `x-amz-meta-*` headers (names lower-cased, as S3 keeps them). */
export function metadataFromHeaders(req: IncomingMessage): Record<string, string> | undefined {
  const out: Record<string, string> = {}
  let any = false
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-')) continue
    const key = name.slice('x-amz-meta-'.length)
    if (!key) throw invalidArgument('an x-amz-meta- header needs a name')
    out[key] = Array.isArray(value) ? value.join(',') : (value ?? '')
    any = true
  }
  return any ? out : undefined
}

/** Metadata as response headers; values that cannot be a header as they are go URL-encoded. */
export function metadataHeaders(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(metadata ?? {})) {
    // eslint-disable-next-line no-control-regex
    out[`x-amz-meta-${k.toLowerCase()}`] = /^[\x20-\x7e\t]*$/.test(v) ? v : encodeURIComponent(v)
  }
  return out
}
