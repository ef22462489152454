import { safeGlob } from './contracts/safe-pattern.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { HOOK_EVENTS, type HookDefinition, type HookEvent } from './hook-types.js'

/** Hooks registered in code for one open repository (`repo.hooks`). */
export class HookRegistry {
  readonly #hooks = new Map<string, HookDefinition>()

  register(hook: HookDefinition): void {
    if (!hook || typeof hook.id !== 'string' || !hook.id) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a hook needs an id')
    if (typeof hook.run !== 'function') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `hook ${hook.id} needs a run function`)
    if (!Array.isArray(hook.events) || hook.events.length === 0 || hook.events.some((e) => !HOOK_EVENTS.includes(e)))
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `hook ${hook.id}: events must be some of ${HOOK_EVENTS.join(', ')}`)
    if (this.#hooks.has(hook.id)) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a hook with id ${hook.id} is already registered`)
    this.#hooks.set(hook.id, hook)
  }

  unregister(id: string): boolean {
    return this.#hooks.delete(id)
  }

  list(): HookDefinition[] {
    return [...this.#hooks.values()]
  }

  matching(event: HookEvent, branch: string): HookDefinition[] {
    return this.list().filter((h) => h.events.includes(event) && branchMatches(h.branches, branch))
  }
}

export function branchMatches(globs: readonly string[] | undefined, branch: string): boolean {
  return !globs || globs.length === 0 || globs.some((g) => safeGlob(g).test(branch))
}
