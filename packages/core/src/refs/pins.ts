import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { RefStore } from '../stores/ref-store.js'
import { validateRefName } from '../util/ref-names.js'

/**
 * A pin: a named, immutable reference to a commit that a training job (or anyone) depends on. Pins
 * live in the ref store, so garbage collection keeps every byte of a pinned commit until the pin is
 * removed (docs/decisions/0006-gc-quarantine.md).
 */
export interface PinRecord {
  readonly name: string
  readonly commit: string
  /** The revision it was pinned from (e.g. 'main'). */
  readonly ref: string
  readonly createdAt: number
  readonly author: string
}

const PREFIX = 'pin/'

export async function getPin(refs: RefStore, name: string): Promise<PinRecord | undefined> {
  const raw = await refs.getSetting(PREFIX + validateRefName(name))
  return raw === undefined ? undefined : parsePin(raw, name)
}

export async function* listPins(refs: RefStore): AsyncIterable<PinRecord> {
  for await (const s of refs.listSettings(PREFIX)) yield parsePin(s.value, s.key.slice(PREFIX.length))
}

/** Creates or replaces a pin (a pin may be moved on purpose, like re-pinning a training set). */
export async function setPin(refs: RefStore, pin: PinRecord): Promise<void> {
  await refs.setSetting(PREFIX + validateRefName(pin.name), JSON.stringify(pin))
}

export async function removePin(refs: RefStore, name: string): Promise<boolean> {
  const key = PREFIX + validateRefName(name)
  if ((await refs.getSetting(key)) === undefined) return false
  await refs.setSetting(key, null)
  return true
}

function parsePin(raw: string, name: string): PinRecord {
  try {
    const p = JSON.parse(raw) as PinRecord
    if (typeof p.commit === 'string' && /^[0-9a-f]{64}$/.test(p.commit)) return p
  } catch {
    /* fall through */
  }
  throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `pin ${name} is damaged in the ref store`, { details: { pin: name } })
}
