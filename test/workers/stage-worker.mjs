// One process of the shared-staging test: stage N files onto one branch at the same moment as the others.
import { Repository } from '@varve/core'

const [location, id, count, branch, startAt] = process.argv.slice(2)
const repo = await Repository.open(location)
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
for (let i = 0; i < Number(count); i++) await repo.put(branch, `staged/${id}/${i}.bin`, `p${id}-${i}`)
await repo.close()
process.stdout.write(JSON.stringify({ id }))
