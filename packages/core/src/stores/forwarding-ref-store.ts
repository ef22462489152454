import type { BranchRecord, BranchState, ListStagedOptions, RefLogEntry, RefLogRecord, RefStore, StagedChange, TagRecord } from './ref-store.js'

/**
 * Passes every call to another RefStore. Extend it to wrap a store with a cross-cutting concern
 * (pausing for interleaving tests, fault injection, counting) by overriding only what it needs.
 */
export class ForwardingRefStore implements RefStore {
  constructor(readonly inner: RefStore) {}
  getBranch(name: string): Promise<BranchRecord | undefined> {
    return this.inner.getBranch(name)
  }
  createBranch(state: BranchState, log: RefLogEntry): Promise<void> {
    return this.inner.createBranch(state, log)
  }
  updateBranch(expected: BranchRecord, next: BranchState, log?: RefLogEntry): Promise<boolean> {
    return this.inner.updateBranch(expected, next, log)
  }
  deleteBranch(expected: BranchRecord, log: RefLogEntry): Promise<boolean> {
    return this.inner.deleteBranch(expected, log)
  }
  listBranches(): AsyncIterable<BranchRecord> {
    return this.inner.listBranches()
  }
  getTag(name: string): Promise<TagRecord | undefined> {
    return this.inner.getTag(name)
  }
  createTag(tag: TagRecord, log: RefLogEntry): Promise<void> {
    return this.inner.createTag(tag, log)
  }
  deleteTag(name: string, log: RefLogEntry): Promise<boolean> {
    return this.inner.deleteTag(name, log)
  }
  listTags(): AsyncIterable<TagRecord> {
    return this.inner.listTags()
  }
  putStaged(token: string, changes: readonly StagedChange[]): Promise<void> {
    return this.inner.putStaged(token, changes)
  }
  getStaged(token: string, path: string): Promise<StagedChange | undefined> {
    return this.inner.getStaged(token, path)
  }
  listStaged(token: string, options?: ListStagedOptions): AsyncIterable<StagedChange> {
    return this.inner.listStaged(token, options)
  }
  dropStaged(token: string): Promise<void> {
    return this.inner.dropStaged(token)
  }
  listStagingTokens(): AsyncIterable<string> {
    return this.inner.listStagingTokens()
  }
  getSetting(key: string): Promise<string | undefined> {
    return this.inner.getSetting(key)
  }
  setSetting(key: string, value: string | null): Promise<void> {
    return this.inner.setSetting(key, value)
  }
  compareAndSetSetting(key: string, expected: string | undefined, next: string, log?: RefLogEntry): Promise<boolean> {
    return this.inner.compareAndSetSetting(key, expected, next, log)
  }
  listSettings(prefix: string): AsyncIterable<{ readonly key: string; readonly value: string }> {
    return this.inner.listSettings(prefix)
  }
  listRefLogRefs(): AsyncIterable<string> {
    return this.inner.listRefLogRefs()
  }
  listRefLog(ref: string, options?: { limit?: number }): AsyncIterable<RefLogRecord> {
    return this.inner.listRefLog(ref, options)
  }
  async close(): Promise<void> {
    await this.inner.close?.()
  }
}
