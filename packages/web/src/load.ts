import { useEffect, useState } from 'preact/hooks'

export type Loaded<T> = { readonly state: 'loading' } | { readonly state: 'done'; readonly value: T } | { readonly state: 'failed'; readonly error: Error }

/** Runs `load` when `deps` change and gives its state; a result that arrives after the deps moved on is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ state: 'loading' })
  const [again, setAgain] = useState(0)
  useEffect(() => {
    let current = true
    setState({ state: 'loading' })
    load().then(
      (value) => current && setState({ state: 'done', value }),
      (error: Error) => current && setState({ state: 'failed', error }),
    )
    return () => {
      current = false
    }
    // (the caller names what the load depends on)
  }, [...deps, again])
  return [state, () => setAgain((n) => n + 1)]
}
