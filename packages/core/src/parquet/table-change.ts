import { VarveError } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { DiffEntry } from '../tree/tree-diff.js'
import { readParquetFooter } from './parquet-reader.js'
import { columnsOf, formatType } from './parquet-types.js'

/** What changed in one Parquet file between two versions, from the two footers alone. */
export interface TableChangeStat {
  readonly path: string
  readonly type: DiffEntry['type']
  /** Rows before and after (absent for the side that does not exist). */
  readonly rows: { readonly before?: number; readonly after?: number }
  /** Top-level columns added, removed, or whose type (pyarrow spelling) or nullability changed. */
  readonly columns: {
    readonly added: readonly { readonly name: string; readonly type: string }[]
    readonly removed: readonly { readonly name: string; readonly type: string }[]
    readonly changed: readonly { readonly name: string; readonly before: string; readonly after: string }[]
  }
  /** Set when a side is not valid Parquet (its message); the rest is then what could be read. */
  readonly invalid?: string
}

/** True for the paths whose footers a table stat reads. */
export const isParquetPath = (path: string) => /\.parquet$/i.test(path)

type Side = { rows: number; columns: Map<string, string> } | undefined

/** The footers of both sides of a change to a Parquet file, compared. */
export async function tableChangeStat(objects: ObjectStore, d: DiffEntry): Promise<TableChangeStat> {
  const problems: string[] = []
  const read = async (e: Entry | undefined): Promise<Side> => {
    if (!e) return undefined
    try {
      const { metadata } = await readParquetFooter(objects, e)
      const columns = new Map(columnsOf(metadata.schema).map((c) => [c.name, `${formatType(c.type)}${c.nullable ? '' : ' not null'}`]))
      return { rows: Number(metadata.num_rows), columns }
    } catch (err) {
      if (!VarveError.is(err, 'INVALID_PARQUET')) throw err
      problems.push(err.message)
      return undefined
    }
  }
  const [before, after] = await Promise.all([read(d.left), read(d.right)])
  const added: { name: string; type: string }[] = []
  const removed: { name: string; type: string }[] = []
  const changed: { name: string; before: string; after: string }[] = []
  if (before && after) {
    for (const [name, type] of after.columns) {
      const was = before.columns.get(name)
      if (was === undefined) added.push({ name, type })
      else if (was !== type) changed.push({ name, before: was, after: type })
    }
    for (const [name, type] of before.columns) if (!after.columns.has(name)) removed.push({ name, type })
  }
  return {
    path: d.path,
    type: d.type,
    rows: { ...(before ? { before: before.rows } : {}), ...(after ? { after: after.rows } : {}) },
    columns: { added, removed, changed },
    ...(problems.length ? { invalid: problems.join('; ') } : {}),
  }
}
