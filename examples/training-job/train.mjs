// A training job: pin the dataset, read Parquet at the pin into Arrow, "train" (a mean), and write the
// result with the data commit and the code commit, so the model names the exact bytes it learned from.
//   node examples/training-job/train.mjs <repo> [ref] [lockfile] [out.json]
import fs from 'node:fs/promises'
import { openPinned, pinDataset, Repository } from '@varve/core'

const [location = '.varve', ref = 'main', lock = 'varve.lock', out = 'model.json'] = process.argv.slice(2)

// 1. Pin: resolve the ref once, record commit + code lineage in the lockfile (commit it with the code).
const repo = await Repository.open(location)
const pin = await pinDataset(repo, ref, { name: 'train-data', lock })
await repo.close()

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
console.log(`trained on ${rows} rows at data commit ${pin.commit.slice(0, 12)}${pin.code?.commit ? ` with code ${pin.code.commit.slice(0, 12)}` : ''}: mean score ${model.meanScore?.toFixed(4)}`)
