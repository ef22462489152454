// Over 400 lines on purpose: one streaming algorithm (hash both sides' rows by key into spilled
// partitions, then compare partition by partition), whose phases share the partition state.
import { randomInt } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Data, Table } from 'apache-arrow'
import { ErrorCodes, VarveError } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import type { ObjectStore } from '../objects/object-store.js'
import { ParquetStream } from './parquet-stream.js'
import { columnsOf, formatType, topLevelNames } from './parquet-types.js'
import { entrySource } from './range-source.js'
import { RecordSpill } from './record-spill.js'
import { ValueHasher } from './value-hash.js'
import { valueKey } from './value-key.js'

export interface DiffTableOptions {
  /** The columns that identify a row (unique on each side). Empty (or absent) with `positional`. */
  readonly key: readonly string[]
  /**
   * Match rows by position instead of by key: row i of the old version against row i of the new one
   * (a record's `key` is then `{ row: i }`, 0-based). For tables with no key, rewritten in place.
   */
  readonly positional?: boolean
  /** Columns shown in each row (all when absent; the key columns always). */
  readonly columns?: readonly string[]
}

export type TableRow = Record<string, unknown>
export interface SchemaChange {
  readonly added: readonly { readonly name: string; readonly type: string }[]
  readonly removed: readonly { readonly name: string; readonly type: string }[]
  /** Columns whose type changed: listed here, and their values are not compared row by row. */
  readonly changed: readonly { readonly name: string; readonly before: string; readonly after: string }[]
}

/** One record of a row-level diff: the schema first, then rows, then the counts. */
export type TableDiffRecord =
  | ({ readonly type: 'schema' } & SchemaChange)
  | { readonly type: 'removed'; readonly key: TableRow; readonly before: TableRow }
  | { readonly type: 'added'; readonly key: TableRow; readonly after: TableRow }
  | { readonly type: 'changed'; readonly key: TableRow; readonly columns: readonly string[]; readonly before: TableRow; readonly after: TableRow }
  | {
      readonly type: 'summary'
      readonly rows: { readonly before: number; readonly after: number }
      readonly added: number
      readonly removed: number
      readonly changed: number
      readonly unchanged: number
    }

/** Rows per partition of the key hashes: one partition of each side is in memory at a time, small enough for its table to stay in cache. */
const PARTITION_ROWS = 256 * 1024
/** Changed pairs whose old rows are fetched in one pass over the old side. */
const PAIRS_PER_PASS = 65_536
const NULL_LO = 0x9e3779b9 | 0
const NULL_HI = 0x7f4a7c15 | 0
/** key lo, key hi, row lo, row hi, position lo, position hi */
const WORDS = 6

interface Segment {
  readonly file: number
  readonly group: number
  readonly start: number
  readonly rows: number
}

/** One version of the table: its files (in path order) read as one. */
class Side {
  readonly segments: Segment[] = []
  readonly #fileStarts: number[] = []
  readonly columns = new Map<string, string>()
  rows = 0

  private constructor(
    readonly name: string,
    readonly files: readonly Entry[],
    private readonly objects: ObjectStore,
  ) {}

  static async open(name: string, files: readonly Entry[], objects: ObjectStore): Promise<Side> {
    const side = new Side(name, files, objects)
    for (let f = 0; f < files.length; f++) {
      const file = await side.open(f)
      side.#fileStarts.push(side.rows)
      try {
        for (const c of columnsOf(file.metadata.schema)) if (!side.columns.has(c.name)) side.columns.set(c.name, formatType(c.type))
        file.metadata.row_groups.forEach((g, group) => {
          side.segments.push({ file: f, group, start: side.rows, rows: Number(g.num_rows) })
          side.rows += Number(g.num_rows)
        })
      } finally {
        file.close()
      }
    }
    return side
  }

  open(f: number): Promise<ParquetStream> {
    return ParquetStream.open(entrySource(this.objects, this.files[f]!), this.files[f]!.path)
  }

  /** Every batch of the side with its first row's position. */
  async *batches(columns: readonly string[]): AsyncGenerator<{ start: number; table: Table }> {
    let base = 0
    for (let f = 0; f < this.files.length; f++) {
      const file = await this.open(f)
      try {
        const names = topLevelNames(file.metadata)
        const present = columns.filter((c) => names.includes(c))
        if (present.length !== columns.length)
          throw new VarveError(
            ErrorCodes.INVALID_ARGUMENT,
            `${this.files[f]!.path} has no column ${columns.find((c) => !present.includes(c))} (the other files of ${this.name} have it)`,
          )
        for await (const b of file.batches({ columns })) yield { start: base + b.firstRow, table: b.table }
        base += file.numRows
      } finally {
        file.close()
      }
    }
  }

  /** The rows at `positions` (ascending), reading only the row groups that hold them. */
  async *rowsAt(
    positions: Float64Array,
    shown: readonly string[],
    compared: readonly string[],
  ): AsyncGenerator<{ pos: number; row: TableRow; keys: string[] }> {
    let i = 0
    let open: { f: number; file: ParquetStream } | undefined
    try {
      for (const seg of this.segments) {
        if (i >= positions.length) break
        if (positions[i]! >= seg.start + seg.rows) continue
        if (open?.f !== seg.file) {
          open?.file.close()
          open = { f: seg.file, file: await this.open(seg.file) }
        }
        // the columns this file has: a folder's files may differ (a row then shows what its file holds)
        const inFile = topLevelNames(open.file.metadata)
        const wanted = [...new Set([...shown, ...compared])].filter((c) => inFile.includes(c))
        for await (const { table, firstRow } of open.file.batches({ rowGroups: [seg.group], columns: wanted })) {
          const start = this.#fileStarts[seg.file]! + firstRow
          const end = start + table.numRows
          for (; i < positions.length && positions[i]! < end; i++) {
            const local = positions[i]! - start
            const row: TableRow = {}
            for (const c of shown) row[c] = plain(table.getChild(c)?.get(local))
            yield { pos: positions[i]!, row, keys: keysAt(table, local, compared) }
          }
        }
      }
    } finally {
      open?.file.close()
    }
  }
}

/** The exact keys (valueKey) of row `i`'s values in `columns`. */
function keysAt(table: Table, i: number, columns: readonly string[]): string[] {
  const out: string[] = []
  for (const c of columns) {
    const vector = table.getChild(c)
    let at = i
    let key: string | undefined = '\u0000missing'
    if (vector)
      for (const data of vector.data) {
        if (at < data.length) {
          key = valueKey(data, at)
          break
        }
        at -= data.length
      }
    out.push(key ?? '\u0000null')
  }
  return out
}

/** Arrow values as plain JavaScript: nested vectors and rows as arrays and objects. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined || typeof v !== 'object') return v ?? null
  if (v instanceof Date || v instanceof Uint8Array) return v
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>)
  const o = v as { toJSON?: () => unknown; toArray?: () => unknown; [Symbol.iterator]?: unknown }
  if (typeof o.toJSON === 'function') return o.toJSON()
  if (typeof o.toArray === 'function') return Array.from(o.toArray() as ArrayLike<unknown>, plain)
  return v
}

class NotUnique extends Error {
  constructor(
    readonly side: Side,
    readonly positions: [number, number],
  ) {
    super('repeated key hash')
  }
}

/**
 * Rows added, removed and changed between two versions of a table (each one or more Parquet files
 * read as one), matched by key, with bounded memory: each side is hashed (key and row, 64-bit,
 * seeded) batch by batch into partitions spilled to disk, partitions are matched one at a time,
 * and only then are the rows that differ read again to be shown. Memory holds one partition of
 * each side plus 8 to 16 bytes per differing row.
 */
export async function* diffTables(
  objects: ObjectStore,
  before: readonly Entry[],
  after: readonly Entry[],
  options: DiffTableOptions,
): AsyncGenerator<TableDiffRecord> {
  const positional = options.positional === true
  const key = positional ? (options.key ?? []) : options.key
  if (positional && key.length) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'diffTable takes a key or positional, not both')
  if (!positional && (!Array.isArray(key) || key.length === 0 || key.some((k) => typeof k !== 'string' || !k)))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'diffTable needs key (the column(s) that identify a row) or positional')
  const a = await Side.open('the old version', before, objects)
  const b = await Side.open('the new version', after, objects)
  const schema = schemaChange(a, b)
  for (const side of [a, b])
    for (const k of key)
      if (side.files.length && !side.columns.has(k))
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `key column ${k} is not in ${side.name}`, { details: { column: k } })
  const keyChanged = schema.changed.find((c) => key.includes(c.name))
  if (keyChanged)
    throw new VarveError(
      ErrorCodes.INVALID_ARGUMENT,
      `key column ${keyChanged.name} changed type (${keyChanged.before} → ${keyChanged.after}); rows cannot be matched by it`,
    )
  // compared: the key, then every column both sides have with the same type
  const compared = [...key, ...[...a.columns.keys()].filter((c) => !key.includes(c) && b.columns.get(c) === a.columns.get(c))]
  const shownOf = (side: Side) => [...key, ...(options.columns ?? [...side.columns.keys()]).filter((c) => !key.includes(c) && side.columns.has(c))]
  yield { type: 'schema', ...schema }

  for (let attempt = 1; ; attempt++) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-table-diff-'))
    try {
      const matched = await match(a, b, key, compared, dir, positional)
      yield* emit(a, b, matched, shownOf(a), shownOf(b), key, compared, positional)
      yield {
        type: 'summary',
        rows: { before: a.rows, after: b.rows },
        added: matched.added.length,
        removed: matched.removed.length,
        changed: matched.changed.length,
        unchanged: matched.unchanged,
      }
      return
    } catch (err) {
      if (!(err instanceof NotUnique)) throw err
      // Two rows of one side share a key hash: the same key (an error), or a collision (new seeds).
      const [p, q] = err.positions
      const rows = []
      for await (const r of err.side.rowsAt(Float64Array.from([p, q].sort((x, y) => x - y)), key, key)) rows.push(r)
      if ((rows.length === 2 && rows[0]!.keys.join('\u0001') === rows[1]!.keys.join('\u0001')) || attempt >= 3)
        throw new VarveError(
          ErrorCodes.INVALID_ARGUMENT,
          `the key (${key.join(', ')}) is not unique in ${err.side.name}: ${JSON.stringify(rows[0]?.row ?? {}, jsonSafe)} is at rows ${p} and ${q}`,
          { details: { key: [...key], rows: [p, q] } },
        )
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  }
}

const jsonSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v)

function schemaChange(a: Side, b: Side): SchemaChange {
  const added: { name: string; type: string }[] = []
  const removed: { name: string; type: string }[] = []
  const changed: { name: string; before: string; after: string }[] = []
  for (const [name, type] of b.columns) {
    const was = a.columns.get(name)
    if (was === undefined) added.push({ name, type })
    else if (was !== type) changed.push({ name, before: was, after: type })
  }
  for (const [name, type] of a.columns) if (!b.columns.has(name)) removed.push({ name, type })
  return { added, removed, changed }
}

interface Matched {
  removed: Float64Array
  added: Float64Array
  /** pairs [old position, new position], ordered by new position */
  changed: { a: Float64Array; b: Float64Array; length: number }
  unchanged: number
}

class Positions {
  #data = new Float64Array(1024)
  length = 0
  push(x: number): void {
    if (this.length === this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2)
      grown.set(this.#data)
      this.#data = grown
    }
    this.#data[this.length++] = x
  }
  get(i: number): number {
    return this.#data[i]!
  }
  sorted(): Float64Array {
    return this.#data.slice(0, this.length).sort()
  }
}

async function match(a: Side, b: Side, key: readonly string[], compared: readonly string[], dir: string, positional: boolean): Promise<Matched> {
  const hasher = new ValueHasher(randomInt(2 ** 31), randomInt(2 ** 31))
  let partitions = 1
  while (partitions < 4096 && Math.max(a.rows, b.rows) / partitions > PARTITION_ROWS) partitions *= 2
  const shift = 32 - Math.log2(partitions)
  const spills = [new RecordSpill(dir, 'a', WORDS, partitions), new RecordSpill(dir, 'b', WORDS, partitions)] as const
  try {
    for (const [s, side] of [a, b].entries()) {
      if (!side.files.length) continue
      const spill = spills[s]!
      const record = new Uint32Array(WORDS)
      for await (const { start, table } of side.batches(compared)) {
        const n = table.numRows
        const keyLo = new Int32Array(n).fill(0x2545f491)
        const keyHi = new Int32Array(n).fill(0x6a09e667)
        const rowLo = new Int32Array(n).fill(0x3c6ef372)
        const rowHi = new Int32Array(n).fill(0x510e527f)
        const colLo = new Int32Array(n)
        const colHi = new Int32Array(n)
        for (const c of compared) {
          colLo.fill(NULL_LO)
          colHi.fill(NULL_HI)
          let base = 0
          for (const data of table.getChild(c)!.data) {
            const at = base
            hasher.hashAll(data as Data, (i, lo, hi) => {
              colLo[at + i] = lo
              colHi[at + i] = hi
            })
            base += data.length
          }
          const inKey = key.includes(c)
          for (let i = 0; i < n; i++) {
            rowLo[i] = combine(rowLo[i]!, colLo[i]!)
            rowHi[i] = combine(rowHi[i]!, colHi[i]!)
            if (inKey) {
              keyLo[i] = combine(keyLo[i]!, colLo[i]!)
              keyHi[i] = combine(keyHi[i]!, colHi[i]!)
            }
          }
        }
        for (let i = 0; i < n; i++) {
          const pos = start + i
          // By position, the key is the position itself (spread over the partitions by an odd multiplier, a bijection).
          record[0] = positional ? pos % 0x100000000 : keyLo[i]!
          record[1] = positional ? Math.imul(pos | 0, 0x9e3779b1) : keyHi[i]!
          record[2] = rowLo[i]!
          record[3] = rowHi[i]!
          record[4] = pos % 0x100000000
          record[5] = Math.floor(pos / 0x100000000)
          spill.add(shift === 32 ? 0 : record[1]! >>> shift, record)
        }
      }
    }
    const removed = new Positions()
    const added = new Positions()
    const pairsA = new Positions()
    const pairsB = new Positions()
    let unchanged = 0
    for (let p = 0; p < partitions; p++) {
      const ra = spills[0].take(p)
      const rb = spills[1].take(p)
      const ta = indexByKey(ra, a)
      indexByKey(rb, b) // only to find a repeated key on the new side
      const seen = new Uint8Array((ra.length / WORDS) | 0)
      for (let j = 0; j < rb.length; j += WORDS) {
        const i = lookup(ta, ra, rb[j]!, rb[j + 1]!)
        const posB = position(rb, j)
        if (i < 0) {
          added.push(posB)
          continue
        }
        seen[(i / WORDS) | 0] = 1
        if (ra[i + 2] === rb[j + 2] && ra[i + 3] === rb[j + 3]) unchanged++
        else {
          pairsA.push(position(ra, i))
          pairsB.push(posB)
        }
      }
      for (let i = 0, r = 0; i < ra.length; i += WORDS, r++) if (!seen[r]) removed.push(position(ra, i))
    }
    // changed pairs by new position
    const order = Array.from({ length: pairsB.length }, (_, i) => i).sort((x, y) => pairsB.get(x) - pairsB.get(y))
    const changed = { a: Float64Array.from(order, (i) => pairsA.get(i)), b: Float64Array.from(order, (i) => pairsB.get(i)), length: order.length }
    return { removed: removed.sorted(), added: added.sorted(), changed, unchanged }
  } finally {
    for (const s of spills) s.close()
  }
}

const position = (r: Uint32Array, i: number) => r[i + 4]! + r[i + 5]! * 0x100000000

function combine(h: number, x: number): number {
  h ^= Math.imul(x, 0xcc9e2d51)
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

/**
 * An open-addressing table of the records' key hashes: pairs [record offset + 1, key hi] side by side,
 * so a probe touches one cache line and reads a record only on a match. A repeated key throws NotUnique.
 */
function indexByKey(records: Uint32Array, side: Side): Int32Array {
  const n = records.length / WORDS
  let size = 16
  while (size < n * 2) size *= 2
  const slots = new Int32Array(2 * size)
  const mask = size - 1
  for (let i = 0; i < records.length; i += WORDS) {
    const hi = records[i + 1]! | 0
    for (let s = records[i]! & mask; ; s = (s + 1) & mask) {
      const at = slots[2 * s]! - 1
      if (at < 0) {
        slots[2 * s] = i + 1
        slots[2 * s + 1] = hi
        break
      }
      if (slots[2 * s + 1] === hi && records[at] === records[i]) throw new NotUnique(side, [position(records, at), position(records, i)])
    }
  }
  return slots
}

function lookup(slots: Int32Array, records: Uint32Array, lo: number, hi: number): number {
  const mask = (slots.length >> 1) - 1
  const h = hi | 0
  for (let s = lo & mask; ; s = (s + 1) & mask) {
    const at = slots[2 * s]! - 1
    if (at < 0) return -1
    if (slots[2 * s + 1] === h && records[at] === lo) return at
  }
}

async function* emit(
  a: Side,
  b: Side,
  m: Matched,
  shownA: readonly string[],
  shownB: readonly string[],
  key: readonly string[],
  compared: readonly string[],
  positional: boolean,
): AsyncGenerator<TableDiffRecord> {
  const keyOf = (row: TableRow, pos: number): TableRow => (positional ? { row: pos } : Object.fromEntries(key.map((k) => [k, row[k]])))
  for await (const r of a.rowsAt(m.removed, shownA, key)) yield { type: 'removed', key: keyOf(r.row, r.pos), before: r.row }
  for await (const r of b.rowsAt(m.added, shownB, key)) yield { type: 'added', key: keyOf(r.row, r.pos), after: r.row }
  for (let from = 0; from < m.changed.length; from += PAIRS_PER_PASS) {
    const to = Math.min(m.changed.length, from + PAIRS_PER_PASS)
    const old = new Map<number, { row: TableRow; keys: string[] }>()
    for await (const r of a.rowsAt(m.changed.a.slice(from, to).sort(), shownA, compared)) old.set(r.pos, { row: r.row, keys: r.keys })
    let k = from
    for await (const r of b.rowsAt(m.changed.b.slice(from, to), shownB, compared)) {
      const was = old.get(m.changed.a[k++]!)!
      if (key.some((_, c) => was.keys[c] !== r.keys[c])) {
        // two different keys whose hashes met: one row left, another came
        yield { type: 'removed', key: keyOf(was.row, m.changed.a[k - 1]!), before: was.row }
        yield { type: 'added', key: keyOf(r.row, r.pos), after: r.row }
        continue
      }
      const columns = compared.filter((_, c) => was.keys[c] !== r.keys[c])
      yield { type: 'changed', key: keyOf(r.row, r.pos), columns, before: was.row, after: r.row }
    }
  }
}
