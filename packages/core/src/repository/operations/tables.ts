import type { RecordBatch } from 'apache-arrow'
import type { RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import type { Entry } from '../../model/entry.js'
import type { ReadDatasetOptions } from '../../parquet/dataset-reader.js'
import { isParquetPath, tableChangeStat, type TableChangeStat } from '../../parquet/table-change.js'
import type { DiffTableOptions, TableDiffRecord } from '../../parquet/table-diff.js'
import { mapInOrder } from '../../util/map-in-order.js'
import { validatePrefix } from '../../util/paths.js'
import { guardIterable } from '../guard.js'
import { diff } from './history.js'
import { list, stat } from './reads.js'

// Parquet as tables: footer-level change stats, row diffs, and Arrow reads of a dataset. Arrow and
// the Parquet readers are imported on first use, so they stay out of every other command's start-up.

export function tableChangeStats(ctx: RepoContext, left: string, right: string, options: { prefix?: string }): AsyncIterable<TableChangeStat> {
  const changes = diff(ctx, left, right, options)
  return guardIterable('tableChangeStats', async function* () {
    async function* parquet() {
      for await (const d of changes) if (isParquetPath(d.path)) yield d
    }
    yield* mapInOrder(parquet(), 8, (d) => tableChangeStat(ctx.objects, d))
  })
}

export function diffTable(ctx: RepoContext, left: string, right: string, path: string, options: DiffTableOptions): AsyncIterable<TableDiffRecord> {
  return guardIterable('diffTable', async function* () {
    const [{ isDataFile }, { diffTables }] = await Promise.all([import('../../parquet/dataset-reader.js'), import('../../parquet/table-diff.js')])
    const filesAt = async (ref: string): Promise<Entry[]> => {
      if (path === '' || path.endsWith('/')) {
        const at = validatePrefix(path)
        const files: Entry[] = []
        for await (const item of list(ctx, ref, { prefix: at })) if (item.type === 'object' && isDataFile(item.path, at)) files.push(item)
        return files
      }
      return stat(ctx, ref, path).then(
        (e) => [e],
        (err: unknown) => (VarveError.is(err, ErrorCodes.NOT_FOUND) ? [] : Promise.reject(err)),
      )
    }
    const [before, after] = await Promise.all([filesAt(left), filesAt(right)])
    if (!before.length && !after.length)
      throw new VarveError(ErrorCodes.NOT_FOUND, `no Parquet file at ${path || '/'} in ${left} or ${right}`, { details: { path } })
    yield* diffTables(ctx.objects, before, after, options)
  })
}

export function readDataset(ctx: RepoContext, ref: string, prefix: string, options: ReadDatasetOptions): AsyncIterable<RecordBatch> {
  return guardIterable('readDataset', async function* () {
    const at = validatePrefix(prefix)
    const files: Entry[] = []
    for await (const item of list(ctx, ref, { prefix: at })) if (item.type === 'object') files.push(item)
    const { readDatasetBatches } = await import('../../parquet/dataset-reader.js')
    yield* readDatasetBatches(
      ctx.objects,
      (async function* () {
        yield* files
      })(),
      at,
      options,
    )
  })
}
