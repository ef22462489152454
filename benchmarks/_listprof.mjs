import fs from 'node:fs/promises'; import path from 'node:path'
import { LocalBlockStore, Repository, SqliteRefStore, systemRandom } from '@varve/core'
import { ObjectStore, buildTree, scanEntries } from '@varve/core/internal'
const lake = '/tmp/listprof-lake'
const n = 300000
if (!(await fs.stat(lake).catch(() => null))) {
  await (await Repository.init(lake)).close()
  const o = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks'), { durable: false }), { random: systemRandom })
  function* es() { for (let i = 0; i < n; i++) yield { path: `events/date=${String(Math.floor(i/1000)).padStart(8,'0')}/part-${String(i).padStart(8,'0')}.parquet`, address: 'a'.repeat(64), size: 64, lastModified: 1 } }
  const t = await buildTree(o, es())
  const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3')); const b = await refs.getBranch('main')
  const c = await o.writeCommit({ parents: [b.head], root: t.id, message: 'x', author: 'x', metadata: {}, createdAt: 1, generation: 2 })
  await refs.updateBranch(b, { ...b, head: c.id }); await refs.close()
}
for (let pass = 0; pass < 2; pass++) {
  const repo = await Repository.open(lake)
  const root = (await repo.getCommit('main')).root
  const o = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks')), { random: systemRandom })
  let t0 = performance.now(); let k = 0
  for await (const b of scanEntries(o, root)) k += b.length
  const scan = k / ((performance.now() - t0) / 1000)
  t0 = performance.now(); k = 0
  for await (const _ of repo.list('main')) k++
  const list = k / ((performance.now() - t0) / 1000)
  t0 = performance.now(); k = 0
  for await (const _ of repo.list('main~0')) k++
  const listc = k / ((performance.now() - t0) / 1000)
  console.log({ scan: Math.round(scan), listBranch: Math.round(list), listCommit: Math.round(listc) })
  await repo.close()
}
