export { Repository } from './repository/repository.js'
export type {
  RepositoryOptions,
  RepositoryLocation,
  BranchInfo,
  ListItem,
  ListOptions,
  PutOptions,
  UncommittedChange,
  MergeOptions,
  MergeResult,
  MergeStrategy,
  Conflict,
  AuthorOptions,
  ApplyCommitOptions,
  ResolvedConflict,
  ResolveRule,
  ConflictRows,
  MergeRequestComment,
  MergeRequestRecord,
  MergeRequestState,
  MergeMergeRequestOptions,
  MergeRequestMergeResult,
  MergeRequestView,
  OpenMergeRequestOptions,
} from './repository/repository.js'
export type {
  CloneOptions,
  CloneState,
  FetchOptions,
  PullOptions,
  PullResult,
  PushOptions,
  RefUpdate,
  RemoteConfig,
  RemoteTransferOptions,
  SyncResult,
  TrackingRef,
  TransferProgress,
} from './repository/repository.js'
export type { Approval } from './merge-requests/merge-request-store.js'
export type { ApprovalStatus } from './repository/merge-requests.js'
export { REQUEST_METADATA, APPROVERS_METADATA } from './repository/merge-requests.js'
export { parseResolveFlag } from './merge/resolve-rules.js'
export { mergeConflict } from './merge/apply-to-branch.js'
export { VarveError, ErrorCodes } from './errors/varve-error.js'
export type { ErrorCode, VarveErrorOptions } from './errors/varve-error.js'
export type { Entry, DataRef } from './model/entry.js'
export type { PutManyItem, PutManyOptions, PutManySummary } from './ingest/put-many.js'
export { PACKED_OBJECT_LIMIT } from './ingest/put-many.js'
export type { PutFolderOptions, PutFolderSummary } from './ingest/folder/put-folder.js'
export type { ImportOptions, ImportSummary } from './ingest/import-objects.js'
export type { NamedSource } from './sources/source-schemes.js'
export type { ExternalLocator, ExternalSource, SourceObject, SourceListOptions, SourceResolver } from './sources/external-source.js'
// Building blocks the adapters and the gateway share (stable: they are public API like the rest).
export { mapInOrder } from './util/map-in-order.js'
export { OffThreadSha256 } from './util/off-thread-sha256.js'
export type { Commit } from './model/commit.js'
export type { CommitOptions } from './commits/commit-staged.js'
export type { LogOptions } from './commits/history.js'
export type { BlameLine } from './commits/path-history.js'
export type { DiffEntry, ChangeType } from './tree/tree-diff.js'
export type { DataSource } from './objects/byte-source.js'
export type {
  BlockStore,
  ByteSource,
  NativeMultipart,
  ObjectInfo,
  PutOptions as BlockPutOptions,
  RenameOptions,
  StoredPart,
  StreamOptions as BlockStreamOptions,
} from './stores/block-store.js'
export type {
  RefStore,
  BranchRecord,
  BranchState,
  TagRecord,
  StagedChange,
  RefLogEntry,
  RefLogRecord,
  ListStagedOptions,
} from './stores/ref-store.js'
export { LocalBlockStore, validateBlockKey } from './stores/local-block-store.js'
export type { LocalBlockStoreOptions } from './stores/local-block-store.js'
export { LocalFiles, localFiles } from './stores/local-files.js'
export type { FileRange, LocalFilesOptions } from './stores/local-files.js'
export { SqliteRefStore } from './stores/sqlite-ref-store.js'
export { checkSettingLog, settingLogRef } from './stores/setting-log.js'
export { ForwardingBlockStore } from './stores/forwarding-block-store.js'
export { ForwardingRefStore } from './stores/forwarding-ref-store.js'
export { emptyRead, listAll, listPrefixes } from './buckets/bucket.js'
export type {
  Bucket,
  BucketObject,
  BucketPutOptions,
  BucketRead,
  GetOptions as BucketGetOptions,
  ListPage,
  ListPageOptions,
  PutMode,
} from './buckets/bucket.js'
export { BucketRefStore } from './buckets/bucket-ref-store.js'
export { BucketBlockStore } from './buckets/bucket-block-store.js'
export { openBucketStores, type BucketStoresOptions } from './buckets/bucket-stores.js'
export { probeConditionalWrites, type ProbeOptions } from './buckets/conditional-write-probe.js'
export type { SqliteRefStoreOptions } from './stores/sqlite-ref-store.js'
export { registerStorageScheme, embeddedPaths } from './repository/open-stores.js'
export { registerSourceScheme, type SourceOpener } from './sources/source-schemes.js'
export { importedObjectChanged, importedObjectMissing, importedAddress } from './sources/external-source.js'
export type { StoreSet, SchemeOpener, SchemeOpenOptions } from './repository/open-stores.js'
export { validatePath, validateNewPath, validatePrefix, comparePaths } from './util/paths.js'
export { validateRefName } from './util/ref-names.js'
export { systemClock, systemRandom, seededRandom } from './util/clock.js'
export type { Clock, RandomSource } from './util/clock.js'
export type { RetryPolicy } from './util/retry.js'
export { HOOK_EVENTS } from './hooks/hook-types.js'
export type {
  HookEvent,
  HookContext,
  HookDefinition,
  HookResult,
  HookFinding,
  HookFailure,
  HookRun,
  HookRunStatus,
  Snapshot,
} from './hooks/hook-types.js'
export type { HookRegistry } from './hooks/hook-registry.js'
export type { BranchProtection } from './hooks/branch-protection.js'
export { isBranchPattern } from './hooks/branch-protection.js'
export { parseContract, CONTRACTS_PREFIX } from './hooks/contracts/contract-file.js'
export type { Contract } from './hooks/contracts/contract-file.js'
export type { ParquetSchema, ParquetColumn } from './parquet/parquet-schema.js'
export type { JsonValue } from './util/canonical-json.js'
export { readCodeLineage } from './lineage/code-lineage.js'
export type { CodeLineage } from './lineage/code-lineage.js'
export { pinDataset, openPinned, PinnedDataset, readLockFile } from './lineage/pins.js'
export type { Pin, LockFile } from './lineage/pins.js'
export type { GcOptions, GcResult } from './gc/gc.js'
export type { PinRecord } from './refs/pins.js'
export type { VerifyOptions, VerifyResult, VerifyProblem } from './gc/verify.js'
export { writeVerified, downloadPrefix, localTarget } from './files/download.js'
export type { DownloadSource, DownloadOptions } from './files/download.js'
export type { TableChangeStat } from './parquet/table-change.js'
export type { DatasetFilter, PartitionValues, ReadDatasetOptions } from './parquet/dataset-reader.js'
export type { DiffTableOptions, SchemaChange, TableDiffRecord, TableRow } from './parquet/table-diff.js'
export type { WebhookSettings } from './hooks/contracts/checks/webhook.js'
export type { ApprovalAudit, ApprovalAuditOptions, ApprovalAuditProblem } from './repository/approval-audit.js'
export { ALLOWED_SIGNERS_PATH, approvalSigningText } from './repository/allowed-signers.js'
export type { SignatureChecks } from './repository/allowed-signers.js'
export { APPROVAL_NAMESPACE, parseAllowedSigners, parseSshSignature, verifySshSignature, signWithSshKeygen } from './merge-requests/ssh-signature.js'
export type { AllowedSigner, ParsedSignature } from './merge-requests/ssh-signature.js'
export { Uploads } from './uploads/uploads.js'
export type { CreateUploadOptions, UploadRecord } from './uploads/uploads.js'
export { ERROR_KINDS, EXIT_CODES, errorKindOf, type ErrorCategory, type ErrorKind } from './errors/error-kinds.js'
