export { startServer, type RunningServer, type StartOptions } from './server.js'
export {
  loadServeConfig,
  validateServeConfig,
  parseListen,
  DEFAULT_LISTEN,
  ACTIONS,
  type ServeConfig,
  type AccessKey,
  type Grant,
  type Action,
  type ServedRepository,
} from './config.js'
export { allowed, type Principal } from './access.js'
export { OPENAPI } from './api/openapi.js'
