// A repository whose main holds n entries laid out like a data lake
// (`events/date=NNNNNNNN/part-NNNNNNNN.parquet`, 1,000 per partition), built straight through the
// tree layer (n puts would mostly time fsync). Shared by run.mjs and lakefs.mjs.
import path from 'node:path'
import { LocalBlockStore, Repository, SqliteRefStore, systemRandom } from '@varve/core'
import { NEW_TREE_FORMAT, ObjectStore, buildTree, packedRootOf } from '@varve/core/internal'

export const pad = (n) => String(n).padStart(8, '0')
export const lakePath = (i) => `events/date=${pad(Math.floor(i / 1000))}/part-${pad(i)}.parquet`

/** Creates the repository at `lake` (a new folder) with n entries on main (at `pathOf(i)`); returns nothing (open it yourself). */
export async function buildLake(lake, n, pathOf = lakePath) {
  await (await Repository.init(lake, { author: 'bench' })).close()
  const objects = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks'), { durable: false }), { random: systemRandom, tree: NEW_TREE_FORMAT })
  const blob = await objects.writeData(Buffer.from('x'.repeat(64)))
  function* entries() {
    for (let i = 0; i < n; i++) yield { path: pathOf(i), address: blob.address, size: blob.size, lastModified: 1 }
  }
  const tree = await buildTree(objects, entries())
  const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
  const b = await refs.getBranch('main')
  const parent = await objects.readCommit(b.head)
  const c = await objects.writeCommit({
    parents: [b.head],
    root: tree.id,
    rootAt: packedRootOf(tree),
    message: `${n} entries`,
    author: 'bench',
    metadata: {},
    createdAt: Date.now(),
    generation: parent.generation + 1,
  })
  await refs.updateBranch(b, { ...b, head: c.id }, { ref: 'branch:main', old: b.head, new: c.id, operation: 'commit', author: 'bench', at: Date.now() })
  await refs.close()
}
