import {
  Bool,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  tableToIPC,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow'

// Rows (as hyparquet reads them) to an Arrow IPC stream for DuckDB, built from typed arrays with
// `makeData`. Arrow's builders (tableFromJSON, vectorFromArray) compile a function with `new
// Function`, which the UI's Content-Security-Policy forbids, so they are not used.

type Kind = 'int64' | 'float64' | 'bool' | 'timestamp' | 'utf8'

/** The Arrow type a column's values fit: one JS type (nulls aside), else text (objects as JSON). */
function kindOf(values: readonly unknown[]): Kind {
  let kind: Kind | undefined
  for (const v of values) {
    if (v === null || v === undefined) continue
    const k: Kind =
      typeof v === 'bigint' ? 'int64' : typeof v === 'number' ? 'float64' : typeof v === 'boolean' ? 'bool' : v instanceof Date ? 'timestamp' : 'utf8'
    if (kind === undefined) kind = k
    else if (kind !== k) return 'utf8'
  }
  return kind ?? 'utf8'
}

const text = (v: unknown) =>
  typeof v === 'string'
    ? v
    : typeof v === 'object'
      ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Array.from(x) : x))
      : String(v)

function column(values: readonly unknown[]): { type: DataType; data: Data } {
  const n = values.length
  const nullBitmap = new Uint8Array(Math.ceil(n / 8))
  let nullCount = 0
  values.forEach((v, i) => {
    if (v === null || v === undefined) nullCount++
    else nullBitmap[i >> 3]! |= 1 << (i & 7)
  })
  const base = { length: n, nullCount, nullBitmap }
  switch (kindOf(values)) {
    case 'int64': {
      const type = new Int64()
      return { type, data: makeData({ ...base, type, data: BigInt64Array.from(values, (v) => (typeof v === 'bigint' ? v : 0n)) }) }
    }
    case 'float64': {
      const type = new Float64()
      return { type, data: makeData({ ...base, type, data: Float64Array.from(values, (v) => (typeof v === 'number' ? v : 0)) }) }
    }
    case 'bool': {
      const type = new Bool()
      const bits = new Uint8Array(Math.ceil(n / 8))
      values.forEach((v, i) => {
        if (v === true) bits[i >> 3]! |= 1 << (i & 7)
      })
      return { type, data: makeData({ ...base, type, data: bits }) }
    }
    case 'timestamp': {
      const type = new TimestampMillisecond()
      return { type, data: makeData({ ...base, type, data: BigInt64Array.from(values, (v) => BigInt(v instanceof Date ? v.getTime() : 0)) }) }
    }
    case 'utf8': {
      const type = new Utf8()
      const encoder = new TextEncoder()
      const parts = values.map((v) => (v === null || v === undefined ? new Uint8Array(0) : encoder.encode(text(v))))
      const valueOffsets = new Int32Array(n + 1)
      parts.forEach((p, i) => (valueOffsets[i + 1] = valueOffsets[i]! + p.length))
      const data = new Uint8Array(valueOffsets[n]!)
      parts.forEach((p, i) => data.set(p, valueOffsets[i]!))
      return { type, data: makeData({ ...base, type, valueOffsets, data }) }
    }
  }
}

/** An Arrow IPC stream of the rows, with the given columns in that order. */
export function rowsToIpc(names: readonly string[], rows: readonly Record<string, unknown>[]): Uint8Array {
  const columns = names.map((name) => ({ name, ...column(rows.map((r) => r[name])) }))
  const fields = columns.map((c) => new Field(c.name, c.type, true))
  const schema = new Schema(fields)
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children: columns.map((c) => c.data) }))
  return tableToIPC(new Table(schema, batch), 'stream')
}
