import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { RefLogEntry, RefLogRecord, RefStore } from '../stores/ref-store.js'
import { settingLogRef } from '../stores/setting-log.js'
import type { Clock, RandomSource } from '../util/clock.js'
import { LOST_RACE, retryOnLostRace, type RetryPolicy } from '../util/retry.js'

export type MergeRequestState = 'open' | 'closed' | 'merged'

export interface Approval {
  readonly reviewer: string
  readonly at: number
  /** The source head the reviewer approved. */
  readonly sourceHead: string
  /**
   * An SSH signature (`ssh-keygen -Y sign`, namespace `varve-approval`) of `approvalSigningText`:
   * required where the destination's rules say `signedApprovals`, checked against the allowed
   * signers committed on the destination.
   */
  readonly signature?: string
}

export interface MergeRequestComment {
  /** 1, 2, ... within the request. */
  readonly id: number
  readonly author: string
  readonly text: string
  /** The path the comment is about, when it is about one. */
  readonly path?: string
  readonly at: number
}

/** A merge request as stored: one setting per request, changed only by compare-and-swap. */
export interface MergeRequestRecord {
  readonly id: number
  readonly title: string
  readonly description: string
  readonly author: string
  /** Branch names. */
  readonly source: string
  readonly dest: string
  readonly state: MergeRequestState
  readonly createdAt: number
  readonly updatedAt: number
  /** Source head when the request was opened. */
  readonly openedAt: string
  readonly approvals: readonly Approval[]
  readonly comments: readonly MergeRequestComment[]
  /**
   * Set while a merge of the request runs: the source head it merges. Another `merge` of the request
   * finishes that merge (after a crash, or alongside) instead of starting a second one; `close` waits.
   */
  readonly merging?: { readonly by: string; readonly at: number; readonly sourceHead: string }
  readonly merged?: { readonly commit: string; readonly by: string; readonly at: number; readonly sourceHead: string; readonly approvers: readonly string[] }
  readonly closed?: { readonly by: string; readonly at: number }
}

const NEXT_ID = 'mr-next-id'
const PREFIX = 'mr/'
/** Zero-padded, so the settings list in id order. */
export const requestKey = (id: number) => `${PREFIX}${String(id).padStart(10, '0')}`

export interface RequestStoreDeps {
  readonly refs: RefStore
  readonly clock: Clock
  readonly random: RandomSource
  readonly retry: RetryPolicy
}

/**
 * Merge requests in the ref store (docs/decisions/0011-merge-requests.md): ids come from a counter
 * moved by compare-and-swap, each request is a setting replaced by compare-and-swap, and every
 * change appends its entry to the request's ref log in the same swap, so the log holds an entry iff
 * the change happened, on SQLite and on S3 alike.
 */
export class MergeRequestStore {
  constructor(private readonly deps: RequestStoreDeps) {}

  async create(fields: Omit<MergeRequestRecord, 'id' | 'state' | 'createdAt' | 'updatedAt' | 'approvals' | 'comments'>): Promise<MergeRequestRecord> {
    const { refs } = this.deps
    const id = await retryOnLostRace('allocate a merge request id', this.deps.retry, this.deps.random, async () => {
      const cur = await refs.getSetting(NEXT_ID)
      const n = cur === undefined ? 1 : Number(cur)
      if (!Number.isSafeInteger(n) || n < 1) throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `setting ${NEXT_ID} holds ${JSON.stringify(cur)}, not a number`)
      return (await refs.compareAndSetSetting(NEXT_ID, cur, String(n + 1))) ? n : LOST_RACE
    })
    const at = this.deps.clock.now()
    const record: MergeRequestRecord = { ...fields, id, state: 'open', createdAt: at, updatedAt: at, approvals: [], comments: [] }
    // The id is ours alone: only a crash between the two swaps skips a number.
    const ok = await refs.compareAndSetSetting(
      requestKey(id),
      undefined,
      JSON.stringify(record),
      this.#log(id, 'mr-open', fields.author, null, fields.openedAt, `${fields.source} -> ${fields.dest}: ${fields.title}`),
    )
    if (!ok) throw new VarveError(ErrorCodes.CONFLICT, `merge request id ${id} is taken (the id counter was reset?)`, { details: { id } })
    return record
  }

  async get(id: number): Promise<MergeRequestRecord> {
    return (await this.#read(id)).record
  }

  /**
   * Applies `change` to the request from a fresh read until its swap wins. `change` returns the new
   * record and the log entry's operation and commits, or throws to refuse.
   */
  async update(
    id: number,
    who: string,
    change: (
      r: MergeRequestRecord,
    ) => { record: MergeRequestRecord; operation: string; old?: string | null; new?: string | null; message?: string } | 'unchanged',
  ): Promise<MergeRequestRecord> {
    return retryOnLostRace(`merge request ${id}`, this.deps.retry, this.deps.random, async () => {
      const { raw, record } = await this.#read(id)
      const next = change(record)
      if (next === 'unchanged') return record
      const updated = { ...next.record, updatedAt: this.deps.clock.now() }
      const ok = await this.deps.refs.compareAndSetSetting(
        requestKey(id),
        raw,
        JSON.stringify(updated),
        this.#log(id, next.operation, who, next.old ?? null, next.new ?? null, next.message),
      )
      return ok ? updated : LOST_RACE
    })
  }

  async *list(): AsyncGenerator<MergeRequestRecord> {
    for await (const s of this.deps.refs.listSettings(PREFIX)) yield parse(s.value, s.key)
  }

  /** Every change of one request, newest first. */
  log(id: number): AsyncIterable<RefLogRecord> {
    return this.deps.refs.listRefLog(settingLogRef(requestKey(id)))
  }

  async #read(id: number): Promise<{ raw: string; record: MergeRequestRecord }> {
    if (!Number.isSafeInteger(id) || id < 1)
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a merge request id is a positive integer, not ${JSON.stringify(id)}`, { details: { id } })
    const raw = await this.deps.refs.getSetting(requestKey(id))
    if (raw === undefined) throw new VarveError(ErrorCodes.NOT_FOUND, `merge request ${id} not found`, { details: { id } })
    return { raw, record: parse(raw, requestKey(id)) }
  }

  #log(id: number, operation: string, author: string, old: string | null, next: string | null, message?: string): RefLogEntry {
    return { ref: settingLogRef(requestKey(id)), operation, author, old, new: next, at: this.deps.clock.now(), ...(message !== undefined ? { message } : {}) }
  }
}

function parse(raw: string, key: string): MergeRequestRecord {
  try {
    return JSON.parse(raw) as MergeRequestRecord
  } catch (cause) {
    throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `merge request setting ${key} is not valid JSON`, { cause, details: { key } })
  }
}
