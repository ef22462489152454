// One process of the multi-process test: branch, put, commit, merge into main, N times.
import { Repository } from '@varve/core'

const [location, id, iterations, startAt] = process.argv.slice(2)
const repo = await Repository.open(location, { author: `worker-${id}` })
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
const merges = []
for (let i = 0; i < Number(iterations); i++) {
  const branch = `w${id}-${i}`
  await repo.createBranch(branch, { from: 'main' })
  await repo.put(branch, `workers/${id}/file-${i}.txt`, `worker ${id} iteration ${i}\n`)
  await repo.commit(branch, { message: `w${id} i${i}` })
  const m = await repo.merge(branch, 'main', { message: `merge w${id} i${i}` }) // a lost race re-reads and retries inside
  merges.push(m.commit.id)
}
await repo.close()
process.stdout.write(JSON.stringify({ id, merges }))
