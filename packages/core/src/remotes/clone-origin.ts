import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { DataRef } from '../model/entry.js'
import { keys } from '../objects/keys.js'
import type { ObjectStore } from '../objects/object-store.js'
import { decodePackIndex, packFooterBytes, packIndexRange } from '../objects/pack.js'
import type { RefStore } from '../stores/ref-store.js'
import { getCloneState, requireRemote, type CloneState, type RemoteConfig } from './remote-settings.js'

export interface OpenedOrigin {
  readonly objects: ObjectStore
  close(): Promise<void>
}

/**
 * What a partial or lazy clone does when a read finds no data here (decision 0019). A lazy clone
 * fetches the object from its origin — a packed object's whole pack, so its neighbours are here
 * too — stores it under its key and lets the read go on (the read checks the bytes against their
 * address, as every read does). A partial clone that is not lazy refuses with NOT_FETCHED. Any
 * other repository reports the object missing, as before. The clone state is read on the first miss
 * only, so a repository that misses nothing pays nothing.
 */
export class CloneOrigin {
  #state: Promise<CloneState | undefined> | undefined
  #origin: Promise<OpenedOrigin> | undefined
  readonly #inFlight = new Map<string, Promise<void>>()

  constructor(
    private readonly refs: RefStore,
    private readonly open: (remote: RemoteConfig) => Promise<OpenedOrigin>,
  ) {}

  async fetch(ref: DataRef, local: ObjectStore): Promise<boolean> {
    if (ref.external !== undefined) return false
    const state = await (this.#state ??= getCloneState(this.refs).catch(() => undefined))
    if (!state?.prefix && !state?.lazy) return false
    if (!state.lazy)
      throw new VarveError(
        ErrorCodes.NOT_FETCHED,
        `${ref.path ?? ref.address} was not fetched: this clone holds data under ${JSON.stringify(state.prefix)} only (varve fetch --prefix, or clone again with --lazy)`,
        { details: { path: ref.path ?? null, address: ref.address, prefix: state.prefix } },
      )
    const key = ref.pack !== undefined ? keys.pack(ref.pack) : keys.data(ref.address)
    let p = this.#inFlight.get(key)
    if (!p) {
      p = this.#copy(ref, state, local).finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, p)
    }
    await p
    return true
  }

  async #copy(ref: DataRef, state: CloneState, local: ObjectStore): Promise<void> {
    const origin = await (this.#origin ??= requireRemote(this.refs, state.origin).then((r) => this.open(r)))
    if (ref.pack !== undefined) {
      const bytes = await origin.objects.readStored(keys.pack(ref.pack))
      if (!bytes) throw missingAtOrigin(ref, state)
      const { start, end } = packIndexRange(bytes.subarray(bytes.byteLength - packFooterBytes), bytes.byteLength, ref.pack)
      decodePackIndex(bytes.subarray(start, end), ref.pack) // the pack id fixes the index, the index every object's address
      await local.copyStored(keys.pack(ref.pack), bytes)
      return
    }
    const stream = await origin.objects
      .readDataStream(ref)
      .catch((e) => Promise.reject(VarveError.is(e, ErrorCodes.NOT_FOUND) ? missingAtOrigin(ref, state) : e))
    const written = await local.writeData(stream)
    if (written.address !== ref.address)
      throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `data object ${ref.address} from the origin does not match its address`)
  }

  async close(): Promise<void> {
    const o = this.#origin
    this.#origin = undefined
    if (o) await (await o.catch(() => undefined))?.close()
  }
}

const missingAtOrigin = (ref: DataRef, state: CloneState) =>
  new VarveError(
    ErrorCodes.NOT_FOUND,
    `${ref.path ?? ref.address} is not in this lazy clone, and its origin ${state.origin} no longer has it (collected there: pin the commits a lazy clone reads)`,
    { details: { path: ref.path ?? null, address: ref.address, origin: state.origin } },
  )
