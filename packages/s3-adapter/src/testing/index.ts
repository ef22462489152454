export { startTestS3, startTestVersityGw, testS3Client, type TestS3, type TestS3Options } from './s3-test-server.js'
// (kept here for the tests and benchmarks that import it from this package)
export { freePort } from '@varve/core/testing/emulators'
