import { useEffect, useState } from 'preact/hooks'

// The app's own routes live under /ui/ in the address bar (the server answers index.html for them),
// with the ref and path in the query: ref names and paths may both hold `/`.

export interface Route {
  /** The path after `/ui/`, split at `/` (`['r', 'lake', 'tree']`). */
  readonly parts: readonly string[]
  readonly query: URLSearchParams
}

const read = (): Route => ({
  parts: location.pathname
    .replace(/^\/ui\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p)),
  query: new URLSearchParams(location.search),
})

const listeners = new Set<() => void>()

/** A URL of the app: `/ui/` + the parts + the query (undefined values left out). */
export function href(parts: readonly string[], query: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v)
  const qs = q.toString()
  return `/ui/${parts.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`
}

export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  for (const l of listeners) l()
  if (!replace) window.scrollTo(0, 0)
}

export function useRoute(): Route {
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const update = () => setRoute(read())
    listeners.add(update)
    window.addEventListener('popstate', update)
    return () => {
      listeners.delete(update)
      window.removeEventListener('popstate', update)
    }
  }, [])
  return route
}

/** A click on an app link moves without a page load (a modified click opens a tab as usual). */
export function onLinkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
  const a = (e.target as HTMLElement | null)?.closest?.('a')
  if (!a || a.target || a.hasAttribute('download')) return
  const url = new URL(a.href, location.href)
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui/')) return
  e.preventDefault()
  navigate(url.pathname + url.search)
}
