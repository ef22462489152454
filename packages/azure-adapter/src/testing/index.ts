export { startTestAzure, type TestAzure } from './azurite-server.js'
