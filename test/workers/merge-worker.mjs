// One process ("machine") of the multi-process tests: branch, put, commit, merge into main, N times.
// Works on a local folder or, given S3 options as JSON, on an s3:// location.
import { Repository } from '@varve/core'

const [location, s3json, id, iterations, startAt] = process.argv.slice(2)
if (s3json) await import('@varve/s3-adapter')
const repo = await Repository.open(location, { author: `worker-${id}`, ...(s3json ? { s3: JSON.parse(s3json) } : {}) })
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
const merges = []
for (let i = 0; i < Number(iterations); i++) {
  const branch = `w${id}-${i}`
  await repo.createBranch(branch, { from: 'main' })
  await repo.put(branch, `workers/${id}/file-${i}.txt`, `worker ${id} iteration ${i}\n`)
  await repo.commit(branch, { message: `w${id} i${i}` })
  merges.push((await repo.merge(branch, 'main', { message: `merge w${id} i${i}` })).commit.id) // a lost race re-reads and retries inside
}
await repo.close()
process.stdout.write(JSON.stringify({ id, merges }))
