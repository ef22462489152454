import type { Repository, RepositoryOptions } from '../repository/repository.js'
import type { MatrixDataset } from './composition-dataset.js'

/** What a write path works on, and then what every read path checks. */
export interface MatrixCell {
  readonly repo: Repository
  readonly location: string
  readonly options: RepositoryOptions
  readonly services: Readonly<Record<string, unknown>>
  /** The branch this row writes to: created empty from the default branch before the write. */
  readonly branch: string
  /** The commit the branch had before the write (none of the dataset is there). */
  readonly base: string
  /** What the row writes (its bytes are this row's alone). */
  readonly dataset: MatrixDataset
  /** A temporary folder of this row's, removed at the end. */
  readonly tmp: string
}

export interface WritePath {
  readonly name: string
  /**
   * Makes every file of `cell.dataset` part of the head commit of `cell.branch`, by this path
   * (a put, a pack, an upload through a gateway, a merge, ...), and leaves the branch clean.
   */
  write(cell: MatrixCell): Promise<void>
}

export interface ReadPath {
  readonly name: string
  /** Reads the dataset at the row's head commit `ref` (or its branch) and expects what was written. */
  read(cell: MatrixCell & { readonly ref: string }): Promise<void>
}
