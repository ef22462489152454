import { VarveError } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import type { ObjectStore } from '../objects/object-store.js'
import { readParquetFooter } from '../parquet/parquet-reader.js'
import { isParquetPath } from '../parquet/table-change.js'
import { mapInOrder } from '../util/map-in-order.js'
import type { Conflict } from './three-way.js'

/** Row counts of a conflicting Parquet file's versions, from their footers (absent: no file, or not Parquet). */
export interface ConflictRows {
  readonly base?: number
  readonly source?: number
  readonly dest?: number
}

/** Footers read at once (each a range read or two: S3 round trips, on S3). */
const FOOTERS_AT_ONCE = 16

/**
 * Adds to each Parquet conflict the row counts of its three versions (a merge dry run shows them).
 * One counter reads each address once, across every list it is given: the base of many conflicts is
 * often one shared version, and the conflicts left and those settled share it too.
 */
export function conflictRowCounter(objects: ObjectStore): <C extends Conflict>(conflicts: readonly C[]) => Promise<(C & { rows?: ConflictRows })[]> {
  const known = new Map<string, Promise<number | undefined>>()
  const rowsOf = (e: Entry | undefined): Promise<number | undefined> => {
    if (!e) return Promise.resolve(undefined)
    let rows = known.get(e.address)
    if (!rows) known.set(e.address, (rows = footerRows(objects, e)))
    return rows
  }
  return (conflicts) => withRows(conflicts, rowsOf)
}

async function withRows<C extends Conflict>(
  conflicts: readonly C[],
  rowsOf: (e: Entry | undefined) => Promise<number | undefined>,
): Promise<(C & { rows?: ConflictRows })[]> {
  const out: (C & { rows?: ConflictRows })[] = []
  for await (const c of mapInOrder(conflicts, FOOTERS_AT_ONCE, async (c) => {
    if (!isParquetPath(c.path)) return c
    const [base, source, dest] = await Promise.all([rowsOf(c.base), rowsOf(c.sourceEntry), rowsOf(c.destEntry)])
    const rows = { ...(base !== undefined ? { base } : {}), ...(source !== undefined ? { source } : {}), ...(dest !== undefined ? { dest } : {}) }
    return Object.keys(rows).length ? { ...c, rows } : c
  }))
    out.push(c)
  return out
}

async function footerRows(objects: ObjectStore, e: Entry): Promise<number | undefined> {
  if (e.size < 12) return undefined // shorter than the magic at both ends and the footer length: not Parquet
  try {
    return Number((await readParquetFooter(objects, e)).metadata.num_rows)
  } catch (err) {
    if (VarveError.is(err, 'INVALID_PARQUET')) return undefined
    throw err
  }
}
