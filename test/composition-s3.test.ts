import { randomBytes } from 'node:crypto'
import { Repository } from '@varve/core'
import { compositionMatrix, type WritePath } from '@varve/core/testing'
import { DeleteObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { createS3Client, type S3Options } from '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { cliAndGatewayRows, withGateway } from './helpers/composition-rows.js'
import { s3CliEnv } from './helpers/varve-cli.js'

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
const importFromBucket = (how: 'zero-copy' | 'hash' | 'copy'): WritePath => ({
  name: {
    'zero-copy': 'repo.importObjects (zero-copy, from a versioned bucket)',
    hash: 'repo.importObjects with hash (zero-copy, content-addressed, from a versioned bucket)',
    copy: 'repo.importObjects with copy (then the source objects are deleted)',
  }[how],
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
    const r = await c.repo.importObjects(c.branch, { source: `s3://${bucket}/export/`, message: 'matrix: import', hash: how === 'hash', copy: how === 'copy' })
    if (r.added !== c.dataset.files.length) throw new Error(`imported ${r.added} of ${c.dataset.files.length} files`)
    if (how === 'copy') await deleteEveryVersion(c.options.s3 as S3Options, bucket)
  },
})
/** Deletes every version of every object of a bucket: nothing of it can be read any more. */
async function deleteEveryVersion(options: S3Options, bucket: string): Promise<void> {
  const client = createS3Client(options)
  try {
    const v = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }))
    for (const o of [...(v.Versions ?? []), ...(v.DeleteMarkers ?? [])])
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key!, VersionId: o.VersionId! }))
  } finally {
    client.destroy()
  }
}
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
    const cliEnv = s3CliEnv(server.options)
    return withGateway(repo, location, options, cliEnv, () => server.stop())
  },
  {
    ...cliAndGatewayRows,
    writePaths: [...cliAndGatewayRows.writePaths, storeUploads, importFromBucket('zero-copy'), importFromBucket('hash'), importFromBucket('copy')],
  },
)
