// The Parquet building blocks, for tests and benchmarks: apart from ./internal because they load
// apache-arrow, which no command should pay for at start-up unless it reads a table.
export { HashPartitions } from './parquet/hash-partitions.js'
export { ValueHasher } from './parquet/value-hash.js'
export { ParquetStream } from './parquet/parquet-stream.js'
export { bytesSource, entrySource } from './parquet/range-source.js'
export type { RangeSource } from './parquet/range-source.js'
