import { createHash } from 'node:crypto'

export const sha256Hex = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex')

export const isObjectId = (s: string): boolean => /^[0-9a-f]{64}$/.test(s)
