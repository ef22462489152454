import { randomBytes } from 'node:crypto'

/** Time and randomness are injected, so tests and crash replays are deterministic from a seed. */
export interface Clock {
  now(): number
}
export interface RandomSource {
  /** `n` random bytes as lowercase hex. */
  hex(bytes: number): string
  /** A float in [0, 1). */
  next(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export const systemRandom: RandomSource = {
  hex: (n) => randomBytes(n).toString('hex'),
  next: () => Math.random(),
}

/** A seeded source (mulberry32), for tests that replay. */
export function seededRandom(seed: number): RandomSource {
  let s = seed >>> 0
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    hex: (n) => {
      let out = ''
      for (let i = 0; i < n; i++)
        out += Math.floor(next() * 256)
          .toString(16)
          .padStart(2, '0')
      return out
    },
  }
}
