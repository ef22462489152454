// Lanes of a commit graph, as `git log --graph` draws them: commits newest first, each in the lane
// that expects it; its first parent continues the lane, other parents take lanes of their own, and
// lanes that expected the same commit join it.

export interface GraphRow {
  /** The commit's lane. */
  readonly col: number
  /** Lanes drawn through the upper half of the row (a commit id each, or null for none). */
  readonly above: readonly (string | null)[]
  /** Lanes drawn through the lower half. */
  readonly below: readonly (string | null)[]
  /** Whether a line comes down into the commit's dot (false for a branch's newest commit). */
  readonly entered: boolean
  /** Other lanes that end in this commit (they expected it too: branches that forked from it). */
  readonly joins: readonly number[]
  /** Lanes the commit's second and later parents go on in (a merge). */
  readonly forks: readonly number[]
}

export function graphRows(commits: readonly { readonly id: string; readonly parents: readonly string[] }[]): GraphRow[] {
  const lanes: (string | null)[] = []
  const take = (id: string) => {
    const free = lanes.indexOf(null)
    const at = free < 0 ? lanes.length : free
    lanes[at] = id
    return at
  }
  return commits.map((c) => {
    let col = lanes.indexOf(c.id)
    const entered = col >= 0
    if (!entered) col = take(c.id)
    const above = lanes.slice()
    const joins: number[] = []
    lanes.forEach((id, i) => {
      if (id === c.id && i !== col) {
        joins.push(i)
        lanes[i] = null
      }
    })
    lanes[col] = c.parents[0] ?? null
    const forks = c.parents.slice(1).map((p) => {
      const existing = lanes.indexOf(p)
      return existing >= 0 ? existing : take(p)
    })
    while (lanes.length && lanes[lanes.length - 1] === null) lanes.pop()
    return { col, above, below: lanes.slice(), entered, joins, forks }
  })
}
