import './register.js'

export { AzureBucket } from './azure-bucket.js'
export { parseAzureUrl } from './azure-options.js'
export type { AzureLocation, AzureOptions } from './azure-options.js'
