import { useState } from 'preact/hooks'
import { request, type Session } from '../api.js'

/** The one page shown without a session: an access key and its secret, as every other client uses. */
export function LoginPage({ onLogin }: { onLogin: (s: Session) => void }) {
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    const form = new FormData(e.target as HTMLFormElement)
    setBusy(true)
    setError(undefined)
    try {
      onLogin(await request<Session>('POST', '/api/v1/session', { accessKey: form.get('accessKey'), secretKey: form.get('secretKey') }))
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <main class="login">
      <h1>Varve</h1>
      <form onSubmit={submit}>
        <label>
          Access key
          <input name="accessKey" autocomplete="username" required spellcheck={false} />
        </label>
        <label>
          Secret key
          <input name="secretKey" type="password" autocomplete="current-password" required />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  )
}
