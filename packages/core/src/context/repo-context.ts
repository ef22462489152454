/** The port between the facade and the engine: what every operation is handed. Lower folders import this, never repository/. */
import type { SourceResolver } from '../sources/external-source.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { BlockStore } from '../stores/block-store.js'
import type { RefStore } from '../stores/ref-store.js'
import type { Clock, RandomSource } from '../util/clock.js'
import type { RetryPolicy } from '../util/retry.js'
import type { GateRequest } from '../hooks/gates.js'
import type { WriteFence } from '../gc/write-fence.js'

/** What every engine operation needs; built once per open repository. */
export interface RepoContext {
  readonly blocks: BlockStore
  readonly refs: RefStore
  readonly objects: ObjectStore
  readonly clock: Clock
  readonly random: RandomSource
  readonly retry: RetryPolicy
  readonly defaultBranch: string
  readonly defaultAuthor: string
  /** Quality gates: pre-hooks throw HOOK_FAILED before a ref moves; post-hooks only record. */
  readonly gates: GateKeeper
  /** Writes run inside it so a concurrent garbage collection never takes what they rely on (decision 0006). */
  readonly fence: WriteFence
  /** Opens import sources (a URL or a named source), each once (decision 0017). */
  readonly sources: SourceResolver
  /** Where the repository lives, as it was opened (a folder, a URL, or '(explicit stores)'). */
  readonly location: string
  /** Releases what the context opened beyond its stores (a clone's origin), at close. */
  readonly release?: () => Promise<void>
}

export interface GateKeeper {
  pre(req: GateRequest): Promise<unknown>
  post(req: GateRequest): Promise<unknown>
}

/** For contexts used before a Repository wires its gates (init). */
export const noGates: GateKeeper = { pre: async () => [], post: async () => [] }

export const newStagingToken = (ctx: RepoContext) => `st-${ctx.clock.now().toString(36)}-${ctx.random.hex(10)}`
