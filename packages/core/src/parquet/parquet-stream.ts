import type { Table, Vector } from 'apache-arrow'
import type { FileMetaData } from 'hyparquet'
import { VarveError } from '../errors/varve-error.js'
import { intervalColumns, intervalVector, rawIntervalMetadata } from './parquet-intervals.js'
import { asyncBufferOf, blobOf, type RangeSource } from './range-source.js'

export interface ParquetBatchOptions {
  /** Top-level columns to decode (all when absent). */
  readonly columns?: readonly string[]
  /** Rows per batch (65,536 when absent): what one step holds in memory. */
  readonly batchSize?: number
  /** Row groups to read (all, in order, when absent). */
  readonly rowGroups?: readonly number[]
}

/** A batch of rows of one row group: an Arrow table of one record batch. */
export interface ParquetBatch {
  readonly rowGroup: number
  /** Index in the file of the batch's first row. */
  readonly firstRow: number
  readonly table: Table
}

export const DEFAULT_BATCH_ROWS = 65_536

/**
 * A Parquet file read by ranges, row group by row group: memory holds the footer and the batch being
 * decoded, whatever the file's size. parquet-wasm decodes (it reads every writer's output); INTERVAL
 * columns, which it reads without their months, are decoded again from their stored bytes.
 */
export class ParquetStream {
  private constructor(
    readonly path: string,
    readonly metadata: FileMetaData,
    private readonly source: RangeSource,
    private readonly file: import('parquet-wasm').ParquetFile,
  ) {}

  static async open(source: RangeSource, path: string): Promise<ParquetStream> {
    try {
      const [{ parquetMetadataAsync }, { ParquetFile }] = await Promise.all([import('hyparquet'), import('parquet-wasm')])
      const metadata = await parquetMetadataAsync(asyncBufferOf(source), { initialFetchSize: 64 * 1024 })
      const file = await ParquetFile.fromFile(blobOf(source))
      return new ParquetStream(path, metadata, source, file)
    } catch (cause) {
      throw notParquet(path, cause)
    }
  }

  /** Rows the row groups hold: what decoding yields (a footer's file-level count could say otherwise). */
  get numRows(): number {
    let rows = 0
    for (const g of this.metadata.row_groups) rows += Number(g.num_rows)
    return rows
  }

  get numRowGroups(): number {
    return this.metadata.row_groups.length
  }

  /** Index in the file of each row group's first row. */
  rowGroupStarts(): number[] {
    const starts: number[] = []
    let at = 0
    for (const g of this.metadata.row_groups) {
      starts.push(at)
      at += Number(g.num_rows)
    }
    return starts
  }

  async *batches(options: ParquetBatchOptions = {}): AsyncGenerator<ParquetBatch> {
    const { tableFromIPC } = await import('apache-arrow')
    const starts = this.rowGroupStarts()
    const groups = options.rowGroups ?? starts.map((_, g) => g)
    const intervals = intervalColumns(this.metadata).filter((c) => !options.columns || options.columns.includes(c))
    for (const g of groups) {
      const rows = Number(this.metadata.row_groups[g]!.num_rows)
      if (rows === 0) continue
      const fixed = intervals.length ? await this.#intervals(intervals, starts[g]!, rows) : undefined
      let stream: ReadableStream
      try {
        stream = await this.file.stream({
          rowGroups: [g],
          batchSize: options.batchSize ?? DEFAULT_BATCH_ROWS,
          ...(options.columns ? { columns: [...options.columns] } : {}),
        })
      } catch (cause) {
        throw notParquet(this.path, cause)
      }
      let offset = 0
      const reader = stream.getReader()
      try {
        for (;;) {
          let next: { done: boolean; value?: import('parquet-wasm').RecordBatch }
          try {
            next = await reader.read()
          } catch (cause) {
            throw notParquet(this.path, cause)
          }
          if (next.done) break
          let table = tableFromIPC(next.value!.intoIPCStream())
          if (fixed) table = await withColumns(table, fixed, offset)
          yield { rowGroup: g, firstRow: starts[g]! + offset, table }
          offset += table.numRows
        }
      } finally {
        await reader.cancel().catch(() => {})
      }
    }
  }

  /** INTERVAL columns of one row group, decoded from their 12 stored bytes. */
  async #intervals(names: readonly string[], rowStart: number, rows: number): Promise<Map<string, Vector>> {
    const { parquetRead } = await import('hyparquet')
    const out = new Map<string, Vector>()
    for (const name of names) {
      let values: (Uint8Array | null | undefined)[] = []
      await parquetRead({
        file: asyncBufferOf(this.source),
        metadata: rawIntervalMetadata(this.metadata),
        columns: [name],
        rowStart,
        rowEnd: rowStart + rows,
        utf8: false,
        onComplete: (r) => (values = r.map((x) => x[0] as Uint8Array | null)),
      })
      out.set(name, await intervalVector(values))
    }
    return out
  }

  close(): void {
    this.file.free()
  }
}

async function withColumns(table: Table, columns: Map<string, Vector>, offset: number): Promise<Table> {
  const { replaceColumn } = await import('./parquet-intervals.js')
  for (const [name, column] of columns)
    if (table.schema.fields.some((f) => f.name === name)) table = await replaceColumn(table, name, column.slice(offset, offset + table.numRows))
  return table
}

export const notParquet = (path: string, cause: unknown) =>
  cause instanceof VarveError
    ? cause
    : new VarveError('INVALID_PARQUET', `${path} is not a valid Parquet file: ${(cause as Error)?.message ?? cause}`, { cause, details: { path } })
