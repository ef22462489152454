// Concurrency torture: one of 8 processes mixing puts, commits, merges and branch creation on one
// repository. Prints every commit it made; deterministic per seed.
import { Repository, seededRandom, VarveError } from '@varve/core'
import { storeOptions } from './store-options.mjs'

// storeJson (optional): the store's options as JSON for an s3://, az:// or gs:// location.
const [location, id, ops, startAt, storeJson] = process.argv.slice(2)
const random = seededRandom(1000 + Number(id))
const repo = await Repository.open(location, { ...(await storeOptions(location, storeJson)), author: `mixer-${id}` })
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
const made = []
// A merge that found nothing new acknowledges the existing head, not a new commit: record only new ones.
const merged = (r) => (r.upToDate ? [] : [['main', r.commit.id]])
const tolerate = (e) => {
  if (!(e instanceof VarveError) || !['NOTHING_TO_COMMIT', 'BRANCH_EXISTS', 'MERGE_CONFLICT', 'DIRTY_BRANCH'].includes(e.code)) throw e
}
for (let i = 0; i < Number(ops); i++) {
  const dice = random.next()
  try {
    if (dice < 0.3) {
      await repo.put('shared', `shared/${id}-${i}`, random.hex(8)) // one branch, everyone staging and committing
      made.push(['shared', (await repo.commit('shared', { message: `shared ${id}/${i}` })).id])
    } else if (dice < 0.6) {
      const b = `p${id}-${Math.floor(random.next() * 3)}` // reused names: creation races and BRANCH_EXISTS
      await repo.createBranch(b, { from: 'main' }).catch(tolerate)
      await repo.put(b, `own/${id}/${i}`, random.hex(8))
      made.push([b, (await repo.commit(b, { message: `own ${id}/${i}` })).id])
      made.push(...merged(await repo.merge(b, 'main', { message: `merge ${b} ${i}` })))
    } else if (dice < 0.8) {
      made.push(...merged(await repo.merge('shared', 'main', { message: `merge shared by ${id}/${i}` })))
    } else {
      await repo.put('main', `direct/${id}-${i}`, random.hex(8))
      made.push(['main', (await repo.commit('main', { message: `direct ${id}/${i}` })).id])
    }
  } catch (e) {
    tolerate(e)
  }
}
await repo.close()
process.stdout.write(JSON.stringify(made))
