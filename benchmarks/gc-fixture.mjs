// The repository the GC benchmarks collect: main holds `entries` paths over `live` distinct data
// objects, and `garbage` more objects nothing refers to. Built on the local store, in `lake`.
import path from 'node:path'
import { LocalBlockStore, Repository, SqliteRefStore, systemRandom } from '@varve/core'
import { NEW_TREE_FORMAT, ObjectStore, buildTree, packedRootOf } from '@varve/core/internal'

async function writeObjects(objects, n, label) {
  const addresses = new Array(n)
  let next = 0
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) {
        const i = next++
        addresses[i] = (await objects.writeData(Buffer.from(`${label} object ${i}`))).address
      }
    }),
  )
  return addresses
}

export async function buildGcRepository(lake, { entries, live, garbage }) {
  await (await Repository.init(lake)).close()
  const objects = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks'), { durable: false }), { random: systemRandom, tree: NEW_TREE_FORMAT })
  const liveAddresses = await writeObjects(objects, live, 'live')
  await writeObjects(objects, garbage, 'garbage')
  const tree = await buildTree(
    objects,
    (function* () {
      for (let i = 0; i < entries; i++)
        yield {
          path: `events/date=${String(Math.floor(i / 1000)).padStart(6, '0')}/part-${String(i).padStart(8, '0')}.parquet`,
          address: liveAddresses[i % live],
          size: 20,
          lastModified: 1,
        }
    })(),
  )
  const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
  const b = await refs.getBranch('main')
  const parent = await objects.readCommit(b.head)
  const c = await objects.writeCommit({
    parents: [b.head],
    root: tree.id,
    rootAt: packedRootOf(tree),
    message: 'bench',
    author: 'bench',
    metadata: {},
    createdAt: Date.now(),
    generation: parent.generation + 1,
  })
  await refs.updateBranch(b, { ...b, head: c.id })
  await refs.close()
}
