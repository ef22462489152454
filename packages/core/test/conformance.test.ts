import path from 'node:path'
import { LocalBlockStore, Repository, SqliteRefStore } from '@varve/core'
import { ForwardingRefStore } from '@varve/core'
import { blockStoreConformance, PausingRefStore, refStoreConformance, repositoryBehaviour, StepGate } from '@varve/core/testing'
import { tempDir } from './helpers.js'

// The same suites run against S3 on MinIO in packages/s3-adapter.
blockStoreConformance('LocalBlockStore (directory)', async () => {
  const t = await tempDir('blocks')
  return { store: new LocalBlockStore(t.dir), cleanup: t.cleanup }
})

refStoreConformance('SqliteRefStore (one file, WAL)', async () => {
  const t = await tempDir('refs')
  const store = new SqliteRefStore(path.join(t.dir, 'refs.sqlite3'))
  return {
    store,
    cleanup: async () => {
      await store.close()
      await t.cleanup()
    },
  }
})

// The wrappers tests build on must pass every argument through (a dropped ref-log entry would go unseen).
refStoreConformance('ForwardingRefStore and PausingRefStore over SqliteRefStore', async () => {
  const t = await tempDir('refs-wrapped')
  const inner = new SqliteRefStore(path.join(t.dir, 'refs.sqlite3'))
  const store = new PausingRefStore(new ForwardingRefStore(inner), new StepGate(), 'test', () => false)
  return {
    store,
    cleanup: async () => {
      await inner.close()
      await t.cleanup()
    },
  }
})

repositoryBehaviour('embedded folder (LocalBlockStore + SqliteRefStore)', async () => {
  const t = await tempDir('repo')
  const location = path.join(t.dir, 'lake')
  return {
    init: (o) => Repository.init(location, o),
    open: (o) => Repository.open(location, o),
    blocks: new LocalBlockStore(path.join(location, 'blocks')),
    cleanup: t.cleanup,
  }
})
