// Preloaded (`node --import`) into a CLI process by tests: every module the process loads is appended
// to the file named by $VARVE_RECORD_LOADS: ES modules by a resolve hook (it runs on the loader
// thread), CommonJS files from require.cache at exit (a require() does not pass the ESM hooks).
import fs from 'node:fs'
import { createRequire, register } from 'node:module'

const out = process.env.VARVE_RECORD_LOADS
if (out) {
  register('./record-loads-hook.mjs', { parentURL: import.meta.url, data: { out } })
  process.on('exit', () => fs.appendFileSync(out, Object.keys(createRequire(import.meta.url).cache).join('\n') + '\n'))
}
