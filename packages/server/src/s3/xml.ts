import { XMLBuilder, XMLParser } from 'fast-xml-parser'

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false, processEntities: true })
const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

/** An S3 XML document: `{ Root: {...} }` with the S3 namespace on the root. */
export function s3Xml(root: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: { '@_xmlns': S3_NS, ...body } })}`
}

/** An error document (no namespace, as S3 sends it). */
export function errorXml(code: string, message: string, extra: Record<string, string>, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ Error: { Code: code, Message: message, ...extra, RequestId: requestId } })}`
}

// Request bodies (CompleteMultipartUpload, Delete) are small and bounded before parsing. The five XML
// entities are decoded (the JS SDK sends ETags as &quot;...&quot;); a DOCTYPE, and so any entity of
// its own, is refused before parsing.
const parser = new XMLParser({ ignoreAttributes: true, processEntities: true, parseTagValue: false, isArray: (name) => name === 'Part' || name === 'Object' })

export function parseXml(text: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new Error('DOCTYPE and ENTITY declarations are not accepted')
  return parser.parse(text) as Record<string, unknown>
}
