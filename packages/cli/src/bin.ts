#!/usr/bin/env node
import { createRequire } from 'node:module'

// EPIPE (e.g. `varve log main | head`) is a normal end of output, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Answered before the engine and every command load (a third of the start-up CPU): scripts and
  // shell prompts ask for the version often. The same text commander prints.
  const { version } = createRequire(import.meta.url)('../package.json') as { version: string }
  process.stdout.write(`${version}\n`)
} else {
  const { main } = await import('./main.js')
  process.exitCode = await main(process.argv)
}
