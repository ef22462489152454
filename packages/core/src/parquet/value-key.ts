import { makeVector, Type, type Data } from 'apache-arrow'

/**
 * A string that is equal for two values exactly when the values are equal, read from the Arrow
 * buffers (not from `Vector.get`, which turns a nanosecond timestamp into float milliseconds and a
 * list into a joined string): integers, timestamps, times, durations, intervals and decimals by their
 * stored words, strings and binaries by their bytes, lists, maps and structs element by element with
 * their nesting spelled out. Undefined for a null.
 */
export function valueKey(data: Data, i: number): string | undefined {
  if (!data.getValid(i)) return undefined
  const values = data.values as ArrayLike<number | bigint> & { subarray?: (a: number, b: number) => ArrayLike<number | bigint> }
  switch (data.type.typeId) {
    case Type.Bool: {
      const at = data.offset + i
      return (data.values as Uint8Array)[at >> 3]! & (1 << (at % 8)) ? 't' : 'f'
    }
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Duration:
    case Type.Interval:
    case Type.Decimal:
    case Type.FixedSizeBinary: {
      const stride = data.stride
      if (stride === 1) return `n${String(values[i])}`
      const words: string[] = []
      for (let k = stride * i; k < stride * (i + 1); k++) words.push(String(values[k]))
      return `n${words.join(',')}`
    }
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary: {
      const offsets = data.valueOffsets as ArrayLike<number | bigint>
      const start = Number(offsets[i])
      const end = Number(offsets[i + 1])
      const bytes = data.values as Uint8Array
      return `b${Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('base64')}`
    }
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const offsets = data.valueOffsets as ArrayLike<number | bigint>
      const child = data.children[0]!
      const items: string[] = []
      for (let k = Number(offsets[i]); k < Number(offsets[i + 1]); k++) items.push(valueKey(child, k) ?? '~')
      return `[${items.join(';')}]`
    }
    case Type.FixedSizeList: {
      const child = data.children[0]!
      const size = (data.type as unknown as { listSize: number }).listSize
      const items: string[] = []
      for (let k = size * i; k < size * (i + 1); k++) items.push(valueKey(child, k) ?? '~')
      return `[${items.join(';')}]`
    }
    case Type.Struct:
      return `{${data.children.map((c) => valueKey(c, i) ?? '~').join(';')}}`
    case Type.Dictionary: {
      const index = Number(values[i])
      let at = index
      for (const chunk of data.dictionary!.data) {
        if (at < chunk.length) return valueKey(chunk, at)
        at -= chunk.length
      }
      return undefined
    }
    default:
      // view types and unions: their getters are exact for these (strings, bytes), spelled as JSON
      return `j${JSON.stringify(data.type.typeId)}:${JSON.stringify(getValue(data, i), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))}`
  }
}

function getValue(data: Data, i: number): unknown {
  return makeVector(data).get(i)
}
