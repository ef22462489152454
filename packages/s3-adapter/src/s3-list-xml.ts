import { Readable } from 'node:stream'
import type { SourceObject } from '@varve/core'

// Listing a million keys is mostly parsing XML: the SDK's generic parser (a DOM of every page, then
// a walk over it) took ~40% of an import's CPU. A listing page is a flat, known shape, so this reads
// the fields an import needs straight from the text. It sits inside the SDK's deserializer (so the
// SDK still signs, retries and turns error answers into errors) and hands the SDK an empty page;
// a page it cannot read is given to the SDK's parser untouched.

/** What one ListObjectsV2 or ListObjectVersions page says, as an import reads it. */
export interface ListingPage {
  readonly objects: SourceObject[]
  readonly prefixes: string[]
  readonly truncated: boolean
  readonly nextToken?: string
  readonly nextKeyMarker?: string
  readonly nextVersionIdMarker?: string
}

interface Stack {
  add(middleware: unknown, options: { step: 'deserialize'; name: string; priority: 'low' }): void
}

/**
 * Has `command` (a ListObjectsV2 or ListObjectVersions command) parse its answer with the listing
 * parser: `page()` then gives the page read, or undefined when the SDK parsed it (use its output).
 */
export function fastListing(command: { middlewareStack: Stack }, versions: boolean): { page(): ListingPage | undefined } {
  let parsed: ListingPage | undefined
  command.middlewareStack.add(
    (next: (args: unknown) => Promise<{ response: RawResponse }>) => async (args: unknown) => {
      const out = await next(args)
      const res = out.response
      if (res?.statusCode !== 200 || !res.body) return out
      const text = await readAll(res.body)
      parsed = parseListing(text, versions)
      const body = parsed ? (versions ? EMPTY_VERSIONS : EMPTY_V2) : text
      const response = Object.assign(Object.create(Object.getPrototypeOf(res)), res, { body: Readable.from([Buffer.from(body)]) })
      return { ...out, response }
    },
    { step: 'deserialize', name: versions ? 'varveVersionsListing' : 'varveListing', priority: 'low' },
  )
  return { page: () => parsed }
}

interface RawResponse {
  readonly statusCode?: number
  readonly body?: AsyncIterable<Uint8Array | string>
}

const EMPTY_V2 = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult></ListBucketResult>'
const EMPTY_VERSIONS = '<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult></ListVersionsResult>'

async function readAll(body: AsyncIterable<Uint8Array | string>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of body) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength))
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads a listing page, or undefined when the text is not the shape expected (the SDK then parses it). */
export function parseListing(xml: string, versions: boolean): ListingPage | undefined {
  const root = versions ? 'ListVersionsResult' : 'ListBucketResult'
  if (!xml.includes(`<${root}`)) return undefined
  if (xml.includes('<![CDATA[')) return undefined
  const objects: SourceObject[] = []
  const prefixes: string[] = []
  const item = versions ? 'Version' : 'Contents'
  let at = 0
  let top = ''
  for (;;) {
    const contents = xml.indexOf(`<${item}>`, at)
    const common = xml.indexOf('<CommonPrefixes>', at)
    const marker = versions ? xml.indexOf('<DeleteMarker>', at) : -1
    const first = Math.min(...[contents, common, marker].map((i) => (i < 0 ? Number.POSITIVE_INFINITY : i)))
    if (first === Number.POSITIVE_INFINITY) {
      top += xml.slice(at)
      break
    }
    top += xml.slice(at, first)
    if (first === common) {
      const end = xml.indexOf('</CommonPrefixes>', first)
      if (end < 0) return undefined
      const p = field(xml, 'Prefix', first, end)
      if (p === undefined) return undefined
      prefixes.push(p)
      at = end + '</CommonPrefixes>'.length
    } else if (first === marker) {
      const end = xml.indexOf('</DeleteMarker>', first)
      if (end < 0) return undefined
      at = end + '</DeleteMarker>'.length
    } else {
      const end = xml.indexOf(`</${item}>`, first)
      if (end < 0) return undefined
      const key = field(xml, 'Key', first, end)
      const size = field(xml, 'Size', first, end)
      if (key === undefined || size === undefined || !/^\d+$/.test(size)) return undefined
      at = end + item.length + 3
      if (versions && field(xml, 'IsLatest', first, end) !== 'true') continue
      const modified = field(xml, 'LastModified', first, end)
      const version = versions ? field(xml, 'VersionId', first, end) : undefined
      objects.push({
        key,
        size: Number(size),
        etag: (field(xml, 'ETag', first, end) ?? '').replace(/^W\//, '').replace(/^"|"$/g, ''),
        lastModified: modified ? Date.parse(modified) || 0 : 0,
        ...(version && version !== 'null' ? { versionId: version } : {}),
      })
    }
  }
  const truncated = field(top, 'IsTruncated', 0, top.length) === 'true'
  const nextToken = field(top, 'NextContinuationToken', 0, top.length)
  const nextKeyMarker = field(top, 'NextKeyMarker', 0, top.length)
  const nextVersionIdMarker = field(top, 'NextVersionIdMarker', 0, top.length)
  return {
    objects,
    prefixes,
    truncated,
    ...(nextToken !== undefined ? { nextToken } : {}),
    ...(nextKeyMarker !== undefined ? { nextKeyMarker } : {}),
    ...(nextVersionIdMarker !== undefined ? { nextVersionIdMarker } : {}),
  }
}

/** The text of the first `<name>` element between from and to, entities decoded. */
function field(xml: string, name: string, from: number, to: number): string | undefined {
  const open = xml.indexOf(`<${name}>`, from)
  if (open < 0 || open >= to) {
    // An empty element (`<Prefix/>`) has no text.
    const empty = xml.indexOf(`<${name}/>`, from)
    return empty >= 0 && empty < to ? '' : undefined
  }
  const start = open + name.length + 2
  const close = xml.indexOf(`</${name}>`, start)
  if (close < 0 || close > to) return undefined
  const raw = xml.slice(start, close)
  return raw.includes('&') ? decodeEntities(raw) : raw
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10)
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : m
    }
    return NAMED[e] ?? m
  })
}
