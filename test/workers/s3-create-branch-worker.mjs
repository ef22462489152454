// Tries to create one branch at a given instant; prints "won" or the error code it got.
import '@varve/s3-adapter'
import { Repository, VarveError } from '@varve/core'

const [location, s3json, branch, startAt] = process.argv.slice(2)
const repo = await Repository.open(location, { s3: JSON.parse(s3json) })
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
let result
try {
  await repo.createBranch(branch)
  result = 'won'
} catch (e) {
  result = e instanceof VarveError ? e.code : String(e)
}
await repo.close()
process.stdout.write(JSON.stringify({ result }))
