import { useState } from 'preact/hooks'
import { enc, get, type Branch, type Tag } from '../api.js'
import { useLoad } from '../load.js'

/** The repository's branch and tag names (for suggestions), or none when they cannot be read. */
export function useRefNames(repo: string): string[] {
  const [refs] = useLoad(async () => {
    const [b, t] = await Promise.all([
      get<{ branches: Branch[] }>(`/repositories/${enc(repo)}/branches`),
      get<{ tags: Tag[] }>(`/repositories/${enc(repo)}/tags`).catch(() => ({ tags: [] })),
    ])
    return [...b.branches.map((x) => x.name), ...t.tags.map((x) => x.name)]
  }, [repo])
  return refs.state === 'done' ? refs.value : []
}

/** Suggestions for ref inputs: `<input list={id}>`. */
export function RefList({ id, names }: { id: string; names: readonly string[] }) {
  return (
    <datalist id={id}>
      {names.map((r) => (
        <option key={r} value={r} />
      ))}
    </datalist>
  )
}

/**
 * Picks a ref: a branch or tag from the list, or anything the API resolves (a commit id, `main~3`,
 * `main@{2}`), typed in.
 */
export function RefPicker({ repo, value, onPick }: { repo: string; value: string; onPick: (ref: string) => void }) {
  const [text, setText] = useState(value)
  const names = useRefNames(repo)
  return (
    <form
      class="ref-picker"
      onSubmit={(e) => {
        e.preventDefault()
        if (text.trim()) onPick(text.trim())
      }}
    >
      <label>
        <span class="label">Ref</span>
        <input
          name="ref"
          list="ref-names"
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
          aria-label="branch, tag or commit"
          autocomplete="off"
          spellcheck={false}
        />
      </label>
      <RefList id="ref-names" names={names} />
      <button type="submit">Go</button>
    </form>
  )
}
