import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { Session } from './api.js'

export const SessionContext = createContext<Session | undefined>(undefined)

/** The logged-in session (every page below the login has one). */
export function useLoggedIn(): Session {
  const s = useContext(SessionContext)
  if (!s) throw new Error('no session')
  return s
}
