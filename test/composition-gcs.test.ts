import { randomBytes } from 'node:crypto'
import { Repository } from '@varve/core'
import { compositionMatrix } from '@varve/core/testing'
import '@varve/gcs-adapter'
import { startTestGcs } from '@varve/gcs-adapter/testing'
import { cliAndGatewayRows, withGateway } from './helpers/composition-rows.js'

// Issue 28: every write path x every read path on GCS (fake-gcs-server), the CLI and the gateway
// included, as on the folder and on MinIO (a file of its own, so the matrices run in parallel).
compositionMatrix(
  'gs:// on fake-gcs-server',
  async () => {
    const gcs = await startTestGcs()
    const bucket = `varve-matrix-${randomBytes(4).toString('hex')}`
    await gcs.createBucket(bucket)
    const location = `gs://${bucket}/${randomBytes(5).toString('hex')}`
    const options = { gcs: { endpoint: gcs.endpoint } }
    const repo = await Repository.init(location, { ...options, author: 'matrix' })
    return withGateway(repo, location, options, { STORAGE_EMULATOR_HOST: gcs.endpoint }, () => gcs.stop())
  },
  cliAndGatewayRows,
)
