import type { ComponentChildren } from 'preact'
import type { Loaded } from '../load.js'

/** Shows a load's progress or failure, or its content once there. */
export function Status<T>({ loaded, children }: { loaded: Loaded<T>; children: (value: T) => ComponentChildren }) {
  if (loaded.state === 'loading') return <p class="notice">Loading…</p>
  if (loaded.state === 'failed')
    return (
      <p class="notice error" role="alert">
        {loaded.error.message}
      </p>
    )
  return <>{children(loaded.value)}</>
}
