import { VarveError, ErrorCodes } from '../errors/varve-error.js'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * One byte sequence per value: object keys sorted by code point, no whitespace, only finite numbers.
 * Object ids are hashes of this encoding, so it must never depend on insertion order.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value, 0))
}

function canonicalize(value: unknown, depth: number): JsonValue {
  if (depth > 64) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'metadata nests too deeply')
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `metadata number ${value} is not finite`)
    return value
  }
  if (Array.isArray(value)) return value.map((v) => canonicalize(v, depth + 1))
  if ((typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) || Object.getPrototypeOf(value) === null) {
    const out: Record<string, JsonValue> = {}
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key]
      if (v !== undefined) out[key] = canonicalize(v, depth + 1)
    }
    return out
  }
  throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `metadata holds a value JSON cannot represent (${typeof value})`)
}
