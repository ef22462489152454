import { useEffect, useState } from 'preact/hooks'
import { ApiError, request, useSession, type Session } from './api.js'
import { Shell } from './components/shell.js'
import { BranchesPage } from './pages/branches.js'
import { BrowserPage } from './pages/browser.js'
import { CommitPage } from './pages/commit.js'
import { ComparePage } from './pages/compare.js'
import { MergeRequestPage } from './pages/merge-request.js'
import { MergeRequestsPage } from './pages/merge-requests.js'
import { GcPage } from './pages/gc.js'
import { LogPage } from './pages/log.js'
import { LoginPage } from './pages/login.js'
import { ObjectPage } from './pages/object.js'
import { RefLogPage } from './pages/reflog.js'
import { RepositoriesPage } from './pages/repositories.js'
import { RunsPage } from './pages/runs.js'
import { SearchPage } from './pages/search.js'
import { useRoute } from './router.js'
import { SessionContext } from './session.js'

export function App() {
  // undefined: asking the server; null: nobody is logged in.
  const [session, setSession] = useState<Session | null | undefined>(undefined)
  const [problem, setProblem] = useState<string>()
  useEffect(() => {
    request<Session>('GET', '/api/v1/session').then(setSession, (err: unknown) => {
      if (err instanceof ApiError && err.status === 401) setSession(null)
      else setProblem(err instanceof Error ? err.message : String(err))
    })
  }, [])
  useSession(session ?? undefined, () => setSession(null))
  if (problem) return <p class="notice error">The server could not be reached: {problem}</p>
  if (session === undefined) return <p class="notice">Loading…</p>
  if (session === null) return <LoginPage onLogin={setSession} />
  return (
    <SessionContext.Provider value={session}>
      <Shell onLogout={() => setSession(null)}>
        <Page />
      </Shell>
    </SessionContext.Provider>
  )
}

function Page() {
  const { parts, query } = useRoute()
  if (parts.length === 0) return <RepositoriesPage />
  if (parts[0] === 'r' && parts[1]) {
    const repo = parts[1]
    const ref = query.get('ref') ?? undefined
    const path = query.get('path') ?? ''
    switch (parts[2] ?? 'tree') {
      case 'tree':
        return <BrowserPage repo={repo} refName={ref} path={path} after={query.get('after') ?? undefined} />
      case 'object':
        return <ObjectPage repo={repo} refName={ref ?? ''} path={path} />
      case 'log':
        return <LogPage repo={repo} refName={ref} path={path} />
      case 'commit':
        return <CommitPage repo={repo} id={parts[3] ?? ''} />
      case 'branches':
        return <BranchesPage repo={repo} />
      case 'gc':
        return <GcPage repo={repo} />
      case 'reflog':
        return <RefLogPage repo={repo} refName={ref ?? 'main'} />
      case 'runs':
        return <RunsPage repo={repo} branch={query.get('branch') ?? undefined} />
      case 'search':
        return (
          <SearchPage
            repo={repo}
            refName={ref ?? 'main'}
            prefix={query.get('prefix') ?? ''}
            glob={query.get('glob') ?? ''}
            after={query.get('after') ?? undefined}
          />
        )
      case 'compare':
        return <ComparePage repo={repo} left={query.get('left') ?? ''} right={query.get('right') ?? ''} path={path} after={query.get('after') ?? undefined} />
      case 'merge-requests':
        return parts[3] ? <MergeRequestPage repo={repo} id={parts[3]} /> : <MergeRequestsPage repo={repo} state={query.get('state') ?? 'open'} />
    }
  }
  return (
    <p class="notice">
      No such page. <a href="/ui/">Repositories</a>
    </p>
  )
}
