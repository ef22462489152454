// Stages N files onto one branch, starting at the same moment as the other processes.
// Works on a local folder or, given S3 options as JSON, on an s3:// location.
import { Repository } from '@varve/core'

const [location, s3json, id, count, branch, startAt] = process.argv.slice(2)
if (s3json) await import('@varve/s3-adapter')
const repo = await Repository.open(location, s3json ? { s3: JSON.parse(s3json) } : {})
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
for (let i = 0; i < Number(count); i++) await repo.put(branch, `staged/${id}/${i}.bin`, `p${id}-${i}`)
await repo.close()
process.stdout.write(JSON.stringify({ id }))
