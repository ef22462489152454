/**
 * One object an operation wrote or reused, and how to store it again: from `bytes` it still holds, or
 * by moving `copyFrom`, an upload of the same content the operation kept for that purpose.
 */
export interface JournalEntry {
  readonly key: string
  readonly bytes?: Uint8Array
  readonly copyFrom?: string
}

/**
 * What one operation (a put, a commit, a merge) wrote or reused in the block store. After its ref
 * moved, the operation checks the garbage collector's epoch; if a collection moved objects
 * meanwhile, every entry is made sure of again (docs/decisions/0006-gc-quarantine.md).
 */
export class WriteJournal {
  readonly entries = new Map<string, JournalEntry>()
  readonly #retained = new Set<string>()

  record(entry: JournalEntry): void {
    const known = this.entries.get(entry.key)
    // Keep the entry that can rewrite the object.
    if (!known || (!known.bytes && !known.copyFrom)) this.entries.set(entry.key, entry)
  }

  /** A temporary upload kept until the operation settles. */
  retain(key: string): void {
    this.#retained.add(key)
  }

  /** Takes a retained upload out of the journal's care (it is being moved into place); false if it was not retained. */
  release(key: string): boolean {
    return this.#retained.delete(key)
  }

  /** The uploads still retained: the caller deletes them once the operation settled. */
  retained(): string[] {
    return [...this.#retained]
  }
}
