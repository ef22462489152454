/**
 * The lanes of `log --graph`, drawn one commit at a time in the order `log` yields (children before
 * parents). Each column waits for one commit id; a merge opens a column for its second parent, and
 * columns that wait for the same commit join when it arrives.
 */
export class HistoryGraph {
  #lanes: (string | undefined)[] = []

  /** The lines to print for a commit: joins above it, its own row (`*` marks it), forks below it. */
  next(commit: { readonly id: string; readonly parents: readonly string[] }): { before: string[]; row: string; after: string[] } {
    const lanes = this.#lanes
    let col = lanes.indexOf(commit.id)
    if (col < 0) {
      col = lanes.indexOf(undefined)
      if (col < 0) col = lanes.push(undefined) - 1
      lanes[col] = commit.id
    }
    const before: string[] = []
    const joining = lanes.flatMap((id, i) => (id === commit.id && i !== col ? [i] : []))
    if (joining.length) {
      // Joined lanes close, and every lane right of the first closes up leftwards with them.
      const leaning = lanes.flatMap((id, i) => (i > joining[0]! && id !== undefined ? [i] : []))
      before.push(this.#connect([...joining, ...leaning], '/'))
      for (const i of joining.reverse()) lanes.splice(i, 1)
      this.#trim()
    }
    const row = this.#draw((i) => (i === col ? '*' : lanes[i] !== undefined ? '|' : ' '), col)
    lanes[col] = commit.parents[0]
    const opened: number[] = []
    for (const p of commit.parents.slice(1)) {
      if (lanes.includes(p)) continue
      let slot = lanes.indexOf(undefined, col + 1)
      if (slot < 0) slot = lanes.push(undefined) - 1
      lanes[slot] = p
      opened.push(slot)
    }
    const after = opened.length ? [this.#connect(opened, '\\')] : []
    this.#trim()
    return { before, row, after }
  }

  #draw(cell: (i: number) => string, atLeast = -1): string {
    const n = Math.max(this.#lanes.length, atLeast + 1)
    const cells: string[] = []
    for (let i = 0; i < n; i++) cells.push(cell(i))
    return cells.join(' ').trimEnd()
  }

  /** A line between rows: lanes go on as `|`, and each lane in `moving` leans into the one left of it. */
  #connect(moving: readonly number[], mark: '/' | '\\'): string {
    const cells: string[] = []
    for (let i = 0; i < this.#lanes.length; i++) {
      if (moving.includes(i)) cells[2 * i - 1] = mark
      else if (this.#lanes[i] !== undefined) cells[2 * i] = '|'
    }
    return Array.from(cells, (c) => c ?? ' ')
      .join('')
      .trimEnd()
  }

  #trim(): void {
    while (this.#lanes.length && this.#lanes.at(-1) === undefined) this.#lanes.pop()
  }
}
