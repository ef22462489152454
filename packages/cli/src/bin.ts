#!/usr/bin/env node
import { main } from './main.js'

// EPIPE (e.g. `varve log main | head`) is a normal end of output, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

process.exitCode = await main(process.argv)
