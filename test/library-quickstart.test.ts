import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runNode, tempDir } from './helpers/processes.js'

// The README names examples/library-quickstart.mjs as the library's life cycle: it must keep running.
const SCRIPT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'examples', 'library-quickstart.mjs')

describe('examples/library-quickstart.mjs', () => {
  it('runs the life cycle through a reviewed merge request and a rollback', async () => {
    const t = await tempDir('library-quickstart')
    try {
      const out = await runNode(SCRIPT, [path.join(t.dir, 'lake')])
      expect(out).toContain('a plain merge is refused: APPROVAL_REQUIRED')
      expect(out).toMatch(/merge request 1: 1 added, 1 removed; gates passed; 0 of 1 approvals/)
      expect(out).toMatch(/approved by reviewer/)
      expect(out).toMatch(/day=1 is back: \d+ bytes/)
      expect(out).toContain('bad input is refused: INVALID_PATH')
      expect(out).toContain('the pinned commit still reads the same bytes: 2 rows')
    } finally {
      await t.cleanup()
    }
  }, 120_000)
})
