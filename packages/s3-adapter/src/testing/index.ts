export { startTestS3, freePort, type TestS3 } from './s3-test-server.js'
