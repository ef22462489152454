import type { RecordBatch } from 'apache-arrow'
import { ErrorCodes, VarveError } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import type { ObjectStore } from '../objects/object-store.js'
import { ParquetStream, DEFAULT_BATCH_ROWS } from './parquet-stream.js'
import { topLevelNames } from './parquet-types.js'
import { entrySource } from './range-source.js'

/** Hive partition values of a file (`year=2024/part-0.parquet` → { year: '2024' }); null for Hive's default partition. */
export type PartitionValues = Record<string, string | null>

/**
 * Which files to read, by their partition values: `{ split: 'train', year: ['2024', '2025'] }` keeps
 * files whose every named partition has one of the values, or a function of the file.
 */
export type DatasetFilter =
  | Readonly<Record<string, string | null | readonly (string | null)[]>>
  | ((file: { readonly path: string; readonly partition: PartitionValues }) => boolean)

export interface ReadDatasetOptions {
  /** Columns to read, of the files or partition keys, in this order (all when absent). */
  readonly columns?: readonly string[]
  /** Files to read, by partition values (all when absent). */
  readonly filter?: DatasetFilter
  /** Rows per batch (65,536 when absent). */
  readonly batchSize?: number
  /** `hive` (default): `key=value` folders become string columns; `none`: folders are only paths. */
  readonly partitioning?: 'hive' | 'none'
}

const HIVE_DEFAULT = '__HIVE_DEFAULT_PARTITION__'

/**
 * Record batches of every Parquet file under `prefix` (in path order; names starting with `_` or `.`,
 * such as Spark's _SUCCESS, are skipped), with Hive partition columns. Files are read by ranges, one
 * row group's requested columns at a time, so memory holds a few batches whatever the dataset's size.
 */
export async function* readDatasetBatches(
  objects: ObjectStore,
  files: AsyncIterable<Entry>,
  prefix: string,
  options: ReadDatasetOptions = {},
): AsyncGenerator<RecordBatch> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_ROWS
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `batchSize must be a positive integer, not ${String(options.batchSize)}`)
  if (options.columns !== undefined && (!Array.isArray(options.columns) || options.columns.some((c) => typeof c !== 'string')))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'columns must be a list of column names')
  const hive = (options.partitioning ?? 'hive') === 'hive'
  const keep = fileFilter(options.filter)
  const arrow = await import('apache-arrow')
  for await (const entry of files) {
    if (!isDataFile(entry.path, prefix)) continue
    const partition = hive ? partitionOf(entry.path, prefix) : {}
    if (!keep({ path: entry.path, partition })) continue
    const file = await ParquetStream.open(entrySource(objects, entry), entry.path)
    try {
      const inFile = topLevelNames(file.metadata)
      const keys = Object.keys(partition).filter((k) => !inFile.includes(k))
      const wanted = options.columns ?? [...inFile, ...keys]
      for (const c of wanted)
        if (!inFile.includes(c) && !keys.includes(c))
          throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `column ${c} is neither in ${entry.path} nor a partition key of it`, {
            details: { path: entry.path, column: c },
          })
      const fileColumns = wanted.filter((c) => inFile.includes(c))
      if (fileColumns.length === 0) {
        // only partition columns: the rows are counted from the footer
        for (let left = file.numRows; left > 0; left -= batchSize) yield partitionBatch(arrow, wanted, partition, Math.min(batchSize, left))
        continue
      }
      for await (const { table } of file.batches({ columns: fileColumns, batchSize })) {
        for (const batch of table.batches) yield withPartitions(arrow, batch, wanted, partition)
      }
    } finally {
      file.close()
    }
  }
}

export function isDataFile(path: string, prefix: string): boolean {
  if (!/\.parquet$/i.test(path)) return false
  return !path
    .slice(prefix.length)
    .split('/')
    .some((s) => (s.startsWith('_') && !s.includes('=')) || s.startsWith('.'))
}

/** `key=value` folders between the prefix and the file name, values URL-decoded as Hive writes them. */
export function partitionOf(path: string, prefix: string): PartitionValues {
  const out: PartitionValues = {}
  const segments = path.slice(prefix.length).split('/').slice(0, -1)
  for (const s of segments) {
    const eq = s.indexOf('=')
    if (eq <= 0) continue
    const raw = s.slice(eq + 1)
    out[decode(s.slice(0, eq))] = raw === HIVE_DEFAULT ? null : decode(raw)
  }
  return out
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function fileFilter(filter: DatasetFilter | undefined): (file: { path: string; partition: PartitionValues }) => boolean {
  if (filter === undefined) return () => true
  if (typeof filter === 'function') return filter
  if (typeof filter !== 'object' || filter === null)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'filter must be an object of partition values or a function')
  const wanted = Object.entries(filter).map(([k, v]) => [k, new Set<string | null>(Array.isArray(v) ? v : [v as string | null])] as const)
  return ({ partition }) => wanted.every(([k, values]) => k in partition && values.has(partition[k]!))
}

type Arrow = typeof import('apache-arrow')

function withPartitions(arrow: Arrow, batch: RecordBatch, wanted: readonly string[], partition: PartitionValues): RecordBatch {
  const { Field, RecordBatch: Batch, Schema, Struct, makeData } = arrow
  const fields = []
  const children = []
  for (const name of wanted) {
    const i = batch.schema.fields.findIndex((f) => f.name === name)
    if (i >= 0) {
      fields.push(batch.schema.fields[i]!)
      children.push(batch.data.children[i]!)
    } else {
      fields.push(new Field(name, new arrow.Utf8(), true))
      children.push(constantStrings(arrow, partition[name] ?? null, batch.numRows))
    }
  }
  return new Batch(new Schema(fields, batch.schema.metadata), makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }))
}

function partitionBatch(arrow: Arrow, wanted: readonly string[], partition: PartitionValues, rows: number): RecordBatch {
  const { Field, RecordBatch: Batch, Schema, Struct, makeData } = arrow
  const fields = wanted.map((name) => new Field(name, new arrow.Utf8(), true))
  const children = wanted.map((name) => constantStrings(arrow, partition[name] ?? null, rows))
  return new Batch(new Schema(fields), makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }))
}

/** A string column of `rows` times the same value (or nulls). */
function constantStrings(arrow: Arrow, value: string | null, rows: number) {
  if (value === null)
    return arrow.makeData({
      type: new arrow.Utf8(),
      length: rows,
      nullCount: rows,
      nullBitmap: new Uint8Array(Math.ceil(rows / 8)),
      valueOffsets: new Int32Array(rows + 1),
      data: new Uint8Array(0),
    })
  const bytes = Buffer.from(value)
  const offsets = new Int32Array(rows + 1)
  for (let i = 0; i <= rows; i++) offsets[i] = i * bytes.length
  const data = new Uint8Array(bytes.length * rows)
  for (let i = 0; i < rows; i++) data.set(bytes, i * bytes.length)
  return arrow.makeData({ type: new arrow.Utf8(), length: rows, nullCount: 0, valueOffsets: offsets, data })
}
