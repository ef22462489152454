import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { Bucket } from './bucket.js'

/** Stores found to honour preconditions in this process: a server or a script opening many repositories probes each store once. */
const probed = new Set<string>()

export interface ProbeOptions {
  /**
   * Skip the refusal: the caller promises that one writer at a time uses the repository, so
   * conditional writes are not needed (`--unsafe-single-writer`). The probe still runs and its finding
   * is returned.
   */
  readonly unsafeSingleWriter?: boolean
}

/**
 * Checks that the store honours the conditions the ref protocol depends on, with four writes to a
 * key of its own (then deleted): a create succeeds, a second create of the same key is refused, an
 * update from a wrong version is refused and one from the current version succeeds. Some S3-compatible
 * stores (Backblaze B2, older Ceph, some gateways) accept the headers and ignore them: on those, two
 * machines committing at once would silently overwrite each other. Returns what was found
 * ('honoured' or the first ignored condition); throws CONDITIONAL_WRITES_IGNORED unless the caller
 * opted out.
 */
export async function probeConditionalWrites(bucket: Bucket, options: ProbeOptions = {}): Promise<'honoured' | string> {
  if (probed.has(bucket.url)) return 'honoured'
  const key = `probe/conditional-writes-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`
  const body = (n: number) => new TextEncoder().encode(`{"probe":${n}}`)
  let finding = 'honoured'
  try {
    const v1 = await bucket.put(key, body(1), 'create')
    if (v1 === undefined) finding = 'a create of a new key was refused'
    else if ((await bucket.put(key, body(2), 'create')) !== undefined) finding = 'a second create of one key (If-None-Match: *) succeeded'
    else if ((await bucket.put(key, body(3), { update: staleVersion(v1) })) !== undefined)
      finding = 'an update from a version the object does not have (If-Match) succeeded'
    else if ((await bucket.put(key, body(4), { update: v1 })) === undefined) finding = 'an update from the current version was refused'
  } finally {
    await bucket.delete(key).catch(() => {})
  }
  if (finding === 'honoured') probed.add(bucket.url)
  else if (!options.unsafeSingleWriter)
    throw new VarveError(
      ErrorCodes.CONDITIONAL_WRITES_IGNORED,
      `${bucket.url} does not honour conditional writes (${finding}): several writers would overwrite each other's branches. ` +
        'Use a store that does, or open it with --unsafe-single-writer if only one writer ever uses it',
      { details: { location: bucket.url, finding } },
    )
  return finding
}

/** A version unlike `v` of the same shape (a quoted ETag stays quoted, a GCS generation stays a number). */
function staleVersion(v: string): string {
  if (/^\d+$/.test(v)) return String(BigInt(v) + 7919n)
  return v.startsWith('"') ? '"00000000000000000000000000000000"' : '0x00000000DEADBEEF'
}
