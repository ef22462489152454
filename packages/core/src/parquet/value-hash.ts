import { Type, type Data, type Vector } from 'apache-arrow'
import { valueKey } from './value-key.js'

/** Receives one value's 64-bit hash as two 32-bit halves; `i` is the value's index in its Data. */
export type HashSink = (i: number, lo: number, hi: number) => void

/**
 * 64-bit hashes of Arrow values, equal whenever `valueKey` says two values are equal (stored words
 * for numbers and temporals, bytes for strings and binaries, -0 as 0 and every NaN as one for floats).
 * Two seeded murmur3 lanes: the seeds are random per scan, so no input can be crafted to collide,
 * and a collision only costs a check of the values themselves.
 */
export class ValueHasher {
  readonly #seedA: number
  readonly #seedB: number
  readonly #float = new Float64Array(1)
  readonly #floatWords = new Uint32Array(this.#float.buffer)
  readonly #dictionaries = new WeakMap<Vector, { lo: Uint32Array; hi: Uint32Array; valid: Uint8Array }>()

  constructor(seedA: number, seedB: number) {
    this.#seedA = seedA | 0
    this.#seedB = seedB | 0
  }

  /** Calls `sink` for every non-null value of `data`. */
  hashAll(data: Data, sink: HashSink): void {
    const n = data.length
    const nullable = data.nullCount > 0
    const values = data.values as ArrayLike<number | bigint> & ArrayBufferView & { BYTES_PER_ELEMENT: number }
    switch (data.type.typeId) {
      case Type.Float: {
        const v = values as unknown as ArrayLike<number>
        const bytes = values.BYTES_PER_ELEMENT
        for (let i = 0; i < n; i++) {
          if (nullable && !data.getValid(i)) continue
          if (bytes === 2) {
            this.#words(i, [v[i]!], 1, sink)
            continue
          }
          const x = v[i]!
          this.#float[0] = x === 0 ? 0 : Number.isNaN(x) ? NaN : x
          this.#words(i, this.#floatWords, 2, sink)
        }
        return
      }
      case Type.Int:
      case Type.Date:
      case Type.Time:
      case Type.Timestamp:
      case Type.Duration:
      case Type.Interval:
      case Type.Decimal: {
        const width = data.stride * values.BYTES_PER_ELEMENT
        if (width % 4 === 0) {
          const words = new Uint32Array(values.buffer, values.byteOffset, (values.byteLength / 4) | 0)
          const per = width / 4
          for (let i = 0; i < n; i++) if (!nullable || data.getValid(i)) this.#wordsAt(i, words, i * per, per, sink)
        } else {
          const v = values as unknown as ArrayLike<number>
          for (let i = 0; i < n; i++) if (!nullable || data.getValid(i)) this.#words(i, [v[i]!], 1, sink)
        }
        return
      }
      case Type.Bool: {
        const v = values as unknown as Uint8Array
        for (let i = 0; i < n; i++) {
          if (nullable && !data.getValid(i)) continue
          const at = data.offset + i
          this.#words(i, [(v[at >> 3]! >> (at & 7)) & 1], 1, sink)
        }
        return
      }
      case Type.Utf8:
      case Type.Binary:
      case Type.LargeUtf8:
      case Type.LargeBinary: {
        const offsets = data.valueOffsets as ArrayLike<number | bigint>
        const bytes = values as unknown as Uint8Array
        const large = typeof offsets[0] === 'bigint'
        for (let i = 0; i < n; i++) {
          if (nullable && !data.getValid(i)) continue
          const start = large ? Number(offsets[i]) : (offsets[i] as number)
          const end = large ? Number(offsets[i + 1]) : (offsets[i + 1] as number)
          this.#bytes(i, bytes, start, end, sink)
        }
        return
      }
      case Type.FixedSizeBinary: {
        const bytes = values as unknown as Uint8Array
        const width = data.stride
        for (let i = 0; i < n; i++) if (!nullable || data.getValid(i)) this.#bytes(i, bytes, i * width, (i + 1) * width, sink)
        return
      }
      case Type.Dictionary: {
        const dict = this.#dictionaryHashes(data.dictionary!)
        const index = values as unknown as ArrayLike<number | bigint>
        for (let i = 0; i < n; i++) {
          if (nullable && !data.getValid(i)) continue
          const k = Number(index[i])
          if (dict.valid[k]) sink(i, dict.lo[k]!, dict.hi[k]!)
        }
        return
      }
      default: {
        // lists, maps, structs, views, unions: hashed through their exact key (slower, still exact)
        for (let i = 0; i < n; i++) {
          const key = valueKey(data, i)
          if (key !== undefined) this.#string(i, key, sink)
        }
      }
    }
  }

  #dictionaryHashes(dictionary: Vector): { lo: Uint32Array; hi: Uint32Array; valid: Uint8Array } {
    let out = this.#dictionaries.get(dictionary)
    if (out) return out
    const n = dictionary.length
    out = { lo: new Uint32Array(n), hi: new Uint32Array(n), valid: new Uint8Array(n) }
    let base = 0
    for (const chunk of dictionary.data) {
      const o = out
      const at = base
      this.hashAll(chunk, (i, lo, hi) => {
        o.lo[at + i] = lo
        o.hi[at + i] = hi
        o.valid[at + i] = 1
      })
      base += chunk.length
    }
    this.#dictionaries.set(dictionary, out)
    return out
  }

  #words(i: number, words: ArrayLike<number>, count: number, sink: HashSink): void {
    this.#wordsAt(i, words, 0, count, sink)
  }

  #wordsAt(i: number, words: ArrayLike<number>, from: number, count: number, sink: HashSink): void {
    let a = this.#seedA
    let b = this.#seedB
    for (let k = from; k < from + count; k++) {
      const w = words[k]! | 0
      a = mix(a, w)
      b = mix(b, w ^ 0x5bd1e995)
    }
    sink(i, fmix(a ^ count) >>> 0, fmix(b ^ count) >>> 0)
  }

  #bytes(i: number, bytes: Uint8Array, start: number, end: number, sink: HashSink): void {
    let a = this.#seedA
    let b = this.#seedB
    let k = start
    for (; k + 4 <= end; k += 4) {
      const w = bytes[k]! | (bytes[k + 1]! << 8) | (bytes[k + 2]! << 16) | (bytes[k + 3]! << 24)
      a = mix(a, w)
      b = mix(b, w ^ 0x5bd1e995)
    }
    let tail = 0
    for (let s = 0; k < end; k++, s += 8) tail |= bytes[k]! << s
    a = mix(a, tail)
    b = mix(b, tail ^ 0x5bd1e995)
    const len = end - start
    sink(i, fmix(a ^ len) >>> 0, fmix(b ^ len) >>> 0)
  }

  #string(i: number, s: string, sink: HashSink): void {
    let a = this.#seedA
    let b = this.#seedB
    for (let k = 0; k < s.length; k++) {
      const w = s.charCodeAt(k)
      a = mix(a, w)
      b = mix(b, w ^ 0x5bd1e995)
    }
    sink(i, fmix(a ^ s.length) >>> 0, fmix(b ^ s.length) >>> 0)
  }
}

function mix(h: number, w: number): number {
  w = Math.imul(w, 0xcc9e2d51)
  w = (w << 15) | (w >>> 17)
  w = Math.imul(w, 0x1b873593)
  h ^= w
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}
