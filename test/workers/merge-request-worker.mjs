// One process acting on a merge request at an agreed instant: approve, merge, or close it, as
// `reviewer`. Prints { result: 'ok' | <error code>, commit? }.
import '@varve/s3-adapter'
import { Repository, VarveError } from '@varve/core'

const [location, s3json, action, id, who, startAt] = process.argv.slice(2)
const repo = await Repository.open(location, s3json === '-' ? {} : { s3: JSON.parse(s3json) })
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
let out
try {
  if (action === 'approve') await repo.approve(Number(id), { reviewer: who })
  else if (action === 'merge') out = { commit: (await repo.mergeMergeRequest(Number(id), { author: who })).commit.id }
  else if (action === 'close') await repo.closeMergeRequest(Number(id), { author: who })
  else if (action === 'commit') {
    await repo.put(who, `moved-${Date.now()}`, 'x')
    await repo.commit(who, { message: 'source moves' })
  }
  out = { result: 'ok', ...(out ?? {}) }
} catch (e) {
  out = { result: e instanceof VarveError ? e.code : String(e), message: String(e?.message ?? e) }
}
await repo.close()
process.stdout.write(JSON.stringify(out))
