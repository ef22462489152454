/**
 * A set of SHA-256 ids kept as their first 16 bytes in one open-addressing table: ~32 bytes per id at
 * most, instead of a JS string and a Set slot each, so marking millions of objects stays small.
 * A collision of two 128-bit prefixes would only make GC keep an object it could have deleted.
 */
export class AddressSet {
  #slots: Uint8Array
  #capacity: number
  #size = 0

  constructor(initialCapacity = 1 << 16) {
    this.#capacity = 1 << Math.ceil(Math.log2(Math.max(16, initialCapacity)))
    this.#slots = new Uint8Array(this.#capacity * 16)
  }

  get size(): number {
    return this.#size
  }

  /** Adds a 64-hex-digit id; returns false when it was already there. */
  add(hexId: string): boolean {
    if (this.#size * 2 >= this.#capacity) this.#grow()
    return this.#insert(prefixOf(hexId))
  }

  has(hexId: string): boolean {
    const key = prefixOf(hexId)
    const mask = this.#capacity - 1
    for (let i = hashOf(key) & mask; ; i = (i + 1) & mask) {
      if (isEmpty(this.#slots, i)) return false
      if (equals(this.#slots, i, key)) return true
    }
  }

  #insert(key: Uint8Array): boolean {
    const mask = this.#capacity - 1
    for (let i = hashOf(key) & mask; ; i = (i + 1) & mask) {
      if (isEmpty(this.#slots, i)) {
        this.#slots.set(key, i * 16)
        this.#size++
        return true
      }
      if (equals(this.#slots, i, key)) return false
    }
  }

  #grow(): void {
    const old = this.#slots
    const oldCapacity = this.#capacity
    this.#capacity *= 2
    this.#slots = new Uint8Array(this.#capacity * 16)
    this.#size = 0
    for (let i = 0; i < oldCapacity; i++) if (!isEmpty(old, i)) this.#insert(old.subarray(i * 16, i * 16 + 16))
  }
}

function prefixOf(hexId: string): Uint8Array {
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i++) out[i] = parseInt(hexId.substr(i * 2, 2), 16)
  // An all-zero slot means empty; a real all-zero prefix is stored with its last bit set (harmless).
  if (out.every((b) => b === 0)) out[15] = 1
  return out
}

const hashOf = (key: Uint8Array) => ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0

function isEmpty(slots: Uint8Array, i: number): boolean {
  const o = i * 16
  for (let k = 0; k < 16; k++) if (slots[o + k] !== 0) return false
  return true
}

function equals(slots: Uint8Array, i: number, key: Uint8Array): boolean {
  const o = i * 16
  for (let k = 0; k < 16; k++) if (slots[o + k] !== key[k]) return false
  return true
}
