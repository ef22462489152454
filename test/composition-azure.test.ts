import { randomBytes } from 'node:crypto'
import '@varve/azure-adapter'
import { startTestAzure } from '@varve/azure-adapter/testing'
import { Repository } from '@varve/core'
import { compositionMatrix } from '@varve/core/testing'
import { cliAndGatewayRows, withGateway } from './helpers/composition-rows.js'

// Issue 28: every write path x every read path on Azure Blob (Azurite), the CLI and the gateway
// included, as on the folder and on MinIO (a file of its own, so the matrices run in parallel).
compositionMatrix(
  'az:// on Azurite',
  async () => {
    const azure = await startTestAzure()
    const container = `varve-matrix-${randomBytes(4).toString('hex')}`
    await azure.createContainer(container)
    const location = `az://${azure.account}/${container}/${randomBytes(5).toString('hex')}`
    const options = { azure: { connectionString: azure.connectionString } }
    const repo = await Repository.init(location, { ...options, author: 'matrix' })
    return withGateway(repo, location, options, { AZURE_STORAGE_CONNECTION_STRING: azure.connectionString }, () => azure.stop())
  },
  cliAndGatewayRows,
)
