import type { ServerResponse } from 'node:http'
import type { S3Error } from '../errors.js'
import { errorXml } from './xml.js'

export function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8')
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': String(body.length), ...headers })
  res.end(body)
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Length': '0', ...headers })
  res.end()
}

/** An S3 error document (HEAD responses carry no body, only the status). */
export function sendS3Error(res: ServerResponse, err: S3Error, requestId: string, method: string | undefined): void {
  if (res.headersSent) {
    res.destroy(err) // mid-body: the client sees a cut connection, never a complete-looking object
    return
  }
  if (method === 'HEAD') return sendEmpty(res, err.status, { 'x-amz-request-id': requestId })
  sendXml(res, err.status, errorXml(err.code, err.message, err.extra, requestId), { 'x-amz-request-id': requestId })
}

/** `"<address>"`: an object's ETag is its content address. */
export const etagOf = (address: string) => `"${address}"`
