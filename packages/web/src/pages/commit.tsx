import { enc, get, post, type Change, type Commit } from '../api.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { shortId, when } from '../format.js'
import { useLoad } from '../load.js'
import { href, navigate } from '../router.js'
import { useState } from 'preact/hooks'
import { can } from '../grants.js'
import { useLoggedIn } from '../session.js'
import { countByFolder } from '../change-counts.js'

/** Changes a commit page lists at most (the counts per folder cover the same page). */
const CHANGES = 1000

/** A commit: its message, who wrote and made it, its parents and metadata, and what it changed. */
export function CommitPage({ repo, id }: { repo: string; id: string }) {
  const session = useLoggedIn()
  const [commit] = useLoad(async () => {
    const c = await get<Commit>(`/repositories/${enc(repo)}/commits/${enc(id)}`)
    const parent = c.parents[0]
    const diff = parent
      ? await get<{ changes: Change[]; truncated: boolean }>(`/repositories/${enc(repo)}/diff`, { left: parent, right: c.id, limit: String(CHANGES) })
      : undefined
    return { c, diff }
  }, [repo, id])
  return (
    <section>
      <RepoNav repo={repo} tab="commits" />
      <Status loaded={commit}>
        {({ c, diff }) => (
          <>
            <h2 class="commit-message">{c.message.split('\n')[0]}</h2>
            {c.message.includes('\n') && <pre class="text">{c.message.slice(c.message.indexOf('\n') + 1).trim()}</pre>}
            <dl class="facts">
              <dt>Commit</dt>
              <dd class="mono">{c.id}</dd>
              <dt>Author</dt>
              <dd>{c.author}</dd>
              {c.committer && c.committer !== c.author && (
                <>
                  <dt>Committer</dt>
                  <dd>{c.committer}</dd>
                </>
              )}
              <dt>Date</dt>
              <dd>{when(c.createdAt)}</dd>
              <dt>Parents</dt>
              <dd>
                {c.parents.length
                  ? c.parents.map((p) => (
                      <a key={p} class="mono" href={href(['r', repo, 'commit', p])}>
                        {shortId(p)}{' '}
                      </a>
                    ))
                  : 'none (the first commit)'}
              </dd>
              {Object.entries(c.metadata ?? {}).map(([k, v]) => (
                <>
                  <dt key={`k-${k}`}>{k === 'code' ? 'Code' : k}</dt>
                  <dd key={`v-${k}`}>{k === 'code' && isLineage(v) ? <CodeLineage code={v} /> : typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                </>
              ))}
            </dl>
            <div class="actions">
              <a class="button" href={href(['r', repo, 'tree'], { ref: c.id })}>
                Browse files at this commit
              </a>
              <a class="button" href={href(['r', repo, 'compare'], { left: c.parents[0], right: c.id })}>
                Compare with its parent
              </a>
            </div>
            {can(session, 'commit', repo) && <ApplyCommit repo={repo} commit={c} />}
            {diff && <ChangeList repo={repo} refName={c.id} changes={diff.changes} truncated={diff.truncated} />}
          </>
        )}
      </Status>
    </section>
  )
}

/**
 * Changes with a count per folder, then each path (linked to the object where it still exists). The
 * folders are those one level below what every change shares (`weather/day=…/` when all changes are
 * under `weather/`), so the counts say where a change went.
 */
export function ChangeList({
  repo,
  refName,
  changes,
  truncated,
  linkTo,
  level = 3,
}: {
  repo: string
  refName: string
  changes: Change[]
  truncated: boolean
  /** Where a path links (default: the object at `refName`; a compare page links its file diff). */
  linkTo?: (path: string) => string
  /** The heading's level where the list sits (a page's first section: 2). */
  level?: 2 | 3
}) {
  const Heading = level === 2 ? 'h2' : 'h3'
  const counts = countByFolder(changes)
  return (
    <>
      <Heading>
        {changes.length}
        {truncated ? '+' : ''} changed {changes.length === 1 ? 'path' : 'paths'}
      </Heading>
      <table class="listing counts">
        <thead>
          <tr>
            <th scope="col">Folder</th>
            <th scope="col" class="num">
              Added
            </th>
            <th scope="col" class="num">
              Changed
            </th>
            <th scope="col" class="num">
              Removed
            </th>
          </tr>
        </thead>
        <tbody>
          {[...counts].map(([top, c]) => (
            <tr key={top}>
              <td>{top}</td>
              <td class="num added">{c.added || ''}</td>
              <td class="num changed">{c.changed || ''}</td>
              <td class="num removed">{c.removed || ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ul class="changes">
        {changes.map((ch) => (
          <li key={ch.path}>
            <span class={`badge ${ch.type}`}>{ch.type}</span>{' '}
            {linkTo ? (
              <a href={linkTo(ch.path)}>{ch.path}</a>
            ) : ch.type === 'removed' ? (
              <span class="mono">{ch.path}</span>
            ) : (
              <a href={href(['r', repo, 'object'], { ref: refName, path: ch.path })}>{ch.path}</a>
            )}
          </li>
        ))}
      </ul>
    </>
  )
}

/** Revert this commit on a branch, or cherry-pick it onto one (each a new commit there, through its gates). */
function ApplyCommit({ repo, commit }: { repo: string; commit: Commit }) {
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const apply = async (e: Event, kind: 'reverts' | 'cherry-picks') => {
    e.preventDefault()
    const branch = String(new FormData((e.target as HTMLElement).closest('form')!).get('branch') ?? '').trim()
    if (!branch) return
    setBusy(true)
    setError(undefined)
    try {
      const made = await post<Commit>(`/repositories/${enc(repo)}/branches/${enc(branch)}/${kind}`, {
        commit: commit.id,
        ...(commit.parents.length > 1 ? { parent: 1 } : {}),
      })
      navigate(href(['r', repo, 'commit', made.id]))
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="inline-form" aria-label="revert or cherry-pick" onSubmit={(e) => e.preventDefault()}>
      <label>
        On branch
        <input name="branch" required spellcheck={false} autocomplete="off" placeholder="main" />
      </label>
      <button type="button" disabled={busy} onClick={(e) => apply(e, 'reverts')}>
        Revert this commit
      </button>
      <button type="button" disabled={busy} onClick={(e) => apply(e, 'cherry-picks')}>
        Cherry-pick this commit
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

interface Lineage {
  readonly repo: string
  readonly commit: string | null
  readonly branch: string | null
  readonly dirty: boolean
}
const isLineage = (v: unknown): v is Lineage => typeof v === 'object' && v !== null && typeof (v as Lineage).repo === 'string'

/** The code a commit was made with (`varve commit --lineage`): its git repository, commit and branch. */
function CodeLineage({ code }: { code: Lineage }) {
  return (
    <span class="lineage">
      <span class="mono">{code.repo}</span> at <span class="mono">{code.commit ? code.commit.slice(0, 12) : '(no commit)'}</span>
      {code.branch ? ` on ${code.branch}` : ' (detached)'}
      {code.dirty && <span class="badge changed">uncommitted changes</span>}
    </span>
  )
}
