import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Repository } from '@varve/core'
import { compositionMatrix } from '@varve/core/testing'
import { cliAndGatewayRows, withGateway } from './helpers/composition-rows.js'

// Issue 22: every write path x every read path on the embedded store (files + SQLite); MinIO runs the
// same matrix in composition-s3.test.ts (a separate file, so the two run in parallel).
compositionMatrix(
  'embedded folder (files + SQLite)',
  async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-matrix-'))
    const location = path.join(dir, 'lake')
    const repo = await Repository.init(location, { author: 'matrix' })
    return withGateway(repo, location, {}, {}, () => fs.rm(dir, { recursive: true, force: true }))
  },
  cliAndGatewayRows,
)
