import { createHash } from 'node:crypto'
import { comparePaths } from '../util/paths.js'
import { parquetFile } from './parquet-fixtures.js'

/** One row of the matrix dataset's table (every Parquet file has these columns). */
export interface MatrixRow {
  readonly id: number
  readonly score: number | null
}

export interface MatrixFile {
  readonly path: string
  readonly bytes: Uint8Array
  /** For Parquet files: the rows written, in file order. */
  readonly rows?: readonly MatrixRow[]
  /** The Hive partition the file is under (`day=1/` -> '1'), for Parquet files. */
  readonly day?: string
}

/**
 * What every write path of the composition matrix writes: Hive-partitioned Parquet, an empty marker,
 * a text file, a file larger than the pack limit (so it is stored loose and read in pieces) and a
 * path with characters URLs and shells treat specially. Bytes differ per `seed`, so no write path's
 * objects can stand in for another's (a reader ignoring where packed bytes are would otherwise read
 * the same content stored loose by another row and pass).
 */
export interface MatrixDataset {
  /** Everything is under this prefix. */
  readonly prefix: string
  /** The Parquet folder (a table of partitions `day=1/`, `day=2/`). */
  readonly table: string
  readonly files: readonly MatrixFile[]
  readonly parquet: readonly MatrixFile[]
  /** All rows of the table, every file. */
  readonly rows: readonly MatrixRow[]
}

export const MATRIX_PREFIX = 'ds/'
const ROWS_PER_FILE = 40
/** Larger than the pack limit (1 MiB) and than one streamed piece of a small whole read. */
const BIG_FILE_BYTES = 1_600_000

export function matrixDataset(seed: number): MatrixDataset {
  const table = `${MATRIX_PREFIX}table/`
  const parquet: MatrixFile[] = []
  for (const day of ['1', '2']) {
    const rows: MatrixRow[] = Array.from({ length: ROWS_PER_FILE }, (_, i) => {
      const id = seed * 100_000 + Number(day) * 1000 + i
      // One null score per file; scores repeat across files (a `unique` check on score must fail).
      return { id, score: i === 3 ? null : (i % 17) / 17 }
    })
    const bytes = parquetFile([
      { name: 'id', type: 'int64', values: rows.map((r) => r.id), nullable: false },
      { name: 'score', type: 'double', values: rows.map((r) => r.score) },
    ])
    parquet.push({ path: `${table}day=${day}/part-0.parquet`, bytes, rows, day })
  }
  const big = new Uint8Array(BIG_FILE_BYTES)
  // Pseudo-random bytes (incompressible, distinct per seed): SHA-256 in counter mode.
  for (let at = 0, n = 0; at < big.length; n++) {
    const block = createHash('sha256').update(`varve-matrix:${seed}:${n}`).digest()
    big.set(block.subarray(0, Math.min(block.length, big.length - at)), at)
    at += block.length
  }
  const files: MatrixFile[] = [
    ...parquet,
    { path: `${table}day=2/_SUCCESS`, bytes: new Uint8Array(0) },
    { path: `${MATRIX_PREFIX}notes.txt`, bytes: Buffer.from(`written by matrix row ${seed}\n`.repeat(3 + seed)) },
    { path: `${MATRIX_PREFIX}blob/big.bin`, bytes: big },
    { path: `${MATRIX_PREFIX}odd names/a+b=c %20 ü.json`, bytes: Buffer.from(JSON.stringify({ seed, note: 'a path with spaces, +, = and %' })) },
  ]
  files.sort((a, b) => comparePaths(a.path, b.path))
  return { prefix: MATRIX_PREFIX, table, files, parquet, rows: parquet.flatMap((f) => f.rows!) }
}
