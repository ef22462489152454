// Remotes under SIGKILL (issue 27): clones or pushes `src` to `dst`, printing PROGRESS as objects land and DONE at the end,
// until the parent kills it. Run again, it continues where the last run stopped.
import { Repository, VarveError } from '@varve/core'

const [op, src, dst, s3json] = process.argv.slice(2)
if (s3json) await import('@varve/s3-adapter')
const options = { ...(s3json ? { s3: JSON.parse(s3json) } : {}), author: 'worker', durable: true }
const say = (line) => process.stdout.write(line + '\n')
// A few requests in flight: the kill should land inside the transfer, not after it.
const transfer = { width: 4, onProgress: (p) => say(`PROGRESS ${p.objects} ${p.bytes}`) }
say('READY')
if (op === 'clone') {
  // A kill after the clone finished but before DONE was printed: running again finds a complete clone.
  const repo = await Repository.clone(src, dst, { ...options, clone: transfer }).catch(async (e) => {
    if (!VarveError.is(e, 'REPOSITORY_EXISTS')) throw e
    const done = await Repository.open(dst, options)
    if (!(await done.trackingRefs('origin')).length) throw e
    return done
  })
  await repo.close()
} else {
  const repo = await Repository.open(src, options)
  const known = (await repo.remotes()).find((r) => r.name === 'target')
  if (known && known.location !== dst) await repo.removeRemote('target') // a calibration run pushed elsewhere
  if (!known || known.location !== dst) await repo.addRemote('target', dst)
  await repo.push('target', { ...transfer, branches: ['main', 'dev'], tags: true })
  await repo.close()
}
say('DONE')
