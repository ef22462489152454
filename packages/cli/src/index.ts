export { main, buildProgram } from './main.js'
export { EXIT } from './exit-codes.js'
