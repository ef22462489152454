// One measured operation of benchmarks/import.mjs in a process of its own (so its peak RSS is its
// own): `list <bucket> <prefix>` walks ListObjectsV2 with the raw SDK; `import <repo-location>
// <source-url> [message] [inventory-manifest-url]` runs repo.importObjects (from the inventory report when given), counting the requests sent to the repository's store.
// Prints one JSON line.
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import { Repository } from '@varve/core'
import { S3BlockStore, S3RefStore, createS3Client, parseS3Url } from '@varve/s3-adapter'

const [mode, a, b, message, inventory] = process.argv.slice(2)
const s3 = JSON.parse(process.env.BENCH_S3)
const t0 = performance.now()

if (mode === 'list') {
  const client = createS3Client(s3)
  let n = 0
  let token
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: a, Prefix: b, MaxKeys: 1000, ...(token ? { ContinuationToken: token } : {}) }))
    n += r.KeyCount ?? 0
    token = r.IsTruncated ? r.NextContinuationToken : undefined
  } while (token)
  console.log(JSON.stringify({ n, seconds: (performance.now() - t0) / 1000, rssMiB: process.resourceUsage().maxRSS / 1024 }))
} else if (mode === 'import') {
  const where = parseS3Url(a)
  const client = createS3Client(s3)
  const writes = { n: 0 }
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (/^(Put|Copy|Delete|Upload|Create|Complete)/.test(context.commandName ?? '')) writes.n++
      return next(args)
    },
    { step: 'initialize', name: 'countWrites' },
  )
  const repo = await Repository.open({ blocks: new S3BlockStore({ client, ...where }), refs: new S3RefStore({ client, ...where }) }, { author: 'bench', s3 })
  let r
  try {
    r = await repo.importObjects('main', { source: b, path: 'data/', ...(message ? { message } : {}), ...(inventory ? { inventory } : {}) })
  } catch (err) {
    if (err.code !== 'NOTHING_TO_COMMIT') throw err
    r = { listed: err.details.listed, added: 0, changed: 0, unchanged: err.details.unchanged, nothingToCommit: true }
  }
  await repo.close()
  console.log(
    JSON.stringify({
      n: r.listed,
      added: r.added,
      changed: r.changed,
      unchanged: r.unchanged,
      nothingToCommit: r.nothingToCommit === true,
      writes: writes.n,
      seconds: (performance.now() - t0) / 1000,
      rssMiB: process.resourceUsage().maxRSS / 1024,
    }),
  )
}
