// Imports a MinIO prefix into a repository, printing a line per listed page; the crash test kills it
// with SIGKILL at a random moment and runs it again. Prints `DONE <commit root>` when it finished.
import { Repository } from '@varve/core'
import '@varve/s3-adapter'

const [location, source] = process.argv.slice(2)
const s3 = JSON.parse(process.env.TEST_S3)
const repo = await Repository.open(location, { s3, author: 'crash' })
try {
  const r = await repo.importObjects('main', {
    source,
    path: 'data/',
    message: 'import',
    checkpointEvery: Number(process.env.CHECKPOINT_EVERY ?? 100000),
    onProgress: ({ listed, resumedAfter }) => process.stdout.write(`${resumedAfter ? `RESUMED ${resumedAfter}\n` : ''}LISTED ${listed}\n`),
  })
  process.stdout.write(`DONE ${r.commit.root}\n`)
} catch (err) {
  if (err.code !== 'NOTHING_TO_COMMIT') throw err
  process.stdout.write(`DONE ${(await repo.getCommit('main')).root}\n`)
} finally {
  await repo.close()
}
