// Runs one GC (or verify) on a repository and prints its result as JSON; gc.mjs runs this under /usr/bin/time -v.
import { Repository } from '@varve/core'

const [lake, what = 'gc'] = process.argv.slice(2)
const repo = await Repository.open(lake)
const t0 = performance.now()
const result = what === 'verify' ? await repo.verify({ retainDays: 0 }) : await repo.gc({ retainDays: 0, graceSeconds: 0, dryRun: what === 'dry-run' })
const ms = performance.now() - t0
await repo.close()
process.stdout.write(
  JSON.stringify({
    ms,
    ...(what === 'verify'
      ? { ok: result.ok, problems: result.problems.length, commits: result.commits, nodes: result.nodes, dataObjects: result.dataObjects }
      : result),
  }),
)
