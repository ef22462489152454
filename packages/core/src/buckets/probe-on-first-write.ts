import type { BranchRecord, BranchState, RefLogEntry, StagedChange, TagRecord } from '../stores/ref-store.js'
import { ForwardingRefStore } from '../stores/forwarding-ref-store.js'
import type { RefStore } from '../stores/ref-store.js'

/**
 * Runs the conditional-write probe before the first write through this ref store, not at open: a
 * reader (a training job with read-only credentials, `varve log`) never writes a probe object, and
 * a location that is not a repository says NOT_A_REPOSITORY rather than failing a probe write.
 */
export class ProbeOnFirstWrite extends ForwardingRefStore {
  #probed: Promise<unknown> | undefined
  readonly #probe: () => Promise<unknown>

  constructor(inner: RefStore, probe: () => Promise<unknown>) {
    super(inner)
    this.#probe = probe
  }

  async #first(): Promise<void> {
    this.#probed ??= this.#probe().catch((err: unknown) => {
      this.#probed = undefined // a failed probe (the store was down) is tried again by the next write
      throw err
    })
    await this.#probed
  }

  override async createBranch(state: BranchState, log: RefLogEntry): Promise<void> {
    await this.#first()
    return super.createBranch(state, log)
  }
  override async updateBranch(expected: BranchRecord, next: BranchState, log?: RefLogEntry): Promise<boolean> {
    await this.#first()
    return super.updateBranch(expected, next, log)
  }
  override async deleteBranch(expected: BranchRecord, log: RefLogEntry): Promise<boolean> {
    await this.#first()
    return super.deleteBranch(expected, log)
  }
  override async createTag(tag: TagRecord, log: RefLogEntry): Promise<void> {
    await this.#first()
    return super.createTag(tag, log)
  }
  override async deleteTag(name: string, log: RefLogEntry): Promise<boolean> {
    await this.#first()
    return super.deleteTag(name, log)
  }
  override async putStaged(token: string, changes: readonly StagedChange[]): Promise<void> {
    await this.#first()
    return super.putStaged(token, changes)
  }
  override async setSetting(key: string, value: string | null): Promise<void> {
    await this.#first()
    return super.setSetting(key, value)
  }
  override async compareAndSetSetting(key: string, expected: string | undefined, next: string, log?: RefLogEntry): Promise<boolean> {
    await this.#first()
    return super.compareAndSetSetting(key, expected, next, log)
  }
}
