import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { JsonValue } from '../util/canonical-json.js'
import { comparePaths } from '../util/paths.js'
import { spillSort } from '../util/spill-sort.js'
import type { ExternalSource, SourceListOptions, SourceObject } from './external-source.js'

/**
 * A bucket's objects read from an S3 Inventory report instead of LIST (how AWS itself lists 100M+
 * objects: the report is made daily or weekly, so it is as old as its creation time). The manifest
 * (`manifest.json`) names the report's files (CSV, gzipped, keys URL-encoded; or Parquet) in its
 * destination bucket; their rows are filtered to the prefix, current versions and no delete markers,
 * and sorted (spilling to disk past a run) into the key order a listing gives.
 */
export interface InventoryManifest {
  readonly sourceBucket: string
  readonly destinationBucket: string
  readonly fileFormat: 'CSV' | 'Parquet'
  readonly fileSchema: string
  readonly files: readonly { readonly key: string; readonly size?: number }[]
  readonly creationTimestamp?: string
}

/** A manifest lists a report's files (a few KiB per thousand files). */
export const MAX_MANIFEST = 16 * 1024 * 1024

const invalid = (message: string, details: Record<string, JsonValue> = {}) => new VarveError(ErrorCodes.INVALID_ARGUMENT, message, { details })

/** Parses and checks a manifest.json. */
export function parseInventoryManifest(bytes: Uint8Array, where: string): InventoryManifest {
  if (bytes.byteLength > MAX_MANIFEST) throw invalid(`${where} is larger than ${MAX_MANIFEST} bytes: not an S3 Inventory manifest`, { inventory: where })
  let m: Record<string, unknown>
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>
  } catch {
    throw invalid(`${where} is not an S3 Inventory manifest (not JSON)`, { inventory: where })
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw invalid(`${where} is not an S3 Inventory manifest`, { inventory: where })
  const format = m.fileFormat
  if (format === 'ORC') throw invalid(`${where}: ORC inventories are not read; configure the inventory as CSV or Parquet`, { inventory: where })
  if (format !== 'CSV' && format !== 'Parquet') throw invalid(`${where}: fileFormat must be CSV or Parquet`, { inventory: where })
  if (typeof m.sourceBucket !== 'string' || typeof m.destinationBucket !== 'string' || typeof m.fileSchema !== 'string' || !Array.isArray(m.files))
    throw invalid(`${where} is not an S3 Inventory manifest (sourceBucket, destinationBucket, fileSchema and files are required)`, { inventory: where })
  for (const f of m.files as unknown[])
    if (f === null || typeof f !== 'object' || typeof (f as { key?: unknown }).key !== 'string')
      throw invalid(`${where}: every file of the manifest needs a key`, { inventory: where })
  return m as unknown as InventoryManifest
}

/** The bucket name of a manifest's destination (`arn:aws:s3:::name`, or a plain name). */
export const destinationBucketOf = (m: InventoryManifest): string => m.destinationBucket.replace(/^arn:aws[a-z-]*:s3:::/, '')

/** One inventory row, as spilled while sorting: [key, size, etag, lastModified, versionId?]. */
type Row = [string, number, string, number] | [string, number, string, number, string]

/**
 * The manifest's objects under `prefix`, sorted by key, in pages of `pageSize` (the same shape and
 * order as `ExternalSource.list`). `files` reads the report's files (the destination bucket).
 */
export async function* listInventory(
  manifest: InventoryManifest,
  files: ExternalSource,
  prefix: string,
  options: SourceListOptions & { readonly pageSize?: number; readonly runSize?: number } = {},
): AsyncGenerator<readonly SourceObject[]> {
  const fallbackTime = Number(manifest.creationTimestamp ?? 0) || 0
  const rows = async function* (): AsyncGenerator<Row> {
    for (const file of manifest.files) {
      options.signal?.throwIfAborted()
      const read = manifest.fileFormat === 'CSV' ? csvRows(manifest.fileSchema, files, file.key) : parquetRows(files, file.key)
      for await (const r of read) {
        if (r.isLatest === false || r.isDeleteMarker === true) continue
        if (!r.key.startsWith(prefix) || (options.startAfter !== undefined && comparePaths(r.key, options.startAfter) <= 0)) continue
        if (r.size === undefined || (r.etag === undefined && r.versionId === undefined))
          throw invalid(`${file.key}: the inventory must include Size and ETag (or VersionId) for every object`, { inventory: file.key })
        const lastModified = r.lastModified ?? fallbackTime
        yield r.versionId ? [r.key, r.size, r.etag ?? '', lastModified, r.versionId] : [r.key, r.size, r.etag ?? '', lastModified]
      }
    }
  }
  const pageSize = options.pageSize ?? 1000
  let page: SourceObject[] = []
  let previous: string | undefined
  for await (const [key, size, etag, lastModified, versionId] of spillSort<Row>(rows(), (a, b) => comparePaths(a[0], b[0]), {
    ...(options.runSize ? { runSize: options.runSize } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  })) {
    // One row per key: a report lists a key once per version, and only the latest got here.
    if (key === previous) continue
    previous = key
    page.push({ key, size, etag, lastModified, ...(versionId ? { versionId } : {}) })
    if (page.length >= pageSize) {
      yield page
      page = []
    }
  }
  if (page.length) yield page
}

interface InventoryRow {
  readonly key: string
  readonly size?: number
  readonly etag?: string
  readonly lastModified?: number
  readonly versionId?: string
  readonly isLatest?: boolean
  readonly isDeleteMarker?: boolean
}

async function openFile(files: ExternalSource, key: string) {
  const o = await files.head(key)
  if (!o) throw new VarveError(ErrorCodes.NOT_FOUND, `inventory file ${files.name}/${key} not found`, { details: { source: files.name, key } })
  return { locator: { source: files.name, key, etag: o.etag, ...(o.versionId ? { versionId: o.versionId } : {}) }, size: o.size }
}

/** Rows of a CSV inventory file (gzipped unless its key says otherwise): fields as `fileSchema` names them, keys URL-encoded. */
async function* csvRows(fileSchema: string, files: ExternalSource, key: string): AsyncGenerator<InventoryRow> {
  const columns = fileSchema.split(',').map((c) => c.trim().toLowerCase())
  const at = (name: string) => columns.indexOf(name)
  const [iKey, iSize, iEtag, iModified, iVersion, iLatest, iDeleted] = [
    'key',
    'size',
    'etag',
    'lastmodifieddate',
    'versionid',
    'islatest',
    'isdeletemarker',
  ].map(at)
  if (iKey! < 0 || iSize! < 0 || (iEtag! < 0 && iVersion! < 0))
    throw invalid(`the inventory's fileSchema must include Key, Size and ETag (or VersionId): ${fileSchema}`, { inventory: key })
  const { locator } = await openFile(files, key)
  const bytes = Readable.from(await files.stream(locator))
  const input = key.endsWith('.gz') ? bytes.pipe(createGunzip()) : bytes
  bytes.on('error', (err) => input.destroy(err))
  let n = 0
  try {
    for await (const line of boundedLines(input, key)) {
      n++
      if (line === '') continue
      const f = csvFields(line)
      const text = (i: number) => (i >= 0 && f[i] !== undefined && f[i] !== '' ? f[i] : undefined)
      const k = text(iKey!)
      if (k === undefined) throw invalid(`${key} line ${n}: no key`, { inventory: key })
      const size = text(iSize!)
      const modified = text(iModified!)
      const version = text(iVersion!)
      const etag = text(iEtag!)
      yield {
        key: decodeKey(k, key, n),
        ...(size !== undefined ? { size: wholeNumber(size, key, n) } : {}),
        ...(etag !== undefined ? { etag: etag.replace(/"/g, '') } : {}),
        ...(modified !== undefined ? { lastModified: Date.parse(modified) || 0 } : {}),
        ...(version !== undefined && version !== 'null' ? { versionId: version } : {}),
        ...(text(iLatest!) !== undefined ? { isLatest: text(iLatest!)!.toLowerCase() === 'true' } : {}),
        ...(text(iDeleted!) !== undefined ? { isDeleteMarker: text(iDeleted!)!.toLowerCase() === 'true' } : {}),
      }
    }
  } catch (err) {
    if (err instanceof VarveError) throw err
    throw invalid(`${key}: not a readable inventory file (${(err as Error).message})`, { inventory: key })
  }
}

/** A row of a report is a key (≤ 1,024 bytes) and a few fields: a longer line is not an inventory. */
const MAX_LINE = 64 * 1024

/** The lines of a stream, refusing one longer than MAX_LINE (a gzip bomb or a file that is not a report would otherwise fill memory). */
async function* boundedLines(input: AsyncIterable<Buffer | string>, file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8')
  let rest = ''
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    let start = 0
    for (let at = rest.indexOf('\n'); at >= 0; at = rest.indexOf('\n', start)) {
      yield rest.slice(start, at > start && rest.charCodeAt(at - 1) === 13 ? at - 1 : at)
      start = at + 1
    }
    rest = rest.slice(start)
    if (rest.length > MAX_LINE) throw invalid(`${file}: a line longer than ${MAX_LINE} bytes; not an inventory report`, { inventory: file })
  }
  rest += decoder.decode()
  if (rest !== '') yield rest
}

/** The fields of one CSV line (fields quoted or not; `""` is a quote inside a quoted field). */
function csvFields(line: string): string[] {
  const out: string[] = []
  let i = 0
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = ''
      i++
      for (;;) {
        const q = line.indexOf('"', i)
        if (q < 0) {
          v += line.slice(i)
          i = line.length
          break
        }
        v += line.slice(i, q)
        if (line[q + 1] === '"') {
          v += '"'
          i = q + 2
        } else {
          i = q + 1
          break
        }
      }
      out.push(v)
      i = line.indexOf(',', i) < 0 ? line.length + 1 : line.indexOf(',', i) + 1
    } else {
      const c = line.indexOf(',', i)
      out.push(line.slice(i, c < 0 ? line.length : c))
      i = c < 0 ? line.length + 1 : c + 1
    }
  }
  return out
}

/** Inventory keys are form-URL-encoded (a space is `+`). */
function decodeKey(k: string, file: string, line: number): string {
  try {
    return decodeURIComponent(k.replace(/\+/g, ' '))
  } catch {
    throw invalid(`${file} line ${line}: the key ${JSON.stringify(k.slice(0, 100))} is not URL-encoded`, { inventory: file })
  }
}

function wholeNumber(s: string, file: string, line: number): number {
  const n = Number(s)
  if (!Number.isSafeInteger(n) || n < 0)
    throw invalid(`${file} line ${line}: size ${JSON.stringify(s.slice(0, 40))} is not a whole number`, { inventory: file })
  return n
}

/** Rows of a Parquet inventory file, a row group at a time, read by range (never the whole file in memory). */
async function* parquetRows(files: ExternalSource, key: string): AsyncGenerator<InventoryRow> {
  const { parquetMetadataAsync, parquetRead } = await import('hyparquet')
  const { locator, size } = await openFile(files, key)
  const file = { byteLength: size, slice: async (start: number, end?: number) => toArrayBuffer(await files.read(locator, { start, end: end ?? size })) }
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>
  try {
    metadata = await parquetMetadataAsync(file)
  } catch (err) {
    throw invalid(`${key}: not a Parquet inventory file (${(err as Error).message})`, { inventory: key })
  }
  const names = new Set(metadata.schema.map((s) => s.name))
  if (!names.has('key') || !names.has('size') || (!names.has('e_tag') && !names.has('version_id')))
    throw invalid(`${key}: the inventory must include key, size and e_tag (or version_id)`, { inventory: key })
  const columns = ['key', 'size', 'e_tag', 'last_modified_date', 'version_id', 'is_latest', 'is_delete_marker'].filter((c) => names.has(c))
  let start = 0
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows)
    let rows: Record<string, unknown>[] = []
    try {
      await parquetRead({ file, metadata, columns, rowStart: start, rowEnd: end, rowFormat: 'object', onComplete: (r) => (rows = r) })
    } catch (err) {
      throw invalid(`${key}: not a readable Parquet inventory file (${(err as Error).message})`, { inventory: key })
    }
    start = end
    for (const r of rows) {
      if (typeof r.key !== 'string') throw invalid(`${key}: a row has no key`, { inventory: key })
      const modified = r.last_modified_date
      yield {
        key: r.key,
        ...(r.size !== null && r.size !== undefined ? { size: Number(r.size) } : {}),
        ...(typeof r.e_tag === 'string' ? { etag: r.e_tag.replace(/"/g, '') } : {}),
        ...(modified instanceof Date
          ? { lastModified: modified.getTime() }
          : typeof modified === 'number' || typeof modified === 'bigint'
            ? { lastModified: Number(modified) }
            : {}),
        ...(typeof r.version_id === 'string' && r.version_id !== 'null' ? { versionId: r.version_id } : {}),
        ...(typeof r.is_latest === 'boolean' ? { isLatest: r.is_latest } : {}),
        ...(typeof r.is_delete_marker === 'boolean' ? { isDeleteMarker: r.is_delete_marker } : {}),
      }
    }
  }
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
    ? (b.buffer as ArrayBuffer)
    : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer)
}
