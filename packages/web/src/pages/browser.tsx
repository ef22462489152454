import { useEffect } from 'preact/hooks'
import { ApiError, enc, get, readRange, type Change, type Listing } from '../api.js'
import { RefPicker } from '../components/ref-picker.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { baseName, bytes, when } from '../format.js'
import { useLoad } from '../load.js'
import { href, navigate } from '../router.js'
import { defaultRef } from './default-ref.js'

/** Entries a page shows: a folder of a million entries is read a page at a time, never whole. */
const PAGE = 100

interface Folder {
  readonly listing: Listing
  /** Uncommitted changes under the folder, by path (a branch only). */
  readonly changes: ReadonlyMap<string, Change['type']>
}

/** The object browser: a folder of a ref, a page at a time, with uncommitted changes marked. */
export function BrowserPage({ repo, refName, path, after }: { repo: string; refName: string | undefined; path: string; after: string | undefined }) {
  useEffect(() => {
    if (refName === undefined) void defaultRef(repo).then((ref) => navigate(href(['r', repo, 'tree'], { ref, path }), true))
  }, [repo, refName, path])
  const [folder] = useLoad(async (): Promise<Folder> => {
    if (refName === undefined) return new Promise<never>(() => {})
    const r = `/repositories/${enc(repo)}`
    const [listing, changes] = await Promise.all([
      get<Listing>(`${r}/objects`, { ref: refName, prefix: path, delimiter: '/', limit: String(PAGE), after }),
      // Only a branch has uncommitted changes; for a tag or commit the route answers that it is no branch.
      get<{ changes: Change[] }>(`${r}/branches/${enc(refName)}/changes`, { prefix: path, limit: '1000' }).catch((err: unknown) =>
        err instanceof ApiError ? { changes: [] } : Promise.reject(err),
      ),
    ])
    return { listing, changes: new Map(changes.changes.map((c) => [c.path, c.type])) }
  }, [repo, refName, path, after])
  if (refName === undefined) return <p class="notice">Loading…</p>
  const folderChanged = (prefix: string, changes: ReadonlyMap<string, Change['type']>) => [...changes.keys()].some((p) => p.startsWith(prefix))
  return (
    <section>
      <RepoNav repo={repo} tab="files" refName={refName} />
      <div class="toolbar">
        <RefPicker key={refName} repo={repo} value={refName} onPick={(ref) => navigate(href(['r', repo, 'tree'], { ref, path }))} />
        <a class="button" href={href(['r', repo, 'log'], { ref: refName, path })}>
          History of this folder
        </a>
        <a class="button" href={href(['r', repo, 'search'], { ref: refName, prefix: path })}>
          Search paths
        </a>
      </div>
      <Breadcrumbs repo={repo} refName={refName} path={path} />
      <Status loaded={folder}>
        {({ listing, changes }) => (
          <>
            <table class="listing">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" class="num">
                    Size
                  </th>
                  <th scope="col" class="wide">
                    Modified
                  </th>
                </tr>
              </thead>
              <tbody>
                {listing.prefixes.length + listing.objects.length === 0 && (
                  <tr>
                    <td colSpan={3} class="notice">
                      {after ? 'Nothing more here.' : 'Nothing here.'}
                    </td>
                  </tr>
                )}
                {merged(listing).map((item) =>
                  item.kind === 'prefix' ? (
                    <tr key={item.path}>
                      <td>
                        <a class="folder" href={href(['r', repo, 'tree'], { ref: refName, path: item.path })}>
                          {baseName(item.path)}
                        </a>
                        {folderChanged(item.path, changes) && <span class="badge changed">changed</span>}
                      </td>
                      <td />
                      <td class="wide" />
                    </tr>
                  ) : (
                    <tr key={item.path}>
                      <td>
                        <a class="file" href={href(['r', repo, 'object'], { ref: refName, path: item.path })}>
                          {baseName(item.path)}
                        </a>
                        {changes.has(item.path) && <span class={`badge ${changes.get(item.path)}`}>{changes.get(item.path)}</span>}
                      </td>
                      <td class="num">{bytes(item.size)}</td>
                      <td class="wide">{when(item.lastModified)}</td>
                    </tr>
                  ),
                )}
              </tbody>
            </table>
            <Removed changes={changes} path={path} />
            <Readme repo={repo} refName={refName} listing={listing} />
            <nav class="pager" aria-label="pages">
              {after !== undefined && <a href={href(['r', repo, 'tree'], { ref: refName, path })}>First page</a>}
              {listing.truncated && listing.next && <a href={href(['r', repo, 'tree'], { ref: refName, path, after: listing.next })}>Next page</a>}
            </nav>
          </>
        )}
      </Status>
    </section>
  )
}

type Item = { kind: 'prefix'; path: string } | { kind: 'object'; path: string; size: number; lastModified: number }

/** Folders and objects in the listing's path order, as S3 interleaves them. */
function merged(listing: Listing): Item[] {
  const items: Item[] = [
    ...listing.prefixes.map((p) => ({ kind: 'prefix' as const, path: p })),
    ...listing.objects.map((o) => ({ kind: 'object' as const, path: o.path, size: o.size, lastModified: o.lastModified })),
  ]
  return items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** Paths removed on the branch and not yet committed: they are no longer listed, so they are named here. */
function Removed({ changes, path }: { changes: ReadonlyMap<string, Change['type']>; path: string }) {
  const removed = [...changes].filter(([p, t]) => t === 'removed' && !p.slice(path.length).includes('/')).map(([p]) => p)
  if (!removed.length) return null
  return (
    <p class="notice">
      Removed, not yet committed:{' '}
      {removed.map((p) => (
        <span key={p} class="badge removed">
          {baseName(p)}
        </span>
      ))}
    </p>
  )
}

export function Breadcrumbs({ repo, refName, path }: { repo: string; refName: string; path: string }) {
  const segments = path.split('/').filter(Boolean)
  const folderOf = (i: number) => `${segments.slice(0, i + 1).join('/')}/`
  return (
    <nav class="crumbs" aria-label="path">
      <a href={href(['r', repo, 'tree'], { ref: refName })}>{repo}</a>
      {segments.map((s, i) => (
        <span key={folderOf(i)}>
          {' / '}
          {i === segments.length - 1 && !path.endsWith('/') ? (
            <span aria-current="page">{s}</span>
          ) : (
            <a href={href(['r', repo, 'tree'], { ref: refName, path: folderOf(i) })}>{s}</a>
          )}
        </span>
      ))}
    </nav>
  )
}

/** README text a folder page reads at most. */
const README_BYTES = 256 * 1024

/** A folder's README.md, rendered under its listing (as code hosts do). */
function Readme({ repo, refName, listing }: { repo: string; refName: string; listing: Listing }) {
  const readme = listing.objects.find((o) => /(^|\/)readme\.md$/i.test(o.path))
  const [html] = useLoad(async () => {
    if (!readme || readme.size === 0) return undefined
    const [{ renderMarkdown }, bytes] = await Promise.all([
      import('../markdown.js'),
      readRange(repo, refName, readme.path, 0, Math.min(readme.size, README_BYTES)),
    ])
    return renderMarkdown(new TextDecoder().decode(bytes))
  }, [repo, refName, readme?.path, readme?.address])
  if (!readme || html.state !== 'done' || !html.value) return null
  return (
    <article class="readme" aria-label={baseName(readme.path)}>
      {/* (renderMarkdown escapes raw HTML and unsafe links; the page's policy runs no inline script) */}
      <div dangerouslySetInnerHTML={{ __html: html.value }} />
    </article>
  )
}
