import type { RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import { getPin, listPins, removePin, setPin, type PinRecord } from '../../refs/pins.js'
import { resolveRevision } from '../../refs/resolve.js'
import { validateRefName } from '../../util/ref-names.js'
import { guard, guardIterable } from '../guard.js'

// Pins: named commits whose data garbage collection keeps.

export function pin(ctx: RepoContext, name: string, revision: string, options: { author?: string }): Promise<PinRecord> {
  return guard('pin', async () => {
    validateRefName(name)
    const commit = await resolveRevision(ctx, revision)
    const record: PinRecord = { name, commit, ref: revision, createdAt: ctx.clock.now(), author: options.author ?? ctx.defaultAuthor }
    await setPin(ctx.refs, record)
    return record
  })
}

export function getPinNamed(ctx: RepoContext, name: string): Promise<PinRecord> {
  return guard('getPin', async () => {
    const found = await getPin(ctx.refs, name)
    if (!found) throw new VarveError(ErrorCodes.NOT_FOUND, `no pin named ${name}`, { details: { pin: name } })
    return found
  })
}

export function pins(ctx: RepoContext): AsyncIterable<PinRecord> {
  return guardIterable('pins', () => listPins(ctx.refs))
}

export function unpin(ctx: RepoContext, name: string): Promise<void> {
  return guard('unpin', async () => {
    if (!(await removePin(ctx.refs, name))) throw new VarveError(ErrorCodes.NOT_FOUND, `no pin named ${name}`, { details: { pin: name } })
  })
}
