import { sha256Hex } from '../model/hash.js'
import { encodeNodeLocations, encodeTreeNode, storedNodeBytes, type NodeLocation, type PackSlot, type TreeNode } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { PackBuilder } from '../objects/pack.js'

/** A node pack is sealed at this size (or object count); a commit of 1,000 scattered changes fills about one. */
const NODE_PACK_BYTES = 16 * 1024 * 1024
const NODE_PACK_OBJECTS = 8192
/** Sealed packs being written at once while the build goes on. */
const PACKS_IN_FLIGHT = 2

/**
 * Puts the nodes of one tree build into node packs (docs/decisions/0008-node-packs.md): a build of
 * 1,000 scattered changes writes one or two files instead of a thousand. Nodes arrive children first,
 * so a node's children are either in the pack being filled (named "this pack") or in one sealed
 * before (named by id). `finish` seals the last pack; every location handed out is then resolvable.
 */
export class NodePacker {
  #pack: PackBuilder
  #slot: PackSlot = { id: undefined }
  readonly #writes = new Set<Promise<void>>()
  #toCache: { id: string; node: TreeNode; size: number; offset: number }[] = []
  #failed: unknown

  constructor(private readonly store: ObjectStore) {
    this.#pack = newPack()
  }

  /** Adds a node; returns its id and where it will be. Awaits only when too many sealed packs are still being written. */
  async add(node: TreeNode): Promise<{ id: string; at: NodeLocation }> {
    const content = encodeTreeNode(node, { packTable: true })
    const id = sha256Hex(content)
    let bytes = storedNodeBytes(content, encodeNodeLocations(node, this.#slot))
    if (!this.#pack.fits(bytes.byteLength)) {
      await this.#seal()
      // Children that were in the pack just sealed are now named by its id.
      bytes = storedNodeBytes(content, encodeNodeLocations(node, this.#slot))
    }
    // The locations after the content are not covered by the id: the pack index hashes them.
    const trailer = bytes.byteLength > content.byteLength ? sha256Hex(bytes.subarray(content.byteLength)) : undefined
    const offset = this.#pack.add(id, bytes, trailer)
    // Inner nodes are what later walks of this tree read first; leaves written by a big build are
    // rarely read again by the same process, and decoded they take several times their cached size.
    // Cached once their pack is stored: a build that fails before must not leave nodes in the cache
    // whose children point into a pack that never got an id, or was never written.
    if (node.kind === 'inner') this.#toCache.push({ id, node, size: bytes.byteLength, offset })
    return { id, at: { pack: this.#slot, offset, size: bytes.byteLength } }
  }

  /** Seals and writes the last pack and waits for every pack of the build to be stored. */
  async finish(): Promise<void> {
    if (this.#pack.count > 0) await this.#seal()
    await Promise.all(this.#writes)
    if (this.#failed !== undefined) throw this.#failed
  }

  async #seal(): Promise<void> {
    const encoded = this.#pack.encode()
    this.#slot.id = encoded.id
    const toCache = this.#toCache
    this.#toCache = []
    this.#pack = newPack()
    this.#slot = { id: undefined }
    const written = this.store.writePack(encoded).then(
      () => {
        for (const n of toCache) this.store.rememberNode(n.id, n.node, n.size, encoded.id, n.offset)
      },
      (err: unknown) => {
        this.#failed ??= err
      },
    )
    this.#writes.add(written)
    void written.finally(() => this.#writes.delete(written))
    if (this.#failed !== undefined) throw this.#failed
    while (this.#writes.size >= PACKS_IN_FLIGHT) await Promise.race(this.#writes)
  }
}

const newPack = () => new PackBuilder(NODE_PACK_BYTES, NODE_PACK_OBJECTS, 'nodes', 256 * 1024)
