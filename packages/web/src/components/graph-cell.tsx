import type { GraphRow } from '../commit-graph.js'

const W = 14
const H = 28

/** One row of the commit graph as SVG: lanes through it, the commit's dot, joins and forks. */
export function GraphCell({ row, width, merge }: { row: GraphRow; width: number; merge: boolean }) {
  const x = (i: number) => i * W + W / 2
  const mid = H / 2
  return (
    <svg class="graph" width={width * W} height={H} viewBox={`0 0 ${width * W} ${H}`} aria-hidden="true">
      {row.above.map(
        (id, i) => id !== null && (i !== row.col || row.entered) && !row.joins.includes(i) && <line key={`a${i}`} x1={x(i)} y1={0} x2={x(i)} y2={mid} />,
      )}
      {row.joins.map((i) => (
        <line key={`j${i}`} x1={x(i)} y1={0} x2={x(row.col)} y2={mid} />
      ))}
      {row.below.map(
        (id, i) =>
          id !== null &&
          (i === row.col || !row.forks.includes(i) || row.above[i] === id) && <line key={`b${i}`} x1={i === row.col ? x(i) : x(i)} y1={mid} x2={x(i)} y2={H} />,
      )}
      {row.forks.map((i) => (
        <line key={`f${i}`} x1={x(row.col)} y1={mid} x2={x(i)} y2={H} />
      ))}
      <circle cx={x(row.col)} cy={mid} r={merge ? 5 : 4} class={merge ? 'merge' : undefined} />
    </svg>
  )
}
