// Over 400 lines on purpose: one type language, parsed from a contract's text (parseType), read from
// a footer (typeOfElement) and compared and printed (typeMatches, formatType); split, the parser
// and the footer reader would drift apart on what each name means.
import type { SchemaElement } from 'hyparquet'

// Column types as a contract names them, in pyarrow's spelling, and as a Parquet footer describes
// them. A name is coarse (`timestamp`, `decimal`, `list`: any unit, precision or element) or precise
// (`timestamp[ms, tz=UTC]`, `decimal128(10, 2)`, `list<int32>`, `struct<a: int32, b: string>`,
// `map<string, int32>`): a precise expectation checks every detail it spells out.

export interface ParquetType {
  /** The coarse name: int8..uint64, float16, float, double, boolean, string, binary, fixed_size_binary, date, time, timestamp, decimal, interval, uuid, null, list, map, struct. */
  readonly name: string
  readonly unit?: 's' | 'ms' | 'us' | 'ns'
  /** Timestamps: 'UTC' when stored adjusted to UTC (Parquet records no other zone). */
  readonly tz?: string
  readonly precision?: number
  readonly scale?: number
  readonly byteWidth?: number
  /** list: [element]; map: [key, value]; struct: its fields. */
  readonly children?: readonly ParquetField[]
}

export interface ParquetField {
  readonly name: string
  readonly type: ParquetType
  readonly nullable: boolean
}

const ALIASES: Record<string, string> = {
  utf8: 'string',
  large_string: 'string',
  large_utf8: 'string',
  str: 'string',
  text: 'string',
  large_binary: 'binary',
  bytes: 'binary',
  float64: 'double',
  float32: 'float',
  halffloat: 'float16',
  bool: 'boolean',
  int: 'int32',
  long: 'int64',
  date32: 'date',
  date64: 'date',
  time32: 'time',
  time64: 'time',
  decimal128: 'decimal',
  decimal256: 'decimal',
  large_list: 'list',
}

const COARSE = new Set([
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float16',
  'float',
  'double',
  'boolean',
  'string',
  'binary',
  'fixed_size_binary',
  'date',
  'time',
  'timestamp',
  'decimal',
  'interval',
  'uuid',
  'null',
  'list',
  'map',
  'struct',
])

/** Every coarse type name (after aliases). */
export const TYPE_NAMES: readonly string[] = [...COARSE]

export class TypeSyntaxError extends Error {}

/** Parses a contract's type name; throws TypeSyntaxError saying what is wrong. */
export function parseType(text: string): ParquetType {
  const p = new Parser(text)
  const t = p.type()
  p.end()
  return t
}

class Parser {
  #at = 0
  constructor(private readonly s: string) {}

  #ws(): void {
    while (this.#at < this.s.length && /\s/.test(this.s[this.#at]!)) this.#at++
  }
  #peek(): string {
    this.#ws()
    return this.s[this.#at] ?? ''
  }
  #eat(ch: string): boolean {
    if (this.#peek() !== ch) return false
    this.#at++
    return true
  }
  #expect(ch: string): void {
    if (!this.#eat(ch)) throw new TypeSyntaxError(`expected "${ch}" at ${this.#at + 1} in ${JSON.stringify(this.s)}`)
  }
  #word(): string {
    this.#ws()
    const m = /^[A-Za-z_][A-Za-z0-9_/+\-.]*/.exec(this.s.slice(this.#at))
    if (!m) throw new TypeSyntaxError(`expected a name at ${this.#at + 1} in ${JSON.stringify(this.s)}`)
    this.#at += m[0].length
    return m[0]
  }
  #int(): number {
    this.#ws()
    const m = /^\d{1,4}/.exec(this.s.slice(this.#at))
    if (!m) throw new TypeSyntaxError(`expected a number at ${this.#at + 1} in ${JSON.stringify(this.s)}`)
    this.#at += m[0].length
    return Number(m[0])
  }
  end(): void {
    if (this.#peek() !== '') throw new TypeSyntaxError(`unexpected ${JSON.stringify(this.s.slice(this.#at))} in ${JSON.stringify(this.s)}`)
  }

  type(): ParquetType {
    const written = this.#word().toLowerCase()
    const name = ALIASES[written] ?? written
    if (!COARSE.has(name)) throw new TypeSyntaxError(`unknown type ${JSON.stringify(written)}`)
    if (name === 'timestamp' || name === 'time' || name === 'date') {
      if (!this.#eat('[')) return { name }
      const unit = this.#word().toLowerCase()
      if (name === 'date') {
        if (unit !== 'day' && unit !== 'ms') throw new TypeSyntaxError(`a date's unit is day or ms, not ${unit}`)
        this.#expect(']')
        return { name }
      }
      if (!['s', 'ms', 'us', 'ns'].includes(unit)) throw new TypeSyntaxError(`unknown unit ${JSON.stringify(unit)} (s, ms, us, ns)`)
      let tz: string | undefined
      if (name === 'timestamp' && this.#eat(',')) {
        if (this.#word().toLowerCase() !== 'tz') throw new TypeSyntaxError('expected tz=<zone> after the unit')
        this.#expect('=')
        tz = this.#word()
      }
      this.#expect(']')
      return { name, unit: unit as 's' | 'ms' | 'us' | 'ns', ...(tz !== undefined ? { tz } : {}) }
    }
    if (name === 'decimal') {
      if (!this.#eat('(')) return { name }
      const precision = this.#int()
      this.#expect(',')
      const scale = this.#int()
      this.#expect(')')
      if (precision < 1 || precision > 76 || scale > precision) throw new TypeSyntaxError(`decimal(${precision}, ${scale}) is not a valid precision and scale`)
      return { name, precision, scale }
    }
    if (name === 'fixed_size_binary') {
      if (!this.#eat('[')) return { name }
      const byteWidth = this.#int()
      this.#expect(']')
      return { name, byteWidth }
    }
    if (name === 'list') {
      if (!this.#eat('<')) return { name }
      const field = this.#field('element', true)
      this.#expect('>')
      return { name, children: [field] }
    }
    if (name === 'map') {
      if (!this.#eat('<')) return { name }
      const key = this.#field('key', false)
      this.#expect(',')
      const value = this.#field('value', true)
      this.#expect('>')
      return { name, children: [key, value] }
    }
    if (name === 'struct') {
      if (!this.#eat('<')) return { name }
      const fields: ParquetField[] = []
      do {
        const fieldName = this.#word()
        this.#expect(':')
        fields.push({ name: fieldName, type: this.type(), nullable: !this.#notNull() })
      } while (this.#eat(','))
      this.#expect('>')
      return { name, children: fields }
    }
    return { name }
  }

  /** `type` or `name: type` (pyarrow writes `list<element: int32>`, `list<item: string>`). */
  #field(defaultName: string, nullable: boolean): ParquetField {
    const start = this.#at
    const first = this.#word()
    if (this.#eat(':')) return { name: first, type: this.type(), nullable: nullable && !this.#notNull() }
    this.#at = start
    return { name: defaultName, type: this.type(), nullable: nullable && !this.#notNull() }
  }

  #notNull(): boolean {
    const save = this.#at
    this.#ws()
    if (/^not null/i.test(this.s.slice(this.#at))) {
      this.#at += 'not null'.length
      return true
    }
    this.#at = save
    return false
  }
}

/** The type a Parquet footer gives a schema element (and its subtree), and the index after it. */
export function typeOfElement(els: readonly SchemaElement[], i: number): { type: ParquetType; next: number } {
  const el = els[i]!
  const next = skipElement(els, i)
  if (!el.num_children) {
    const leaf = leafType(el)
    // A repeated leaf outside a LIST group (legacy) is a list of that leaf.
    return { type: el.repetition_type === 'REPEATED' ? { name: 'list', children: [{ name: 'element', type: leaf, nullable: false }] } : leaf, next }
  }
  const lt = el.logical_type?.type
  const ct = el.converted_type
  if (lt === 'LIST' || ct === 'LIST') {
    const rep = els[i + 1]!
    let element: ParquetField
    if (!rep.num_children)
      element = { name: 'element', type: leafType(rep), nullable: false } // two-level: the repeated leaf is the element
    else if (rep.num_children === 1 && rep.name !== 'array' && rep.name !== `${el.name}_tuple`) {
      // three-level: list (repeated group) > element
      const inner = typeOfElement(els, i + 2)
      element = { name: 'element', type: inner.type, nullable: els[i + 2]!.repetition_type !== 'REQUIRED' }
    } else element = { name: 'element', type: structOf(els, i + 1), nullable: false } // legacy: the repeated group is the element
    return { type: { name: 'list', children: [element] }, next }
  }
  if (lt === 'MAP' || ct === 'MAP' || ct === 'MAP_KEY_VALUE') {
    const kv = structOf(els, i + 1).children ?? []
    const key = kv[0]
    const value = kv[1]
    return {
      type: {
        name: 'map',
        children: [
          { name: 'key', type: key?.type ?? { name: 'null' }, nullable: false },
          { name: 'value', type: value?.type ?? { name: 'null' }, nullable: value?.nullable ?? true },
        ],
      },
      next,
    }
  }
  return { type: structOf(els, i), next }
}

/** A group's children as a struct (the group's own annotation ignored). */
function structOf(els: readonly SchemaElement[], i: number): ParquetType {
  const fields: ParquetField[] = []
  let j = i + 1
  for (let c = 0; c < (els[i]!.num_children ?? 0); c++) {
    const { type, next } = typeOfElement(els, j)
    fields.push({ name: els[j]!.name, type, nullable: els[j]!.repetition_type !== 'REQUIRED' })
    j = next
  }
  return { name: 'struct', children: fields }
}

/** Index after the subtree rooted at i. */
export function skipElement(els: readonly Pick<SchemaElement, 'num_children'>[], i: number): number {
  let pending = 1
  while (pending > 0 && i < els.length) {
    pending += (els[i]!.num_children ?? 0) - 1
    i++
  }
  return i
}

const UNIT: Record<string, 's' | 'ms' | 'us' | 'ns'> = { MILLIS: 'ms', MICROS: 'us', NANOS: 'ns' }

function leafType(el: SchemaElement): ParquetType {
  const lt = el.logical_type as ({ type: string } & Record<string, unknown>) | undefined
  if (lt) {
    switch (lt.type) {
      case 'STRING':
      case 'ENUM':
      case 'JSON':
        return { name: 'string' }
      case 'INTEGER':
        return { name: `${lt.isSigned ? 'int' : 'uint'}${lt.bitWidth}` }
      case 'DATE':
        return { name: 'date' }
      case 'TIMESTAMP':
        return { name: 'timestamp', unit: UNIT[String(lt.unit)] ?? 'ms', ...(lt.isAdjustedToUTC ? { tz: 'UTC' } : {}) }
      case 'TIME':
        return { name: 'time', unit: UNIT[String(lt.unit)] ?? 'ms' }
      case 'DECIMAL':
        return { name: 'decimal', precision: Number(lt.precision), scale: Number(lt.scale) }
      case 'UUID':
        return { name: 'uuid' }
      case 'FLOAT16':
        return { name: 'float16' }
      case 'UNKNOWN':
        return { name: 'null' }
    }
  }
  switch (el.converted_type) {
    case 'UTF8':
    case 'ENUM':
    case 'JSON':
      return { name: 'string' }
    case 'INT_8':
      return { name: 'int8' }
    case 'INT_16':
      return { name: 'int16' }
    case 'INT_32':
      return { name: 'int32' }
    case 'INT_64':
      return { name: 'int64' }
    case 'UINT_8':
      return { name: 'uint8' }
    case 'UINT_16':
      return { name: 'uint16' }
    case 'UINT_32':
      return { name: 'uint32' }
    case 'UINT_64':
      return { name: 'uint64' }
    case 'DATE':
      return { name: 'date' }
    // legacy timestamps are instants (adjusted to UTC); legacy times are local
    case 'TIMESTAMP_MILLIS':
      return { name: 'timestamp', unit: 'ms', tz: 'UTC' }
    case 'TIMESTAMP_MICROS':
      return { name: 'timestamp', unit: 'us', tz: 'UTC' }
    case 'TIME_MILLIS':
      return { name: 'time', unit: 'ms' }
    case 'TIME_MICROS':
      return { name: 'time', unit: 'us' }
    case 'DECIMAL':
      return { name: 'decimal', precision: Number(el.precision), scale: Number(el.scale ?? 0) }
    case 'INTERVAL':
      return { name: 'interval' }
  }
  switch (el.type) {
    case 'BOOLEAN':
      return { name: 'boolean' }
    case 'INT32':
      return { name: 'int32' }
    case 'INT64':
      return { name: 'int64' }
    case 'INT96':
      return { name: 'timestamp', unit: 'ns' } // Impala/Spark's legacy timestamps
    case 'FLOAT':
      return { name: 'float' }
    case 'DOUBLE':
      return { name: 'double' }
    case 'FIXED_LEN_BYTE_ARRAY':
      return { name: 'fixed_size_binary', byteWidth: Number(el.type_length) }
    default:
      return { name: 'binary' }
  }
}

/** Whether `actual` is what `expected` asks for: the coarse name, and every detail `expected` spells out. */
export function typeMatches(expected: ParquetType, actual: ParquetType): boolean {
  if (expected.name !== actual.name) return false
  for (const k of ['unit', 'precision', 'scale', 'byteWidth'] as const) if (expected[k] !== undefined && expected[k] !== actual[k]) return false
  // A precise timestamp is naive (`timestamp[ms]`) or an instant (`timestamp[ms, tz=...]`). Parquet
  // records only whether values are adjusted to UTC, so any zone matches an instant.
  if (expected.name === 'timestamp' && expected.unit !== undefined && (expected.tz !== undefined) !== (actual.tz !== undefined)) return false
  if (expected.children) {
    const a = actual.children ?? []
    if (expected.children.length !== a.length) return false
    for (let i = 0; i < a.length; i++) {
      const e = expected.children[i]!
      if (expected.name === 'struct' && e.name !== a[i]!.name) return false
      if (!typeMatches(e.type, a[i]!.type)) return false
    }
  }
  return true
}

/** A type in pyarrow's spelling, e.g. `timestamp[us, tz=UTC]`, `list<element: int32>`. */
export function formatType(t: ParquetType): string {
  switch (t.name) {
    case 'timestamp':
      return t.unit ? `timestamp[${t.unit}${t.tz ? `, tz=${t.tz}` : ''}]` : 'timestamp'
    case 'time':
      return t.unit ? `${t.unit === 's' || t.unit === 'ms' ? 'time32' : 'time64'}[${t.unit}]` : 'time'
    case 'decimal':
      return t.precision !== undefined ? `decimal${t.precision > 38 ? 256 : 128}(${t.precision}, ${t.scale ?? 0})` : 'decimal'
    case 'fixed_size_binary':
      return t.byteWidth !== undefined ? `fixed_size_binary[${t.byteWidth}]` : 'fixed_size_binary'
    case 'list':
      return t.children ? `list<element: ${formatType(t.children[0]!.type)}>` : 'list'
    case 'map':
      return t.children ? `map<${formatType(t.children[0]!.type)}, ${formatType(t.children[1]!.type)}>` : 'map'
    case 'struct':
      return t.children ? `struct<${t.children.map((f) => `${f.name}: ${formatType(f.type)}`).join(', ')}>` : 'struct'
    default:
      return t.name
  }
}

/**
 * The field at a dotted path in a file's columns: `st.a` (a struct's field), `lst.element`,
 * `m.key` / `m.value`. Undefined when there is none.
 */
export function fieldAt(columns: readonly ParquetField[], dotted: string): ParquetField | undefined {
  const parts = dotted.split('.')
  let field = columns.find((c) => c.name === parts[0])
  for (const part of parts.slice(1)) {
    if (!field?.type.children) return undefined
    const name = field.type.name === 'list' && part === 'item' ? 'element' : part
    field = field.type.children.find((c) => c.name === name)
  }
  return field
}

/** The top-level columns of a file with their full types. */
export function columnsOf(els: readonly SchemaElement[]): ParquetField[] {
  const out: ParquetField[] = []
  const top = els[0]?.num_children ?? 0
  let i = 1
  for (let c = 0; c < top && i < els.length; c++) {
    const { type, next } = typeOfElement(els, i)
    out.push({ name: els[i]!.name, type, nullable: els[i]!.repetition_type !== 'REQUIRED' })
    i = next
  }
  return out
}

/** Names of a file's top-level columns, in order. */
export function topLevelNames(metadata: { schema: readonly SchemaElement[] }): string[] {
  const els = metadata.schema
  const top = els[0]?.num_children ?? 0
  const names: string[] = []
  for (let c = 0, i = 1; c < top && i < els.length; c++) {
    names.push(els[i]!.name)
    i = skipElement(els, i)
  }
  return names
}
