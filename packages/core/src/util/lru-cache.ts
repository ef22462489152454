/** A size-bounded LRU map. Weight is whatever the caller says (bytes, entries); eviction keeps total <= max. */
export class LruCache<K, V> {
  readonly #map = new Map<K, { value: V; weight: number }>()
  #total = 0

  constructor(private readonly maxWeight: number) {}

  get(key: K): V | undefined {
    const hit = this.#map.get(key)
    if (hit === undefined) return undefined
    this.#map.delete(key)
    this.#map.set(key, hit)
    return hit.value
  }

  set(key: K, value: V, weight = 1): void {
    if (weight > this.maxWeight) return
    const old = this.#map.get(key)
    if (old) {
      this.#total -= old.weight
      this.#map.delete(key)
    }
    this.#map.set(key, { value, weight })
    this.#total += weight
    for (const [k, v] of this.#map) {
      if (this.#total <= this.maxWeight) break
      this.#map.delete(k)
      this.#total -= v.weight
    }
  }

  clear(): void {
    this.#map.clear()
    this.#total = 0
  }
}
