import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { RandomSource } from './clock.js'

export interface RetryPolicy {
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 50, baseDelayMs: 2, maxDelayMs: 200 }

/** Marker a step returns when it lost a compare-and-swap and should be tried again from a fresh read. */
export const LOST_RACE = Symbol('lost-race')

/**
 * Runs `step` until it returns something other than LOST_RACE, sleeping with full jitter between tries
 * so contending writers spread out. After the last try the caller gets `CONFLICT`.
 */
export async function retryOnLostRace<T>(
  what: string,
  policy: RetryPolicy,
  random: RandomSource,
  step: (attempt: number) => Promise<T | typeof LOST_RACE>,
): Promise<T> {
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    const result = await step(attempt)
    if (result !== LOST_RACE) return result
    const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 16))
    await new Promise((r) => setTimeout(r, random.next() * cap))
  }
  throw new VarveError(ErrorCodes.CONFLICT, `${what}: lost the race to concurrent writers ${policy.attempts} times`, {
    details: { attempts: policy.attempts },
  })
}
