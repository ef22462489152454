import { href } from '../router.js'

export type RepoTab = 'files' | 'commits' | 'compare' | 'merge-requests' | 'branches'

/** The repository's name and its sections; the current one is marked for screen readers too. */
export function RepoNav({ repo, tab, refName }: { repo: string; tab: RepoTab; refName?: string | undefined }) {
  const link = (t: RepoTab, label: string, parts: string[]) => (
    <a href={href(['r', repo, ...parts], { ref: refName })} aria-current={t === tab ? 'page' : undefined}>
      {label}
    </a>
  )
  return (
    <nav class="repo-nav" aria-label="repository">
      <h1>
        <a href={href(['r', repo, 'tree'])}>{repo}</a>
      </h1>
      <div class="tabs">
        {link('files', 'Files', ['tree'])}
        {link('commits', 'Commits', ['log'])}
        {link('compare', 'Compare', ['compare'])}
        {link('merge-requests', 'Merge requests', ['merge-requests'])}
        {link('branches', 'Branches and tags', ['branches'])}
      </div>
    </nav>
  )
}
