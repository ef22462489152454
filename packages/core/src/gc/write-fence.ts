import type { ObjectStore } from '../objects/object-store.js'
import { WriteJournal } from '../objects/write-journal.js'
import type { BlockStore } from '../stores/block-store.js'
import type { RefStore } from '../stores/ref-store.js'
import { noQuarantineBetween, readGcState, type GcState } from './gc-state.js'

/**
 * The writer's half of the garbage-collection protocol (docs/decisions/0006-gc-quarantine.md).
 *
 * An operation runs with a journal of every object it wrote or found already stored. The collector
 * state read *before* the operation checked any object (`before`, a cached earlier read is fine: it
 * is only more cautious) and the state read *after* the operation's ref moved (`after`) tell whether
 * any collection moved objects to quarantine in between. If none did, every object the operation
 * relied on is still under its key. If one did, each journaled object is made sure of again, restored
 * from quarantine or rewritten, before the operation returns. Either way, from its return on, the
 * objects are stored and referenced, and no later collection deletes them.
 */
export class WriteFence {
  #known: GcState | undefined
  readonly #removals = new Set<Promise<void>>()

  constructor(
    private readonly refs: RefStore,
    private readonly objects: ObjectStore,
    private readonly blocks: BlockStore,
  ) {}

  /** Runs `op` with a view of the object store that journals what it writes (`ObjectStore.journaled`). */
  async run<T>(op: (objects: ObjectStore) => Promise<T>): Promise<T> {
    const before = this.#known ?? (await this.#read())
    const journal = new WriteJournal()
    try {
      const result = await op(this.objects.journaled(journal))
      const after = await this.#read()
      if (!noQuarantineBetween(before, after)) for (const entry of journal.entries.values()) await this.objects.ensureStored(entry, journal)
      return result
    } finally {
      // Uploads kept only to stand in for content stored meanwhile are removed behind the answer:
      // unlinking a gigabyte takes ~0.5 s on ext4, and a re-put of known content should not wait for
      // it. A crash before they go leaves temp files, which the temp sweep removes.
      const retained = journal.retained()
      if (retained.length) {
        const removal = Promise.all(retained.map((key) => this.blocks.delete(key).catch(() => {}))).then(() => {
          this.#removals.delete(removal)
        })
        this.#removals.add(removal)
      }
    }
  }

  /** Waits for the removals `run` left running (before the stores close). */
  async settle(): Promise<void> {
    while (this.#removals.size) await Promise.all(this.#removals)
  }

  /** Epochs whose quarantine may hold objects, newest first (read fallback). */
  async pendingEpochs(): Promise<readonly number[]> {
    return [...(await this.#read()).pending].sort((a, b) => b - a)
  }

  async #read(): Promise<GcState> {
    const { state } = await readGcState(this.refs)
    this.#known = state
    return state
  }
}
