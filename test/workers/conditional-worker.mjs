// Races other processes for each version of a Delta-style log: `_delta_log/<round>.json` created with
// ifNoneMatch '*'. Prints the rounds it won. Works on a local folder or (S3 options as JSON) s3://.
import { Repository } from '@varve/core'

const [location, s3json, id, rounds, branch, startAt] = process.argv.slice(2)
if (s3json) await import('@varve/s3-adapter')
const repo = await Repository.open(location, s3json ? { s3: JSON.parse(s3json) } : {})
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
const won = []
for (let round = 0; round < Number(rounds); round++) {
  try {
    await repo.put(branch, `_delta_log/${String(round).padStart(20, '0')}.json`, `{"writer":${id},"round":${round}}`, { ifNoneMatch: '*' })
    won.push(round)
  } catch (err) {
    if (err?.code !== 'PRECONDITION_FAILED') throw err
  }
}
await repo.close()
process.stdout.write(JSON.stringify({ id: Number(id), won }))
