// A training job: pin the dataset once, read Parquet at the pin into Arrow, "train" (a mean), and write
// the result with the data commit and the code commit, so the model names the exact bytes it learned from.
//   node examples/training-job/train.mjs <repo> [ref] [lockfile] [out.json] [--repin]
import fs from 'node:fs/promises'
import { openPinned, pinDataset, readLockFile, Repository } from '@varve/core'

const args = process.argv.slice(2)
const repin = args.includes('--repin')
const [location = '.varve', ref = 'main', lock = 'varve.lock', out = 'model.json'] = args.filter((a) => a !== '--repin')

// 1. Pin once: the first run resolves the ref and records commit + code lineage in the lockfile (commit
//    it with the code). Later runs read that pin, whatever the branch did since; --repin moves it on purpose.
let pin = (await readLockFile(lock)).pins['train-data']
if (!pin || repin) {
  const repo = await Repository.open(location)
  pin = await pinDataset(repo, ref, { name: 'train-data', lock })
  await repo.close()
  console.log(`pinned ${ref} at ${pin.commit.slice(0, 12)} in ${lock}`)
} else console.log(`reading the pin in ${lock}: ${pin.ref} at ${pin.commit.slice(0, 12)}, pinned ${pin.pinnedAt}`)

// 2. Read at the pin: whatever happens to the branch from now on, these are the bytes.
const ds = await openPinned(lock, 'train-data')
let rows = 0
let sum = 0
for await (const item of ds.list({ prefix: 'train/' })) {
  if (item.type !== 'object' || !item.path.endsWith('.parquet')) continue
  const table = await ds.readTable(item.path)
  const score = table.getChild('score')
  for (const v of score ?? []) {
    if (typeof v === 'number') {
      sum += v
      rows++
    }
  }
}
await ds.close()

// 3. "Train" and record lineage with the result.
const model = { meanScore: rows ? sum / rows : null, rows, data: { repo: pin.repo, ref: pin.ref, commit: pin.commit }, code: pin.code }
await fs.writeFile(out, JSON.stringify(model, null, 2) + '\n')
console.log(
  `trained on ${rows} rows at data commit ${pin.commit.slice(0, 12)}${pin.code?.commit ? ` with code ${pin.code.commit.slice(0, 12)}` : ''}: mean score ${model.meanScore?.toFixed(4)}`,
)
