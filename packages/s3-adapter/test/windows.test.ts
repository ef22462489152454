import { describe, expect, it } from 'vitest'
import { VarveError } from '@varve/core'
import { createS3Client, S3RefStore } from '@varve/s3-adapter'
import { useTestS3 } from './s3-fixtures.js'

// Issue 9.7: a parallel window of S3 requests in which one fails must settle every request before it
// raises: an unawaited one rejecting later would end the process (Node exits on unhandled rejections)
// before the caller's catch runs. A real MinIO; the client fails its Nth request (a middleware).
const s3 = useTestS3()

function failingNth(n: number) {
  const client = createS3Client(s3.server().options)
  let count = 0
  client.middlewareStack.add(
    (next) => async (args) => {
      if (++count === n) throw Object.assign(new Error(`injected failure of request ${n}`), { name: 'InternalError', $metadata: { httpStatusCode: 500 } })
      return next(args)
    },
    { step: 'initialize', name: 'failNth' },
  )
  return { client, reset: () => (count = 0) }
}

describe('S3 request windows settle every request when one fails', () => {
  it('listing branches, staging and listing staged changes: a clear error, no unhandled rejection', async () => {
    const prefix = s3.freshPrefix()
    const setup = new S3RefStore({ ...s3.server().options, bucket: s3.bucket, prefix })
    for (let i = 0; i < 70; i++)
      await setup.createBranch(
        { name: `b${String(i).padStart(2, '0')}`, head: 'c', stagingToken: `t${i}`, sealedTokens: [] },
        { ref: `branch:b${i}`, old: null, new: 'c', operation: 'create', author: 't', at: 1 },
      )
    const changes = Array.from({ length: 80 }, (_, i) => ({ path: `p/${i}`, entry: { path: `p/${i}`, address: 'a'.repeat(64), size: 1, lastModified: 1 } }))
    await setup.putStaged('t0', changes)
    await setup.close()

    const unhandled: unknown[] = []
    const onUnhandled = (e: unknown) => unhandled.push(e)
    process.on('unhandledRejection', onUnhandled)
    try {
      for (const n of [2, 5, 17, 40]) {
        const { client } = failingNth(n)
        const refs = new S3RefStore({ bucket: s3.bucket, prefix, client })
        const attempts: Promise<unknown>[] = [
          (async () => {
            for await (const _ of refs.listBranches()) {
              /* drain */
            }
          })(),
          refs.putStaged('t1', changes),
          (async () => {
            for await (const _ of refs.listStaged('t0')) {
              /* drain */
            }
          })(),
        ]
        for (const r of await Promise.allSettled(attempts)) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VarveError) // the injected failure, typed
        // a consumer that stops early leaves nothing running either
        for await (const _ of refs.listBranches()) break
        client.destroy()
      }
      await new Promise((r) => setTimeout(r, 200)) // any straggler would reject by now
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  }, 120_000)
})
