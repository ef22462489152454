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

// ---- a generated folder of small incompressible files (ingest, remotes) ----------------------------
import { createCipheriv, createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** Deterministic incompressible bytes: AES-256-CTR of zeros under a key derived from `seed`. */
export function incompressible(seed) {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16))
}
/** File i's size: 1–30 KiB, fixed by i (and `salt`, for a rewrite). */
export const sizeOf = (i, salt = 0) => 1024 + (createHash('sha256').update(`size-${i}-${salt}`).digest().readUInt32LE(0) % (29 * 1024 + 1))
export const relOf = (i) => `d${String(i % 100).padStart(3, '0')}/f${String(i).padStart(7, '0')}.bin`

/** Writes `n` files of 1–30 KiB in 100 folders under `dir`, bytes from `incompressible(seed)`; returns their total size. */
export function generateFolder(dir, n, seed) {
  const cipher = incompressible(seed)
  for (let d = 0; d < Math.min(100, n); d++) fs.mkdirSync(path.join(dir, `d${String(d).padStart(3, '0')}`), { recursive: true })
  let bytes = 0
  for (let i = 0; i < n; i++) {
    const size = sizeOf(i)
    fs.writeFileSync(path.join(dir, relOf(i)), cipher.update(Buffer.alloc(size)))
    bytes += size
  }
  return bytes
}

/** Runs `a` and `b` once per round, `b` first in odd rounds; resolves with their times in seconds. */
export async function alternate(rounds, a, b) {
  const times = { a: [], b: [] }
  const timed = async (fn, into) => {
    const t0 = performance.now()
    await fn()
    into.push((performance.now() - t0) / 1000)
  }
  for (let r = 0; r < rounds; r++) {
    if (r % 2) await timed(() => b(r), times.b).then(() => timed(() => a(r), times.a))
    else await timed(() => a(r), times.a).then(() => timed(() => b(r), times.b))
  }
  return times
}
