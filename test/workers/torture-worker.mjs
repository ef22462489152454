// Crash torture: single puts and batches (putMany), commits, merges and collects garbage in a loop, printing every acknowledged commit,
// until the parent kills it. Deterministic per seed.
import { Repository, seededRandom, VarveError } from '@varve/core'
import { storeOptions } from './store-options.mjs'

// storeJson: the store's options as JSON (`{ s3 | azure | gcs }`, or bare S3 options), '' for a folder.
const [location, storeJson, seedText] = process.argv.slice(2)
const random = seededRandom(Number(seedText))
const repo = await Repository.open(location, { ...(await storeOptions(location, storeJson)), author: `torture-${seedText}` })
const say = (line) => process.stdout.write(line + '\n')
say('READY')
for (let i = 0; ; i++) {
  const dice = random.next()
  try {
    if (dice < 0.55) {
      const branch = `t${seedText}-${i}`
      await repo.createBranch(branch, { from: 'main' })
      if (random.next() < 0.5) {
        // The batch path (packs, one staging write per batch): a kill can land in the middle of it.
        const files = 5 + Math.floor(random.next() * 60)
        const items = Array.from({ length: files }, (_, f) => ({
          path: `batch/${seedText}/${i}/${f}.bin`,
          data: `seed ${seedText} op ${i} batch file ${f} ${random.hex(4)}`.repeat(1 + f * 20),
        }))
        if (random.next() < 0.2) items.push({ path: `batch/${seedText}/${i}/large.bin`, data: Buffer.alloc(1100 * 1024, i % 251) }) // stored on its own
        await repo.putMany(branch, items, { concurrency: 4 })
      } else {
        const files = 1 + Math.floor(random.next() * 3)
        for (let f = 0; f < files; f++) await repo.put(branch, `data/${seedText}/${i}/${f}.bin`, `seed ${seedText} op ${i} file ${f} ${random.hex(4)}`)
      }
      const c = await repo.commit(branch, { message: `commit ${seedText}/${i}` })
      say(`COMMIT ${branch} ${c.id}`)
      const m = await repo.merge(branch, 'main', { message: `merge ${seedText}/${i}` })
      say(`COMMIT main ${m.commit.id}`)
      if (random.next() < 0.5) await repo.deleteBranch(branch)
    } else if (dice < 0.85) {
      await repo.put('main', `direct/${seedText}-${i}.txt`, random.hex(16))
      if (random.next() < 0.3) await repo.delete('main', `direct/${seedText}-${i}.txt`)
      const c = await repo.commit('main', { message: `direct ${seedText}/${i}` })
      say(`COMMIT main ${c.id}`)
    } else {
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      say('GC')
    }
  } catch (e) {
    if (!(e instanceof VarveError) || !['NOTHING_TO_COMMIT'].includes(e.code)) throw e
  }
}
