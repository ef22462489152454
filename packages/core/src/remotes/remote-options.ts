import type { Commit } from '../model/commit.js'
import type { RemoteConfig } from './remote-settings.js'
import type { SyncResult } from './sync.js'
import type { TransferProgress } from './transfer.js'

/** The options of `Repository.clone`, `fetch`, `push` and `pull` (decision 0019). */
export interface RemoteTransferOptions {
  readonly onProgress?: (progress: TransferProgress) => void
  readonly signal?: AbortSignal
  /** Requests in flight on each side (default 64). */
  readonly width?: number
  readonly author?: string
}

export interface FetchOptions extends RemoteTransferOptions {
  readonly branches?: readonly string[]
  readonly tags?: boolean
  readonly pins?: boolean
  readonly prune?: boolean
}

export interface PushOptions extends RemoteTransferOptions {
  /** Local branches to push (default: the default branch). */
  readonly branches?: readonly string[]
  readonly force?: boolean
  readonly forceWithLease?: boolean | string
  /**
   * For a remote branch that takes changes through merge requests: push each branch to
   * `push/<branch>/<head>` there instead and open a merge request from it into `<branch>` (title and
   * description optional). The result lists them in `mergeRequests`.
   */
  readonly mergeRequest?: boolean | { readonly title?: string; readonly description?: string }
  readonly tags?: boolean
  readonly pins?: boolean
}

export interface PullOptions extends RemoteTransferOptions {
  /** The branch to pull (default: the default branch), from the remote branch of the same name. */
  readonly branch?: string
  readonly message?: string
}

export interface PullResult extends SyncResult {
  readonly branch: string
  /** 'up-to-date', 'fast-forward' or 'merged'. */
  readonly outcome: 'up-to-date' | 'fast-forward' | 'merged'
  readonly head: string
  /** The merge, when one was made (`Repository.merge`'s result). */
  readonly merge?: { readonly commit: Commit; readonly upToDate: boolean }
}

export interface CloneOptions extends RemoteTransferOptions {
  /** Fetch data only under this prefix; reads elsewhere fail with NOT_FETCHED (or fetch lazily with `lazy`). */
  readonly prefix?: string
  /** Fetch no data: reads fetch it from the origin on demand (cached, checked against its address). */
  readonly lazy?: boolean
  /** Adapter options of the origin (e.g. its own S3 endpoint), stored with the remote. */
  readonly s3?: RemoteConfig['s3']
}
