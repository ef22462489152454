import { VarveError } from '../../errors/varve-error.js'
import type { Snapshot } from '../hook-types.js'
import { CONTRACTS_PREFIX, parseContract, type Contract } from './contract-file.js'

/** Every rules file under `_varve/hooks/` of a commit, parsed. Invalid ones raise INVALID_CONFIG. */
export async function loadContracts(snapshot: Snapshot): Promise<Contract[]> {
  const contracts: Contract[] = []
  const ids = new Map<string, string>()
  for await (const item of snapshot.list({ prefix: CONTRACTS_PREFIX })) {
    if ('type' in item && item.type === 'prefix') continue
    const path = item.path
    if (!/\.ya?ml$/i.test(path)) continue
    const text = Buffer.from(await snapshot.get(path)).toString('utf8')
    const c = parseContract(path, text)
    const other = ids.get(c.id)
    if (other) throw new VarveError('INVALID_CONFIG', `${path}:1: contract id ${c.id} is also used by ${other}`, { details: { file: path, line: 1 } })
    ids.set(c.id, path)
    contracts.push(c)
  }
  return contracts
}
