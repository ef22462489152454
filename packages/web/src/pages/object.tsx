import { useState } from 'preact/hooks'
import { apiUrl, enc, get, type Commit, type ObjectEntry } from '../api.js'
import { RefPicker } from '../components/ref-picker.js'
import { RepoNav } from '../components/repo-nav.js'
import { Status } from '../components/status.js'
import { baseName, bytes, shortId, when } from '../format.js'
import { href, navigate } from '../router.js'
import { useLoad } from '../load.js'
import { Breadcrumbs } from './browser.js'
import { Preview } from './preview.js'

/** One object: what it is (size, address, metadata, pack, source), its bytes, and a preview. */
export function ObjectPage({ repo, refName, path }: { repo: string; refName: string; path: string }) {
  const [entry] = useLoad(() => get<ObjectEntry>(`/repositories/${enc(repo)}/objects/stat`, { ref: refName, path }), [repo, refName, path])
  const [copied, setCopied] = useState<string>()
  const s3Uri = `s3://${repo}/${refName}/${path}`
  const [blame] = useLoad(
    () => get<{ lines: { path: string; commit: Commit }[] }>(`/repositories/${enc(repo)}/blame`, { ref: refName, prefix: path, limit: '5' }),
    [repo, refName, path],
  )
  const last = blame.state === 'done' ? blame.value.lines.find((l) => l.path === path)?.commit : undefined
  const presign = async () => {
    try {
      const r = await get<{ url: string; expiresAt: string }>(`/repositories/${enc(repo)}/objects/presign`, { ref: refName, path, expires: '3600' })
      await copy(r.url)
      setLink(r)
    } catch (err) {
      setLink({ url: '', expiresAt: '', error: err instanceof Error ? err.message : String(err) })
    }
  }
  const [link, setLink] = useState<{ url: string; expiresAt: string; error?: string }>()
  const copy = async (text: string) => {
    await navigator.clipboard?.writeText(text).catch(() => {})
    setCopied(text)
  }
  return (
    <section>
      <RepoNav repo={repo} tab="files" refName={refName} />
      <div class="toolbar">
        <RefPicker key={refName} repo={repo} value={refName} onPick={(ref) => navigate(href(['r', repo, 'object'], { ref, path }))} />
      </div>
      <Breadcrumbs repo={repo} refName={refName} path={path} />
      <Status loaded={entry}>
        {(e) => (
          <>
            <div class="actions">
              <a class="button" href={apiUrl(`/repositories/${enc(repo)}/objects/content`, { ref: refName, path })} download={baseName(path)}>
                Download
              </a>
              <button type="button" onClick={() => copy(s3Uri)}>
                Copy S3 URI
              </button>
              <button type="button" onClick={presign}>
                Presigned link
              </button>
              <a class="button" href={href(['r', repo, 'log'], { ref: refName, path })}>
                History
              </a>
              {copied && !link && (
                <span class="notice" role="status">
                  Copied {copied}
                </span>
              )}
            </div>
            {link && (
              <p class={link.error ? 'notice error' : 'notice'} role="status">
                {link.error ?? (
                  <>
                    A link that reads this object for an hour with your key's rights (copied): <code class="link">{link.url}</code>
                  </>
                )}
              </p>
            )}
            <dl class="facts">
              <dt>Size</dt>
              <dd>
                {bytes(e.size)} ({e.size.toLocaleString('en')} bytes)
              </dd>
              <dt>Address</dt>
              <dd class="mono">{e.address}</dd>
              <dt>Modified</dt>
              <dd>{when(e.lastModified)}</dd>
              {e.contentType && (
                <>
                  <dt>Content type</dt>
                  <dd>{e.contentType}</dd>
                </>
              )}
              {e.pack && (
                <>
                  <dt>Pack</dt>
                  <dd class="mono">
                    {e.pack} at {e.offset}
                  </dd>
                </>
              )}
              {e.external && (
                <>
                  <dt>Imported from</dt>
                  <dd class="mono">
                    {e.external.source} {e.external.key}
                    {e.external.versionId ? ` (version ${e.external.versionId})` : e.external.etag ? ` (ETag ${e.external.etag})` : ''}
                  </dd>
                </>
              )}
              {last && (
                <>
                  <dt>Last changed</dt>
                  <dd>
                    <a href={href(['r', repo, 'commit', last.id])}>{shortId(last.id)}</a> {last.message.split('\n')[0]} · {last.author} · {when(last.createdAt)}
                  </dd>
                </>
              )}
              <dt>S3 URI</dt>
              <dd class="mono">{s3Uri}</dd>
              {Object.entries(e.metadata ?? {}).map(([k, v]) => (
                <>
                  <dt key={`k-${k}`}>{k}</dt>
                  <dd key={`v-${k}`}>{v}</dd>
                </>
              ))}
            </dl>
            <Preview repo={repo} refName={refName} entry={e} />
          </>
        )}
      </Status>
    </section>
  )
}
