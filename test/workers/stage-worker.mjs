// Stages N files onto one branch, starting at the same moment as the other processes.
// Works on a local folder or, given the store's options as JSON, on an s3://, az:// or gs:// location.
import { Repository } from '@varve/core'
import { storeOptions } from './store-options.mjs'

const [location, storeJson, id, count, branch, startAt] = process.argv.slice(2)
const repo = await Repository.open(location, await storeOptions(location, storeJson))
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
for (let i = 0; i < Number(count); i++) await repo.put(branch, `staged/${id}/${i}.bin`, `p${id}-${i}`)
await repo.close()
process.stdout.write(JSON.stringify({ id }))
