// Stages N files onto one branch of a shared s3:// repository, starting at the same moment as the others.
import '@varve/s3-adapter'
import { Repository } from '@varve/core'

const [location, s3json, id, count, branch, startAt] = process.argv.slice(2)
const repo = await Repository.open(location, { s3: JSON.parse(s3json) })
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
for (let i = 0; i < Number(count); i++) await repo.put(branch, `staged/${id}/${i}.bin`, `p${id}-${i}`)
await repo.close()
process.stdout.write(JSON.stringify({ id }))
