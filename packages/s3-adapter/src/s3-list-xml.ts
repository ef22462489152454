import { Readable } from 'node:stream'
import type { SourceObject } from '@varve/core'

// Listing a million keys is mostly parsing XML: the SDK's generic parser (a DOM of every page, then
// a walk over it) took ~40% of an import's CPU. A listing page is a flat, known shape, so this reads
// the fields an import needs straight from the text. It sits inside the SDK's deserializer (so the
// SDK still signs, retries and turns error answers into errors) and hands the SDK an empty page;
// a page it cannot read is given to the SDK's parser untouched.

/** An ETag as an entry keeps it: S3 sends it quoted (and weak ones with `W/`). */
export const bareEtag = (etag: string | undefined): string => (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '')

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
  // The next position of each kind of block, searched again only once passed (a kind that does not
  // occur is searched once, not once per item: that would scan the page for each of its 1,000 items).
  const NONE = Number.POSITIVE_INFINITY
  const next = { contents: -1, common: -1, marker: versions ? -1 : NONE }
  const find = (tag: string, from: number) => {
    const i = xml.indexOf(tag, from)
    return i < 0 ? NONE : i
  }
  for (;;) {
    if (next.contents < at) next.contents = find(`<${item}>`, at)
    if (next.common < at) next.common = find('<CommonPrefixes>', at)
    if (next.marker < at) next.marker = find('<DeleteMarker>', at)
    const { contents, common, marker } = next
    const first = Math.min(contents, common, marker)
    if (first === NONE) {
      top += xml.slice(at)
      break
    }
    top += xml.slice(at, first)
    if (first === common) {
      const end = xml.indexOf('</CommonPrefixes>', first)
      if (end < 0) return undefined
      const p = field(xml.slice(first, end), 'Prefix')
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
      // Fields are looked for in the item alone: a missing one never costs a scan of the rest of the page.
      const block = xml.slice(first, end)
      const key = field(block, 'Key')
      const size = field(block, 'Size')
      if (key === undefined || size === undefined || !/^\d+$/.test(size)) return undefined
      at = end + item.length + 3
      if (versions && field(block, 'IsLatest') !== 'true') continue
      const modified = field(block, 'LastModified')
      const version = versions ? field(block, 'VersionId') : undefined
      objects.push({
        key,
        size: Number(size),
        etag: bareEtag(field(block, 'ETag')),
        lastModified: modified ? Date.parse(modified) || 0 : 0,
        ...(version && version !== 'null' ? { versionId: version } : {}),
      })
    }
  }
  const truncated = field(top, 'IsTruncated') === 'true'
  const nextToken = field(top, 'NextContinuationToken')
  const nextKeyMarker = field(top, 'NextKeyMarker')
  const nextVersionIdMarker = field(top, 'NextVersionIdMarker')
  return {
    objects,
    prefixes,
    truncated,
    ...(nextToken !== undefined ? { nextToken } : {}),
    ...(nextKeyMarker !== undefined ? { nextKeyMarker } : {}),
    ...(nextVersionIdMarker !== undefined ? { nextVersionIdMarker } : {}),
  }
}

/** The text of the first `<name>` element of `xml` (an item, or the page outside its items), entities decoded. */
function field(xml: string, name: string): string | undefined {
  const open = xml.indexOf(`<${name}>`)
  // An empty element (`<Prefix/>`) has no text.
  if (open < 0) return xml.includes(`<${name}/>`) ? '' : undefined
  const start = open + name.length + 2
  const close = xml.indexOf(`</${name}>`, start)
  if (close < 0) return undefined
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
