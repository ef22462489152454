import { createHash } from 'node:crypto'
import path from 'node:path'
import type { RecordBatch } from 'apache-arrow'
import { expect } from 'vitest'
import { VarveError } from '../errors/varve-error.js'
import { openPinned, pinDataset, type PinnedDataset } from '../lineage/pins.js'
import type { Entry } from '../model/entry.js'
import { readArrowTable } from '../parquet/parquet-reader.js'
import type { TableDiffRecord } from '../parquet/table-diff.js'
import type { Repository } from '../repository/repository.js'
import { importedAddress } from '../sources/external-source.js'
import type { MatrixDataset, MatrixFile, MatrixRow } from './composition-dataset.js'
import type { MatrixCell, ReadPath } from './composition-types.js'
import { collect } from './suite-util.js'

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/**
 * The address a file of the dataset should have at `ref`: its SHA-256, except for an entry imported
 * without hashing (decision 0017), whose address is its source identity's (checked to be exactly that).
 */
export async function expectedAddresses(repo: Repository, ref: string, files: readonly { path: string; bytes: Uint8Array }[]): Promise<string[]> {
  const out: string[] = []
  for (const f of files) {
    const e = await repo.stat(ref, f.path)
    out.push(e.external && e.address === importedAddress(e.external, e.size) ? e.address : sha256(f.bytes))
  }
  return out
}

/** Expects `got` to hold exactly the bytes of `file` (compared by hash and size: readable on failure). */
export function expectBytes(file: MatrixFile, got: Uint8Array, how: string): void {
  expect({ path: file.path, size: got.byteLength, sha256: sha256(got) }, `${how} of ${file.path}`).toEqual({
    path: file.path,
    size: file.bytes.byteLength,
    sha256: sha256(file.bytes),
  })
}

/** Rows of Arrow batches as plain rows, ordered by id. */
export function rowsOf(batches: Iterable<RecordBatch>, extra: readonly string[] = []): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const b of batches)
    for (let i = 0; i < b.numRows; i++) {
      const row: Record<string, unknown> = { id: Number(b.getChild('id')!.get(i)), score: b.getChild('score')!.get(i) ?? null }
      for (const c of extra) row[c] = b.getChild(c)?.get(i) ?? null
      out.push(row)
    }
  return out.sort((a, b) => (a.id as number) - (b.id as number))
}

const expectedRows = (d: MatrixDataset, withDay: boolean) =>
  d.parquet.flatMap((f) => f.rows!.map((r: MatrixRow) => (withDay ? { ...r, day: f.day } : { ...r }))).sort((a, b) => a.id - b.id)

async function concat(chunks: AsyncIterable<Uint8Array | Buffer | string>): Promise<Uint8Array> {
  const parts: Buffer[] = []
  for await (const c of chunks) parts.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))
  return Buffer.concat(parts)
}

const entriesUnder = async (repo: Repository, ref: string, prefix: string): Promise<(Entry & { type: 'object' })[]> =>
  (await collect(repo.list(ref, { prefix }))).filter((i): i is Entry & { type: 'object' } => i.type === 'object')

/** Pins `ref` in a lockfile of the cell's, as a training job does, and reads through the pin. */
async function withPin(c: MatrixCell & { ref: string }, ref: string, name: string, read: (pinned: PinnedDataset) => Promise<void>): Promise<void> {
  const lock = path.join(c.tmp, 'varve.lock')
  await pinDataset(c.repo, ref, { name, lock })
  const pinned = await openPinned(lock, name, c.options)
  try {
    await read(pinned)
  } finally {
    await pinned.close()
  }
}

/** The library's read paths. The last one, gc keeping it, must stay last (the matrix runs it after all others). */
export const coreReadPaths: readonly ReadPath[] = [
  {
    name: 'get',
    async read(c) {
      for (const f of c.dataset.files) {
        expectBytes(f, await c.repo.get(c.ref, f.path), 'get at the commit')
        expectBytes(f, await c.repo.get(c.branch, f.path), 'get on the branch')
      }
    },
  },
  {
    name: 'getRange (readEntry of a range)',
    async read(c) {
      for (const f of c.dataset.files) {
        const entry = await c.repo.stat(c.ref, f.path)
        const n = f.bytes.byteLength
        for (const [start, end] of [
          [0, n],
          [Math.floor(n / 3), Math.floor((2 * n) / 3) + 1],
          [Math.max(0, n - 7), n],
        ] as const) {
          const got = await concat(c.repo.readEntry(entry, { start, end }))
          expect(sha256(got), `bytes [${start}, ${end}) of ${f.path}`).toBe(sha256(f.bytes.subarray(start, end)))
        }
      }
    },
  },
  {
    name: 'stream (getStream, streamEntry)',
    async read(c) {
      for (const f of c.dataset.files) {
        expectBytes(f, await concat(await c.repo.getStream(c.ref, f.path)), 'getStream')
        expectBytes(f, await concat(c.repo.streamEntry(await c.repo.stat(c.branch, f.path))), 'streamEntry of a stat')
      }
    },
  },
  {
    name: 'list and stat (and each listed entry read as it is)',
    async read(c) {
      const d = c.dataset
      for (const ref of [c.ref, c.branch]) {
        const listed = await entriesUnder(c.repo, ref, d.prefix)
        const addresses = await expectedAddresses(c.repo, ref, d.files)
        expect(listed.map((e) => [e.path, e.size, e.address])).toEqual(d.files.map((f, i) => [f.path, f.bytes.byteLength, addresses[i]]))
        for (const e of listed) {
          const f = d.files.find((x) => x.path === e.path)!
          // A listed entry is what readers hand on (readDataset, diffTable, contracts): it must read as is.
          expectBytes(f, await concat(c.repo.readEntry(e)), `reading the listed entry at ${ref}`)
          const { type: _type, ...entry } = e
          expect(await c.repo.stat(ref, e.path), `stat of ${e.path} at ${ref}`).toEqual(entry)
        }
        const top = await collect(c.repo.list(ref, { prefix: d.prefix, delimiter: '/' }))
        const expectedTop = [
          ...new Set(
            d.files.map((f) => {
              const rest = f.path.slice(d.prefix.length)
              const cut = rest.indexOf('/')
              return cut < 0 ? f.path : d.prefix + rest.slice(0, cut + 1)
            }),
          ),
        ]
        expect(top.map((i) => i.path).sort()).toEqual(expectedTop.sort())
      }
    },
  },
  {
    name: 'readTable (repository and pinned)',
    async read(c) {
      await withPin(c, c.ref, 'matrix-table', async (pinned) => {
        for (const f of c.dataset.parquet) {
          const want = f.rows!.map((r) => ({ ...r })).sort((a, b) => a.id - b.id)
          expect(rowsOf((await readArrowTable(await c.repo.get(c.ref, f.path), f.path)).batches), `rows of ${f.path}`).toEqual(want)
          expect(rowsOf((await pinned.readTable(f.path)).batches), `pinned rows of ${f.path}`).toEqual(want)
        }
      })
    },
  },
  {
    name: 'readDataset (repository)',
    async read(c) {
      for (const ref of [c.ref, c.branch]) {
        const batches = await collect(c.repo.readDataset(ref, c.dataset.table))
        expect(rowsOf(batches, ['day']), `readDataset at ${ref}`).toEqual(expectedRows(c.dataset, true))
      }
      const one = await collect(c.repo.readDataset(c.ref, c.dataset.table, { filter: { day: '2' }, columns: ['id', 'score'] }))
      expect(rowsOf(one)).toEqual(expectedRows(c.dataset, false).filter((r) => Math.floor(r.id / 1000) % 100 === 2))
    },
  },
  {
    name: 'readDataset (pinned)',
    async read(c) {
      await withPin(c, c.branch, 'matrix-dataset', async (pinned) => {
        expect(pinned.commit).toBe(c.ref)
        expect(rowsOf(await collect(pinned.readDataset(c.dataset.table)), ['day'])).toEqual(expectedRows(c.dataset, true))
      })
    },
  },
  {
    name: 'diffTable on a file',
    async read(c) {
      for (const f of c.dataset.parquet) {
        const records = await collect(c.repo.diffTable(c.base, c.ref, f.path, { key: ['id'] }))
        expect(addedRows(records), `rows added in ${f.path}`).toEqual(f.rows!.map((r) => ({ ...r })).sort((a, b) => a.id - b.id))
        expect(records.at(-1)).toMatchObject({ type: 'summary', added: f.rows!.length, removed: 0, changed: 0 })
        // and the file against itself: nothing differs
        const same = await collect(c.repo.diffTable(c.ref, c.branch, f.path, { key: ['id'] }))
        expect(same.at(-1)).toMatchObject({ type: 'summary', added: 0, removed: 0, changed: 0, unchanged: f.rows!.length })
      }
    },
  },
  {
    name: 'diffTable on a folder',
    async read(c) {
      const records = await collect(c.repo.diffTable(c.base, c.ref, c.dataset.table, { key: ['id'] }))
      expect(addedRows(records)).toEqual(expectedRows(c.dataset, false))
      const back = await collect(c.repo.diffTable(c.ref, c.base, c.dataset.table, { key: ['id'] }))
      expect(back.at(-1)).toMatchObject({ type: 'summary', added: 0, removed: c.dataset.rows.length, changed: 0 })
    },
  },
  {
    name: 'contracts (schema, row-count, null-fraction, unique)',
    async read(c) {
      const gate = `${c.branch}-gate`
      const files = `${c.dataset.table}**/*.parquet`
      const contract = (id: string, checks: string) => `id: ${id}\non: [pre-merge]\nbranches: [${JSON.stringify(gate)}]\nchecks:\n${checks}`
      const passing = contract(
        'matrix-pass',
        [
          `  - { type: parquet-schema, files: "${files}", columns: { id: { type: int64, nullable: false }, score: { type: double } }, allowExtraColumns: false }`,
          `  - { type: row-count, files: "${files}", min: 40, max: 40, totalMin: ${c.dataset.rows.length}, totalMax: ${c.dataset.rows.length} }`,
          `  - { type: null-fraction, files: "${files}", columns: { score: 0.05 } }`,
          `  - { type: unique, files: "${files}", column: id }`,
        ].join('\n') + '\n',
      )
      await c.repo.createBranch(gate, { from: c.base })
      await c.repo.put(gate, '_varve/hooks/matrix-pass.yaml', passing)
      await c.repo.commit(gate, { message: 'the contract' })
      const ok = await c.repo.merge(c.ref, gate, { dryRun: true })
      expect(ok.gateRuns?.map((r) => [r.hookId, r.status, r.message])).toEqual([['matrix-pass', 'passed', 'ok']])
      // Checks that must fail on these rows prove the data was read, not skipped.
      const failing = contract(
        'matrix-fail',
        [
          `  - { type: row-count, files: "${files}", totalMax: ${c.dataset.rows.length - 1} }`,
          `  - { type: null-fraction, files: "${files}", columns: { score: 0 } }`,
          `  - { type: unique, files: "${files}", column: score }`,
        ].join('\n') + '\n',
      )
      await c.repo.put(gate, '_varve/hooks/matrix-pass.yaml', failing)
      await c.repo.commit(gate, { message: 'a contract these rows fail' })
      const err = await c.repo.merge(c.ref, gate, { dryRun: true }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(VarveError.is(err, 'HOOK_FAILED'), `the failing contract passed: ${String(err)}`).toBe(true)
      const reasons = ((err as VarveError).details.failures as { reason: string; file?: string }[]).map((f) => f.reason).join('\n')
      expect(reasons).toMatch(/row/i)
      expect(reasons).toMatch(/null/i)
      expect(reasons).toMatch(/duplicate|unique/i)
      await c.repo.deleteBranch(gate)
    },
  },
  {
    name: 'log and blame',
    async read(c) {
      const log = await collect(c.repo.log(c.ref))
      expect(log[0]!.id).toBe(c.ref)
      const ids = new Set(log.map((x) => x.id))
      const changed = await collect(c.repo.log(c.ref, { prefix: c.dataset.prefix, limit: 1 }))
      expect(changed).toHaveLength(1)
      const blame = await collect(c.repo.blame(c.ref, c.dataset.prefix))
      expect(blame.map((b) => b.path)).toEqual(c.dataset.files.map((f) => f.path))
      const addresses = await expectedAddresses(c.repo, c.ref, c.dataset.files)
      for (const b of blame) {
        expect(ids.has(b.commit.id), `blame of ${b.path} names a commit outside the history`).toBe(true)
        expect(b.entry.address).toBe(addresses[c.dataset.files.findIndex((f) => f.path === b.path)])
      }
    },
  },
  {
    name: 'verify --full',
    async read(c) {
      const v = await c.repo.verify({ full: true })
      expect(v.problems).toEqual([])
      expect(v.ok).toBe(true)
    },
  },
  {
    name: 'gc keeping it (retention 0, then every byte and row read again)',
    async read(c) {
      await c.repo.gc({ retainDays: 0, graceSeconds: 0 })
      for (const f of c.dataset.files) expectBytes(f, await c.repo.get(c.ref, f.path), 'get after gc')
      expect(rowsOf(await collect(c.repo.readDataset(c.ref, c.dataset.table)), ['day'])).toEqual(expectedRows(c.dataset, true))
      const v = await c.repo.verify({ full: true })
      expect(v.problems).toEqual([])
    },
  },
]

function addedRows(records: readonly TableDiffRecord[]): Record<string, unknown>[] {
  return records
    .filter((r): r is Extract<TableDiffRecord, { type: 'added' }> => r.type === 'added')
    .map((r) => ({ id: Number(r.after.id), score: r.after.score ?? null }))
    .sort((a, b) => (a.id as number) - (b.id as number))
}
