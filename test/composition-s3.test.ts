import { randomBytes } from 'node:crypto'
import { Repository } from '@varve/core'
import { compositionMatrix } from '@varve/core/testing'
import '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { cliAndGatewayRows, withGateway } from './helpers/composition-rows.js'

// Issue 22: every write path x every read path on S3 (a real MinIO), the CLI and the gateway included.
compositionMatrix('s3:// on MinIO', async () => {
  const server: TestS3 = await startTestS3()
  const bucket = `varve-matrix-${randomBytes(4).toString('hex')}`
  await server.createBucket(bucket)
  const location = `s3://${bucket}/${randomBytes(5).toString('hex')}`
  const options = { s3: server.options }
  const repo = await Repository.init(location, { ...options, author: 'matrix' })
  const o = server.options
  const cliEnv = {
    VARVE_S3_ENDPOINT: o.endpoint, VARVE_S3_FORCE_PATH_STYLE: String(o.forcePathStyle), AWS_REGION: o.region,
    AWS_ACCESS_KEY_ID: o.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: o.credentials.secretAccessKey,
  }
  return withGateway(repo, location, options, cliEnv, () => server.stop())
}, cliAndGatewayRows)
