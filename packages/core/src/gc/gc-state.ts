import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { RefStore } from '../stores/ref-store.js'

/**
 * The garbage collector's shared state, one setting in the ref store, moved only by compare-and-swap
 * (docs/decisions/0006-gc-quarantine.md):
 * - `epoch` grows by one each time a run starts moving objects into quarantine;
 * - `quarantining` is true from that moment until the same run finishes moving;
 * - `completed`: epochs whose moving finished cleanly: their quarantine holds nothing moved after
 *   the run's end, so a later run may delete from it;
 * - `pending`: every epoch whose quarantine may still hold objects (reads fall back to them).
 */
export interface GcState {
  readonly epoch: number
  readonly quarantining: boolean
  readonly completed: readonly number[]
  readonly pending: readonly number[]
  /**
   * Data of commits created before this time (ms) may have been collected by some run (the latest
   * retention cutoff any run used): `verify` reports such data as collected, not as missing.
   */
  readonly collectedBefore?: number
}

export const GC_STATE_KEY = 'gc/state'
export const initialGcState: GcState = { epoch: 0, quarantining: false, completed: [], pending: [] }

export interface GcStateRead {
  readonly state: GcState
  /** The stored text, for compare-and-swap (undefined: never written). */
  readonly raw: string | undefined
}

export async function readGcState(refs: RefStore): Promise<GcStateRead> {
  const raw = await refs.getSetting(GC_STATE_KEY)
  return { state: raw === undefined ? initialGcState : parseGcState(raw), raw }
}

export function parseGcState(raw: string): GcState {
  try {
    const v = JSON.parse(raw) as Partial<GcState>
    if (typeof v.epoch === 'number' && typeof v.quarantining === 'boolean' && Array.isArray(v.completed) && Array.isArray(v.pending))
      return {
        epoch: v.epoch,
        quarantining: v.quarantining,
        completed: v.completed,
        pending: v.pending,
        ...(typeof v.collectedBefore === 'number' ? { collectedBefore: v.collectedBefore } : {}),
      }
  } catch {
    /* fall through */
  }
  throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `the garbage collector's state (${GC_STATE_KEY}) is damaged: ${raw.slice(0, 80)}`)
}

/**
 * Applies `change` to the current state by compare-and-swap, re-reading and re-applying on a lost race.
 * `change` returns undefined to give up (the state is no longer one it may change).
 */
export async function updateGcState(refs: RefStore, change: (s: GcState) => GcState | undefined): Promise<GcState | undefined> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const cur = await readGcState(refs)
    const next = change(cur.state)
    if (!next) return undefined
    if (await refs.compareAndSetSetting(GC_STATE_KEY, cur.raw, JSON.stringify(next))) return next
  }
  throw new VarveError(ErrorCodes.CONFLICT, 'the garbage collector state kept changing under this run')
}

/**
 * True when no garbage collection moved anything between the two reads: a writer that read `before`
 * before checking its objects and `after` after its ref moved needs no re-check of its objects.
 */
export function noQuarantineBetween(before: GcState, after: GcState): boolean {
  return !before.quarantining && !after.quarantining && before.epoch === after.epoch
}
