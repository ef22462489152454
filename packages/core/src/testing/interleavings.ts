import { ForwardingBlockStore } from '../stores/forwarding-block-store.js'
import { ForwardingRefStore } from '../stores/forwarding-ref-store.js'
import type { BlockStore, ByteSource, ObjectInfo, PutOptions, RenameOptions } from '../stores/block-store.js'
import type { RefLogEntry, RefStore, StagedChange } from '../stores/ref-store.js'

/**
 * Systematic exploration of interleavings: each actor (say, a garbage collection and a writer) runs
 * against store wrappers that stop before every call a predicate selects (a *step*). When every
 * actor is stopped or finished, the explorer lets exactly one proceed to its next step. Depth-first
 * search over those choices runs every ordering of the actors' steps, each on a fresh setup.
 */
export class StepGate {
  readonly #waiting = new Map<string, { label: string; go: () => void }[]>()
  #onChange: (() => void) | undefined

  pause(actor: string, label: string): Promise<void> {
    return new Promise((go) => {
      const q = this.#waiting.get(actor) ?? []
      q.push({ label, go })
      this.#waiting.set(actor, q)
      this.#onChange?.()
    })
  }

  waitingActors(): string[] {
    return [...this.#waiting.entries()].filter(([, q]) => q.length > 0).map(([a]) => a)
  }

  labelOf(actor: string): string {
    return this.#waiting.get(actor)?.[0]?.label ?? ''
  }

  release(actor: string): void {
    const step = this.#waiting.get(actor)?.shift()
    if (!step) throw new Error(`actor ${actor} is not waiting`)
    step.go()
  }

  /** Resolves when `ready()` holds, re-checking on every change; rejects after `timeoutMs`. */
  async until(ready: () => boolean, timeoutMs: number): Promise<void> {
    if (ready()) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onChange = undefined
        reject(new Error(`interleaving stalled: waiting ${JSON.stringify(this.waitingActors())}`))
      }, timeoutMs)
      this.#onChange = () => {
        if (!ready()) return
        clearTimeout(timer)
        this.#onChange = undefined
        resolve()
      }
    })
  }

  changed(): void {
    this.#onChange?.()
  }
}

export type StepFilter = (call: string, arg: string) => boolean

/** A block store that stops before each call `filter` selects, until the explorer lets it go. */
export class PausingBlockStore extends ForwardingBlockStore {
  constructor(
    inner: BlockStore,
    private readonly gate: StepGate,
    private readonly actor: string,
    private readonly filter: StepFilter,
  ) {
    super(inner)
  }
  async #step(call: string, arg: string): Promise<void> {
    if (this.filter(call, arg)) await this.gate.pause(this.actor, `${call} ${arg}`)
  }
  override async put(key: string, data: ByteSource, options?: PutOptions): Promise<boolean> {
    await this.#step('put', key)
    return super.put(key, data, options)
  }
  override async get(key: string): Promise<Uint8Array | undefined> {
    await this.#step('get', key)
    return super.get(key)
  }
  override async head(key: string): Promise<ObjectInfo | undefined> {
    await this.#step('head', key)
    return super.head(key)
  }
  override async delete(key: string): Promise<void> {
    await this.#step('delete', key)
    return super.delete(key)
  }
  override async deleteMany(keys: readonly string[]): Promise<void> {
    await this.#step('deleteMany', keys.join(','))
    return super.deleteMany(keys)
  }
  override async rename(from: string, to: string, options?: RenameOptions): Promise<void> {
    await this.#step('rename', `${from} -> ${to}`)
    return super.rename(from, to, options)
  }
  override async *list(prefix: string): AsyncIterable<ObjectInfo> {
    await this.#step('list', prefix)
    yield* super.list(prefix)
  }
}

/** A ref store that stops before each call `filter` selects, until the explorer lets it go. */
export class PausingRefStore extends ForwardingRefStore {
  constructor(
    inner: RefStore,
    private readonly gate: StepGate,
    private readonly actor: string,
    private readonly filter: StepFilter,
  ) {
    super(inner)
  }
  async #step(call: string, arg: string): Promise<void> {
    if (this.filter(call, arg)) await this.gate.pause(this.actor, `${call} ${arg}`)
  }
  override async *listBranches() {
    await this.#step('listBranches', '')
    yield* super.listBranches()
  }
  override async *listStaged(token: string, options?: Parameters<RefStore['listStaged']>[1]) {
    await this.#step('listStaged', token)
    yield* super.listStaged(token, options)
  }
  override async putStaged(token: string, changes: readonly StagedChange[]): Promise<void> {
    await this.#step('putStaged', token)
    return super.putStaged(token, changes)
  }
  override async getSetting(key: string): Promise<string | undefined> {
    await this.#step('getSetting', key)
    return super.getSetting(key)
  }
  override async compareAndSetSetting(key: string, expected: string | undefined, next: string, log?: RefLogEntry): Promise<boolean> {
    await this.#step('compareAndSetSetting', key)
    return super.compareAndSetSetting(key, expected, next, log)
  }
  override async getBranch(name: string) {
    await this.#step('getBranch', name)
    return super.getBranch(name)
  }
}

export interface InterleavingRun<R> {
  /** Actors by name: each starts its work when called and resolves when done. */
  readonly actors: Record<string, () => Promise<unknown>>
  /** Checks the invariant after every actor finished (settled results by actor). Throw to fail. */
  readonly check: (results: Record<string, PromiseSettledResult<unknown>>) => Promise<void>
  readonly cleanup?: () => Promise<void>
  readonly context?: R
}

export interface ExploreResult {
  /** Orderings run. */
  readonly runs: number
  /** Steps in the longest ordering. */
  readonly longest: number
}

/**
 * Runs `setup` and its actors once per ordering of their steps, until every ordering was run (or
 * `maxRuns`). `setup(gate)` builds fresh stores and wraps each actor's stores with the gate.
 */
export async function exploreInterleavings<R>(
  setup: (gate: StepGate) => Promise<InterleavingRun<R>>,
  options: { maxRuns?: number; stepTimeoutMs?: number; onRun?: (runs: number, steps: number) => void } = {},
): Promise<ExploreResult> {
  const maxRuns = options.maxRuns ?? 100_000
  let prefix: string[] = []
  let runs = 0
  let longest = 0
  for (;;) {
    const trace = await runOnce(setup, prefix, options.stepTimeoutMs ?? 60_000)
    runs++
    longest = Math.max(longest, trace.length)
    options.onRun?.(runs, trace.length)
    let i = trace.length - 1
    for (; i >= 0; i--) {
      const { options: choices, chosen } = trace[i]!
      const next = choices[choices.indexOf(chosen) + 1]
      if (next !== undefined) {
        prefix = [...trace.slice(0, i).map((t) => t.chosen), next]
        break
      }
    }
    if (i < 0 || runs >= maxRuns) return { runs, longest }
  }
}

async function runOnce<R>(setup: (gate: StepGate) => Promise<InterleavingRun<R>>, prefix: string[], stepTimeoutMs: number) {
  const gate = new StepGate()
  const run = await setup(gate)
  const names = Object.keys(run.actors)
  const done = new Set<string>()
  const trace: { options: string[]; chosen: string; label: string }[] = []
  try {
    const settled = Promise.allSettled(
      names.map((n) =>
        run.actors[n]!().finally(() => {
          done.add(n)
          gate.changed()
        }),
      ),
    )
    for (;;) {
      await gate.until(() => names.every((n) => done.has(n) || gate.waitingActors().includes(n)), stepTimeoutMs)
      const ready = names.filter((n) => gate.waitingActors().includes(n))
      if (!ready.length) break
      const chosen = trace.length < prefix.length ? prefix[trace.length]! : ready[0]!
      if (!ready.includes(chosen)) throw new Error(`replay diverged at step ${trace.length}: ${chosen} is not ready (${ready})`)
      trace.push({ options: ready, chosen, label: gate.labelOf(chosen) })
      gate.release(chosen)
    }
    const results = Object.fromEntries((await settled).map((r, i) => [names[i]!, r]))
    try {
      await run.check(results)
    } catch (err) {
      const steps = trace.map((t, i) => `  ${i + 1}. ${t.chosen}: ${t.label}`).join('\n')
      throw new Error(`${(err as Error).message}\nordering:\n${steps}`, { cause: err })
    }
  } finally {
    await run.cleanup?.()
  }
  return trace
}
