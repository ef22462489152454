/**
 * Conformance suites (vitest) that every store implementation runs, and the repository behaviour
 * suite that every pair of stores runs: the same test bodies for the local folder, SQLite and S3.
 */
export { blockStoreConformance, type BlockStoreQuirks, type StoreFixture } from './block-store-suite.js'
export { refStoreConformance } from './ref-store-suite.js'
export { repositoryBehaviour, type RepositoryFixture } from './repository-suite.js'
export { parquetFile, trainPartition, type ColumnSpec } from './parquet-fixtures.js'
export { exploreInterleavings, StepGate, PausingBlockStore, PausingRefStore } from './interleavings.js'
export type { InterleavingRun, ExploreResult, StepFilter } from './interleavings.js'
export {
  compositionMatrix,
  type CompositionFixture,
  type CompositionMatrixOptions,
  type MatrixCell,
  type ReadPath,
  type WritePath,
} from './composition-matrix.js'
export { matrixDataset, MATRIX_PREFIX, type MatrixDataset, type MatrixFile, type MatrixRow } from './composition-dataset.js'
export { coreReadPaths, expectBytes, expectedAddresses, rowsOf, sha256 } from './composition-read-paths.js'
export { coreWritePaths } from './composition-write-paths.js'
export { bucketConformance } from './bucket-suite.js'
export { MemoryBucket } from './memory-bucket.js'
export { FaultyBucket, type FaultRates, type FaultCounts } from './faulty-bucket.js'
