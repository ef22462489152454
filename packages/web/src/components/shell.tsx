import type { ComponentChildren } from 'preact'
import { request } from '../api.js'
import { useLoggedIn } from '../session.js'

/** The frame of every page: where you are, who you are, and the way out. */
export function Shell({ children, onLogout }: { children: ComponentChildren; onLogout: () => void }) {
  const session = useLoggedIn()
  const logout = async () => {
    await request('DELETE', '/api/v1/session').catch(() => {})
    onLogout()
  }
  return (
    <>
      <header class="top">
        <a class="brand" href="/ui/">
          Varve
        </a>
        <span class="who" title="the access key you are logged in with">
          {session.accessKey}
        </span>
        <button type="button" class="quiet" onClick={logout}>
          Log out
        </button>
      </header>
      <main>{children}</main>
    </>
  )
}
