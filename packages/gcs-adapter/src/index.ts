import './register.js'

export { GcsBucket } from './gcs-bucket.js'
export { parseGcsUrl } from './gcs-options.js'
export type { GcsLocation, GcsOptions } from './gcs-options.js'
