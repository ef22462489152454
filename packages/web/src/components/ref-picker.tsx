import { useState } from 'preact/hooks'
import { enc, get, type Branch, type Tag } from '../api.js'
import { useLoad } from '../load.js'

/**
 * Picks a ref: a branch or tag from the list, or anything the API resolves (a commit id, `main~3`,
 * `main@{2}`), typed in.
 */
export function RefPicker({ repo, value, onPick }: { repo: string; value: string; onPick: (ref: string) => void }) {
  const [text, setText] = useState(value)
  const [refs] = useLoad(async () => {
    const [b, t] = await Promise.all([
      get<{ branches: Branch[] }>(`/repositories/${enc(repo)}/branches`),
      get<{ tags: Tag[] }>(`/repositories/${enc(repo)}/tags`).catch(() => ({ tags: [] })),
    ])
    return [...b.branches.map((x) => x.name), ...t.tags.map((x) => x.name)]
  }, [repo])
  const id = `refs-${repo}`
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
          list={id}
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
          aria-label="branch, tag or commit"
          autocomplete="off"
          spellcheck={false}
        />
      </label>
      <datalist id={id}>{refs.state === 'done' && refs.value.map((r) => <option key={r} value={r} />)}</datalist>
      <button type="submit">Go</button>
    </form>
  )
}
