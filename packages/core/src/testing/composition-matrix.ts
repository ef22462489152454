import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Repository, RepositoryOptions } from '../repository/repository.js'
import { matrixDataset } from './composition-dataset.js'
import { coreReadPaths } from './composition-read-paths.js'
import { coreWritePaths } from './composition-write-paths.js'

/**
 * One repository on some store, shared by every cell of the matrix on that store (each write path
 * writes to its own branch), with whatever services the caller runs over it (a gateway, ...).
 */
export interface CompositionFixture {
  readonly repo: Repository
  /** Where the repository is (a folder or a `scheme://` location), for readers that open it again. */
  readonly location: string
  /** The options to open it with (an S3 endpoint and credentials, ...). */
  readonly options: RepositoryOptions
  /** What the caller's write and read paths need beyond the repository: a gateway's URL, keys, ... */
  readonly services?: Readonly<Record<string, unknown>>
  cleanup(): Promise<void>
}

export type { MatrixCell, WritePath, ReadPath } from './composition-types.js'
import type { MatrixCell, WritePath, ReadPath } from './composition-types.js'

export interface CompositionMatrixOptions {
  /** Write paths beyond the library's (the CLI, a gateway, import, clone, ...). */
  readonly writePaths?: readonly WritePath[]
  /** Read paths beyond the library's. */
  readonly readPaths?: readonly ReadPath[]
  /** Run only these write paths of the library's, by name (default: all). */
  readonly coreWritePaths?: readonly string[]
}

/**
 * The composition matrix: every write path x every read path on one store, each cell checking that
 * the bytes (and for Parquet, the rows) read back are the ones written. A store runs it with a
 * fixture; a new write or read path joins by adding a row (`writePaths` / `readPaths`), and gets
 * every cell of the other axis for free. Read paths run in order; the last of the library's, gc
 * keeping it, collects with retention 0 and reads everything again.
 */
export function compositionMatrix(name: string, make: () => Promise<CompositionFixture>, options: CompositionMatrixOptions = {}): void {
  const writes = [...coreWritePaths.filter((w) => !options.coreWritePaths || options.coreWritePaths.includes(w.name)), ...(options.writePaths ?? [])]
  // gc keeping it stays last: it must see every other read path's reads still work after a collection.
  const core = [...coreReadPaths]
  const gc = core.pop()!
  const reads = [...core, ...(options.readPaths ?? []), gc]

  describe(`Composition matrix: ${name}`, () => {
    let fixture: CompositionFixture | undefined
    beforeAll(async () => {
      fixture = await make()
    }, 300_000)
    afterAll(async () => {
      await fixture?.cleanup()
    }, 300_000)

    writes.forEach((w, row) => {
      describe(`written by ${w.name}`, () => {
        let cell: (MatrixCell & { ref: string }) | undefined
        beforeAll(async () => {
          const f = fixture!
          const branch = `matrix-${row}`
          const { head: base } = await f.repo.createBranch(branch, { from: f.repo.defaultBranch })
          const tmp = await fs.mkdtemp(path.join(os.tmpdir(), `varve-matrix-${row}-`))
          const c: MatrixCell = {
            repo: f.repo,
            location: f.location,
            options: f.options,
            services: f.services ?? {},
            branch,
            base,
            tmp,
            dataset: matrixDataset(row + 1),
          }
          await w.write(c)
          const state = await f.repo.getBranch(branch)
          expect(state.dirty, `${w.name} left uncommitted changes on ${branch}`).toBe(false)
          expect(state.head, `${w.name} did not move ${branch}`).not.toBe(base)
          cell = { ...c, ref: state.head }
        }, 300_000)
        afterAll(async () => {
          if (cell) await fs.rm(cell.tmp, { recursive: true, force: true })
        })

        for (const r of reads)
          it(`read by ${r.name}`, async () => {
            expect(cell, `the write by ${w.name} failed`).toBeDefined()
            await r.read(cell!)
          }, 300_000)
      })
    })
  })
}
