export { startTestGcs, type TestGcs } from './fake-gcs-server.js'
