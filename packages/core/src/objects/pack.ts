import { createHash } from 'node:crypto'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'

/**
 * A pack: many small objects in one stored object, so a folder of 100k files is ~100 writes instead
 * of 100k (docs/decisions/0007-packs.md). Layout:
 *
 *   object bytes, back to back | index (JSON) | index length (u64 LE) | magic "VRVPACK1"
 *
 * The index lists `[address, offset, size]` of every object. The pack's id is the SHA-256 of the
 * index: the index names every object by its SHA-256 and where it sits, so it fixes every byte of the
 * pack, and the id is known without hashing the data twice. Readers do not need the index: a tree
 * entry names its pack and offset. It is there so `verify` and tools can check a pack on its own.
 */
export const PACK_MAGIC = 'VRVPACK1'
const FOOTER_BYTES = 16
const INDEX_TAG = 'varve/pack-index:v1'
/**
 * A pack of tree nodes (decision 0008). A stored inner node is its content (what its id hashes) plus
 * where its packed children are, which its id does not cover: the index entry of such a node has a
 * fourth element, the SHA-256 of those trailing bytes, so the pack id (the index's hash) still fixes
 * every byte of the pack.
 */
const NODE_INDEX_TAG = 'varve/node-pack-index:v1'

/** Data packs hold data objects; node packs hold tree nodes. */
export type PackKind = 'data' | 'nodes'

export interface PackedObject {
  readonly address: string
  readonly offset: number
  readonly size: number
  /** Node packs: SHA-256 of the bytes stored after the node's content (its children's locations). */
  readonly trailer?: string
}

export interface EncodedPack {
  readonly id: string
  readonly bytes: Uint8Array
  readonly objects: readonly PackedObject[]
}

/** Room kept after the data for the index (per object: address, offset, size as JSON) and footer. */
const INDEX_ROOM_PER_OBJECT = 96

/**
 * Collects objects for one pack; an address added twice is stored once. Bytes are copied once, into
 * one buffer that also takes the index and footer, so the caller's buffers are garbage at once and
 * encoding copies nothing: memory stays at about one pack per batch in flight.
 */
export class PackBuilder {
  readonly #objects: PackedObject[] = []
  readonly #byAddress = new Map<string, PackedObject>()
  #buffer: Buffer | undefined
  #bytes = 0

  /**
   * `firstBytes`: the buffer's first size. Data packs fill up, so they take a whole pack at once; a
   * node pack is often small (a commit's few nodes) and grows 4x at a time (few copies for a big
   * one), so a small commit does not allocate 16 MiB (measured: ~5 ms of garbage collection per merge).
   */
  constructor(
    readonly maxBytes: number,
    readonly maxObjects: number,
    readonly kind: PackKind = 'data',
    readonly firstBytes: number = maxBytes,
  ) {}

  get count(): number {
    return this.#objects.length
  }

  /** Whether `size` more bytes fit (an empty pack takes anything). */
  fits(size: number): boolean {
    return this.#objects.length === 0 || (this.#bytes + size <= this.maxBytes && this.#objects.length < this.maxObjects)
  }

  /**
   * Adds an object (already hashed to `address`; in a node pack, its content is, and `trailer` hashes
   * what follows the content); returns its offset in the pack.
   */
  add(address: string, bytes: Uint8Array, trailer?: string): number {
    const known = this.#byAddress.get(address)
    if (known && known.size === bytes.byteLength && known.trailer === trailer) return known.offset
    const o: PackedObject =
      trailer === undefined ? { address, offset: this.#bytes, size: bytes.byteLength } : { address, offset: this.#bytes, size: bytes.byteLength, trailer }
    const need = this.#bytes + bytes.byteLength
    if (!this.#buffer || need > this.#buffer.length) {
      // First `firstBytes` (a data pack: a full pack; only touched pages cost memory), then growing 4x up to
      // a full pack; larger only for an object over the limit. Room for the index and footer comes with it.
      const room = this.#buffer ? Math.min(this.maxBytes, this.#buffer.length * 4) : this.firstBytes
      const grown = Buffer.allocUnsafe(Math.max(need, room) + INDEX_ROOM_PER_OBJECT * Math.min(this.maxObjects, Math.ceil(room / 1024)) + FOOTER_BYTES)
      this.#buffer?.copy(grown, 0, 0, this.#bytes)
      this.#buffer = grown
    }
    this.#buffer.set(bytes, this.#bytes)
    this.#objects.push(o)
    this.#byAddress.set(address, o)
    this.#bytes = need
    return o.offset
  }

  encode(): EncodedPack {
    const t = this.kind === 'nodes' ? NODE_INDEX_TAG : INDEX_TAG
    const index = Buffer.from(
      JSON.stringify({ t, o: this.#objects.map((o) => (o.trailer === undefined ? [o.address, o.offset, o.size] : [o.address, o.offset, o.size, o.trailer])) }),
      'utf8',
    )
    const footer = Buffer.alloc(FOOTER_BYTES)
    footer.writeBigUInt64LE(BigInt(index.byteLength), 0)
    footer.write(PACK_MAGIC, 8, 'latin1')
    const data = this.#buffer ?? Buffer.alloc(0)
    const total = this.#bytes + index.byteLength + FOOTER_BYTES
    let bytes: Buffer
    if (total <= data.length) {
      index.copy(data, this.#bytes)
      footer.copy(data, this.#bytes + index.byteLength)
      bytes = data.subarray(0, total)
    } else bytes = Buffer.concat([data.subarray(0, this.#bytes), index, footer])
    this.#buffer = undefined
    return { id: createHash('sha256').update(index).digest('hex'), bytes, objects: this.#objects }
  }
}

/** Where a pack's index is, from its last 16 bytes; CORRUPT_OBJECT when they are not a pack footer. */
export function packIndexRange(footer: Uint8Array, packSize: number, id: string): { start: number; end: number } {
  const f = Buffer.from(footer.buffer, footer.byteOffset, footer.byteLength)
  if (f.byteLength !== FOOTER_BYTES || f.toString('latin1', 8) !== PACK_MAGIC) throw corruptPack(id, 'no pack footer')
  const length = Number(f.readBigUInt64LE(0))
  const start = packSize - FOOTER_BYTES - length
  if (start < 0) throw corruptPack(id, 'index length past the start')
  return { start, end: packSize - FOOTER_BYTES }
}

export const packFooterBytes = FOOTER_BYTES

/** Decodes a pack index and checks it against the pack id (the SHA-256 of the index). */
export function decodePackIndex(index: Uint8Array, id: string): { kind: PackKind; objects: PackedObject[] } {
  if (createHash('sha256').update(index).digest('hex') !== id) throw corruptPack(id, 'index does not hash to the pack id')
  let raw: { t?: unknown; o?: unknown }
  try {
    raw = JSON.parse(Buffer.from(index.buffer, index.byteOffset, index.byteLength).toString('utf8'))
  } catch (cause) {
    throw corruptPack(id, 'index is not JSON', cause)
  }
  if ((raw.t !== INDEX_TAG && raw.t !== NODE_INDEX_TAG) || !Array.isArray(raw.o)) throw corruptPack(id, 'not a pack index')
  const objects = (raw.o as [string, number, number, string?][]).map(([address, offset, size, trailer]) =>
    trailer === undefined ? { address, offset, size } : { address, offset, size, trailer },
  )
  return { kind: raw.t === NODE_INDEX_TAG ? 'nodes' : 'data', objects }
}

function corruptPack(id: string, why: string, cause?: unknown) {
  return new VarveError(ErrorCodes.CORRUPT_OBJECT, `pack ${id} is corrupt: ${why}`, { details: { pack: id }, ...(cause ? { cause } : {}) })
}
