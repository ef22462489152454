import type { BlockStore } from '../stores/block-store.js'
import type { RefStore } from '../stores/ref-store.js'
import { BucketBlockStore } from './bucket-block-store.js'
import { BucketRefStore } from './bucket-ref-store.js'
import type { Bucket } from './bucket.js'
import { probeConditionalWrites } from './conditional-write-probe.js'
import { ProbeOnFirstWrite } from './probe-on-first-write.js'

export interface BucketStoresOptions {
  /** A repository is being created: probe now, before anything is written (else before the first ref write). */
  readonly create?: boolean
  /** Open a store that ignores conditional writes anyway (one writer at a time only). */
  readonly unsafeSingleWriter?: boolean
  /** UTF-8 bytes of the store's own key prefix (they count against the 1,024-byte key limit). */
  readonly prefixBytes?: number
  /** A store's own block store (S3's, with multipart uploads and presigned reads) instead of the generic one. */
  readonly blocks?: BlockStore
}

/**
 * A repository's stores in one bucket, as an adapter's scheme opener returns them: the generic block
 * store (or the adapter's own) and the ref protocol, behind the conditional-write probe (decision
 * 0020): at once when creating a repository, else before the first ref write (readers never probe).
 * The ref store owns the bucket and closes it.
 */
export async function openBucketStores(bucket: Bucket, options: BucketStoresOptions = {}): Promise<{ blocks: BlockStore; refs: RefStore }> {
  const probe = () => probeConditionalWrites(bucket, options.unsafeSingleWriter ? { unsafeSingleWriter: true } : {})
  const refs = new BucketRefStore(bucket, { prefixBytes: options.prefixBytes ?? 0 })
  if (options.create) await probe()
  return {
    blocks: options.blocks ?? new BucketBlockStore(bucket, { ownsBucket: false }),
    refs: options.create ? refs : new ProbeOnFirstWrite(refs, probe),
  }
}
