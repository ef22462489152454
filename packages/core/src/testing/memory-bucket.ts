import type { Bucket, BucketObject, BucketRead, GetOptions, ListPage, ListPageOptions, PutMode } from '../buckets/bucket.js'
import type { ByteSource } from '../stores/block-store.js'

interface Stored {
  readonly bytes: Uint8Array
  readonly version: string
  readonly lastModified: number
}

/**
 * The Bucket contract in memory: the reference implementation the protocol tests run on (with
 * FaultyBucket around it) before each real store runs them. Not a store for data: it forgets
 * everything when the process ends.
 */
export class MemoryBucket implements Bucket {
  readonly url: string
  readonly #objects = new Map<string, Stored>()
  #version = 0

  constructor(url = 'memory://test/') {
    this.url = url
  }

  async put(key: string, body: ByteSource, mode: PutMode = 'overwrite'): Promise<string | undefined> {
    const bytes = await readAll(body)
    const cur = this.#objects.get(key)
    if (mode === 'create' && cur) return undefined
    if (typeof mode === 'object' && cur?.version !== mode.update) return undefined
    const version = `"m${++this.#version}"`
    this.#objects.set(key, { bytes, version, lastModified: Date.now() })
    return version
  }

  async get(key: string, options: GetOptions = {}): Promise<BucketRead | undefined> {
    const o = this.#objects.get(key)
    if (!o || (options.ifVersion !== undefined && o.version !== options.ifVersion)) return undefined
    const [start, end] = options.range ?? [0, o.bytes.length]
    return { bytes: o.bytes.slice(Math.min(start, o.bytes.length), Math.min(end, o.bytes.length)), version: o.version }
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const o = this.#objects.get(key)
    if (!o) return undefined
    const bytes = o.bytes.slice()
    return (async function* () {
      for (let i = 0; i < bytes.length; i += 65536) yield bytes.slice(i, i + 65536)
    })()
  }

  async head(key: string): Promise<BucketObject | undefined> {
    const o = this.#objects.get(key)
    return o && { key, size: o.bytes.length, version: o.version, lastModified: o.lastModified }
  }

  async listPage(prefix: string, options: ListPageOptions = {}): Promise<ListPage> {
    const max = options.maxKeys ?? 1000
    const keys = [...this.#objects.keys()].filter((k) => k.startsWith(prefix) && (options.token === undefined || byBytes(k, options.token) > 0)).sort(byBytes)
    const objects: BucketObject[] = []
    const prefixes: string[] = []
    let last: string | undefined
    for (const k of keys) {
      if (objects.length + prefixes.length >= max) return { objects, prefixes, next: last }
      const cut = options.delimiter ? k.indexOf(options.delimiter, prefix.length) : -1
      if (cut >= 0) {
        const p = k.slice(0, cut + 1)
        if (prefixes.at(-1) !== p) prefixes.push(p)
        last = `${p}\uffff` // continue after everything under the folded prefix
        continue
      }
      const o = this.#objects.get(k)!
      objects.push({ key: k, size: o.bytes.length, version: o.version, lastModified: o.lastModified })
      last = k
    }
    return { objects, prefixes }
  }

  async delete(key: string): Promise<void> {
    this.#objects.delete(key)
  }
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

async function readAll(body: ByteSource): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body.slice()
  const parts: Uint8Array[] = []
  for await (const p of body) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}
