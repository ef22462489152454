import { VarveError } from '../../errors/varve-error.js'
import type { HookEvent, Snapshot } from '../hook-types.js'
import { CONTRACTS_PREFIX, parseContract, type Contract } from './contract-file.js'

/**
 * The rules files under `_varve/hooks/` of the destination that govern this event and branch. An invalid one raises
 * INVALID_CONFIG, with one escape so a broken file can never lock a branch: when the change itself
 * rewrites or removes that file, the change's version is used for it (and must be valid).
 */
export async function loadContracts(rules: Snapshot, only: { event: HookEvent; branch: string }, candidate?: Snapshot): Promise<Contract[]> {
  const contracts: Contract[] = []
  const ids = new Map<string, string>()
  for await (const item of rules.list({ prefix: CONTRACTS_PREFIX })) {
    if ('type' in item && item.type === 'prefix') continue
    const path = item.path
    if (!/\.ya?ml$/i.test(path)) continue
    const c = await parseOrRepair(path, rules, only, candidate)
    if (!c) continue
    const other = ids.get(c.id)
    if (other) throw new VarveError('INVALID_CONFIG', `${path}:1: contract id ${c.id} is also used by ${other}`, { details: { file: path, line: 1 } })
    ids.set(c.id, path)
    contracts.push(c)
  }
  return contracts
}

const read = async (s: Snapshot, path: string) => Buffer.from(await s.get(path)).toString('utf8')

async function parseOrRepair(path: string, rules: Snapshot, only: { event: HookEvent; branch: string }, candidate?: Snapshot): Promise<Contract | undefined> {
  const text = await read(rules, path)
  try {
    return parseContract(path, text, only)
  } catch (err) {
    if (!candidate || !VarveError.is(err, 'INVALID_CONFIG')) throw err
    const repaired = await read(candidate, path).catch((e) => (VarveError.is(e, 'NOT_FOUND') ? null : Promise.reject(e)))
    if (repaired === null) return undefined // the change removes the broken file
    if (repaired === text) throw err
    return parseContract(path, repaired, only)
  }
}
