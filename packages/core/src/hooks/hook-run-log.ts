import type { BlockStore } from '../stores/block-store.js'
import type { HookRun } from './hook-types.js'

/**
 * Hook runs are immutable records in the block store, one object each, keyed so that a listing
 * returns a branch's newest runs first: `hook-runs/<hex branch>/<inverted time>-<run>-<n>`.
 */
const PREFIX = 'hook-runs/'
const TIME_SPACE = 1e13
const branchDir = (branch: string) => `${PREFIX}${Buffer.from(branch).toString('hex')}/`

export async function recordHookRuns(blocks: BlockStore, runs: readonly HookRun[]): Promise<void> {
  await Promise.all(
    runs.map((r, i) =>
      blocks.put(`${branchDir(r.branch)}${String(TIME_SPACE - r.startedAt).padStart(14, '0')}-${r.runId}-${i}`, Buffer.from(JSON.stringify(r)), {
        ifAbsent: true,
      }),
    ),
  )
}

/** Recorded runs, newest first: of one branch, or of all branches. */
export async function* listHookRuns(blocks: BlockStore, options: { branch?: string; limit?: number } = {}): AsyncGenerator<HookRun> {
  const keys: string[] = []
  for await (const o of blocks.list(options.branch === undefined ? PREFIX : branchDir(options.branch))) keys.push(o.key)
  const order = (k: string) => k.slice(k.lastIndexOf('/') + 1)
  keys.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
  for (const key of keys.slice(0, options.limit ?? keys.length)) {
    const bytes = await blocks.get(key)
    if (bytes) yield JSON.parse(Buffer.from(bytes).toString('utf8')) as HookRun
  }
}
