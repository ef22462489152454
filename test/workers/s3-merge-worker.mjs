// One "machine" of the S3 multi-machine test: its own Repository.open of the shared s3:// repository.
import '@varve/s3-adapter'
import { Repository } from '@varve/core'

const [location, s3json, id, iterations, startAt] = process.argv.slice(2)
const repo = await Repository.open(location, { s3: JSON.parse(s3json), author: `machine-${id}` })
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
const merges = []
for (let i = 0; i < Number(iterations); i++) {
  const branch = `m${id}-${i}`
  await repo.createBranch(branch, { from: 'main' })
  await repo.put(branch, `machines/${id}/file-${i}.txt`, `machine ${id} iteration ${i}\n`)
  await repo.commit(branch, { message: `m${id} i${i}` })
  merges.push((await repo.merge(branch, 'main', { message: `merge m${id} i${i}` })).commit.id)
}
await repo.close()
process.stdout.write(JSON.stringify({ id, merges }))
