// Small helpers the side-by-side benchmarks share: flags, timing, medians, the machine's load.
import os from 'node:os'

/** `--name <number>` from the command line, or `dflt`. */
export const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
export const ms = (t0) => performance.now() - t0
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
export const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')
