import { randomBytes } from 'node:crypto'
import { Repository } from '@varve/core'
import { compositionMatrix, type WritePath } from '@varve/core/testing'
import { PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { createS3Client, type S3Options } from '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { cliAndGatewayRows, withGateway } from './helpers/composition-rows.js'

// Issue 22: every write path x every read path on S3 (a real MinIO), the CLI and the gateway included.

// Issue 23: multipart uploads kept in the store (repo.uploads), S3's own; each file in parts sent
// from two repositories opened on the same location (as two gateway instances would), completed on a third.
const storeUploads: WritePath = {
  name: 'repo.uploads (multipart kept in the store, parts from two processes)',
  async write(c) {
    const others = [await Repository.open(c.location, c.options), await Repository.open(c.location, c.options)]
    try {
      for (const f of c.dataset.files) {
        const u = await others[0]!.uploads.create(c.branch, f.path)
        // parts of 5 MiB (S3's smallest but the last); the dataset's files fit in one or two
        const PART = 5 * 1024 * 1024
        const parts: { n: number; etag: string }[] = []
        for (let at = 0, n = 1; at < f.bytes.length || n === 1; at += PART, n++) {
          const bytes = f.bytes.subarray(at, at + PART)
          parts.push({ n, etag: (await others[n % 2]!.uploads.uploadPart(u.id, n, bytes, bytes.byteLength)).etag })
        }
        await c.repo.uploads.complete(u.id, parts)
      }
    } finally {
      for (const r of others) await r.close()
    }
    await c.repo.commit(c.branch, { message: 'matrix: store uploads' })
  },
}
// Issue 25: imported without copying from another bucket of the same MinIO (versioned, so the
// entries pin version ids); every read path then reads the source's objects through the repository.
let sourceServer: TestS3 | undefined
const importFromBucket = (hash: boolean): WritePath => ({
  name: hash
    ? 'repo.importObjects with hash (zero-copy, content-addressed, from a versioned bucket)'
    : 'repo.importObjects (zero-copy, from a versioned bucket)',
  async write(c) {
    const client = createS3Client(c.options.s3 as S3Options)
    const bucket = `matrix-src-${randomBytes(4).toString('hex')}`
    try {
      await sourceServer!.createBucket(bucket)
      await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }))
      for (const f of c.dataset.files) await client.send(new PutObjectCommand({ Bucket: bucket, Key: `export/${f.path}`, Body: f.bytes }))
    } finally {
      client.destroy()
    }
    const r = await c.repo.importObjects(c.branch, { source: `s3://${bucket}/export/`, message: 'matrix: import', hash })
    if (r.added !== c.dataset.files.length) throw new Error(`imported ${r.added} of ${c.dataset.files.length} files`)
  },
})
compositionMatrix(
  's3:// on MinIO',
  async () => {
    const server: TestS3 = await startTestS3()
    sourceServer = server
    const bucket = `varve-matrix-${randomBytes(4).toString('hex')}`
    await server.createBucket(bucket)
    const location = `s3://${bucket}/${randomBytes(5).toString('hex')}`
    const options = { s3: server.options }
    const repo = await Repository.init(location, { ...options, author: 'matrix' })
    const o = server.options
    const cliEnv = {
      VARVE_S3_ENDPOINT: o.endpoint,
      VARVE_S3_FORCE_PATH_STYLE: String(o.forcePathStyle),
      AWS_REGION: o.region,
      AWS_ACCESS_KEY_ID: o.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: o.credentials.secretAccessKey,
    }
    return withGateway(repo, location, options, cliEnv, () => server.stop())
  },
  { ...cliAndGatewayRows, writePaths: [...cliAndGatewayRows.writePaths, storeUploads, importFromBucket(false), importFromBucket(true)] },
)
