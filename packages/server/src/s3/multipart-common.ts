import { parseXml } from './xml.js'
import { S3Error } from '../errors.js'
import type { S3Request } from './context.js'

export const noSuchUpload = () =>
  new S3Error(
    'NoSuchUpload',
    404,
    'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  )

/** The part's size as its headers give it before the body, if they do. */
export function declaredSize(r: S3Request): number | undefined {
  const h = r.req.headers
  const mode = r.verified?.payload ?? 'UNSIGNED-PAYLOAD'
  const v = mode.startsWith('STREAMING-') ? h['x-amz-decoded-content-length'] : h['transfer-encoding'] === undefined ? h['content-length'] : undefined
  const size = v === undefined ? NaN : Number(v)
  return Number.isSafeInteger(size) && size >= 0 ? size : undefined
}

/** The parts a CompleteMultipartUpload body lists: number and ETag (quotes removed), in the given order. */
export function parseCompleteBody(body: string): { n: number; etag: string }[] {
  let doc: Record<string, unknown>
  try {
    doc = parseXml(body)
  } catch {
    throw new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed')
  }
  const asked = (((doc.CompleteMultipartUpload ?? {}) as { Part?: { PartNumber?: string; ETag?: string }[] }).Part ?? []).map((p) => ({
    n: Number(p.PartNumber),
    etag: String(p.ETag ?? '').replace(/"/g, ''),
  }))
  if (!asked.length) throw new S3Error('MalformedXML', 400, 'CompleteMultipartUpload lists no parts')
  return asked
}
