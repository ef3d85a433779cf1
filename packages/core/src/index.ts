/**
 * @concord/core: the engine. CRDT row store on Yjs shard documents, merge policies,
 * replicated catalog, replication protocol over an abstract transport, and a
 * deterministic peer simulator. No Node built-ins: runs unchanged in a browser.
 */
export type {
  Value,
  Row,
  Json,
  PolicySpec,
  ColumnKind,
  ColumnSpec,
  ColumnInfo,
  PartitionSpec,
  TableSpec,
  TableInfo,
  RowChange,
  CatalogChange,
  Resolver,
  ResolverContext,
  ConflictKind,
  ConflictRecord,
  ConflictValue,
} from './types.js'
export type { Storage, StoredRecord, Transport, TransportHandler, Scheduler, ReplicaOptions, Transaction, OpenTransaction, CommitOptions, TransactionSavepoint, CarriedRow, CarriedRows, ReplicaEvents, LinkPolicy } from './api.js'
export { StorageFullError } from './api.js'
export { Replica, type RowFilterCompiler, type RowSelection } from './replica.js'
export { RowCheckpoint, type CheckpointTarget, type RowCheckpointOptions } from './rows/row-checkpoint.js'
export { ShardHibernation, type HibernatingShard, type HibernationTarget, type ShardHibernationOptions } from './rows/shard-hibernation.js'
export { CATALOG_SHARD, SECRETS_SHARD, isSystemShard, parseShardId, shardId } from './placement/shard-id.js'
export type { PeerScope, PeerScopes, PeerWriteChecks, WriteCheck } from './replication/peer-scope.js'
export { holdsTable, notHeldHere, notHeldWhole } from './placement/placement.js'
export { SHARD_PLACEMENT_KIND, MAX_PLACEMENT_NODES, parsePlacement, type ShardPlacement } from './placement/shard-placement.js'
export { CATCH_UP_KIND, CAUGHT_UP_KIND, catchUpName, parseCatchUp, type CatchUpRecord } from './placement/catch-up.js'
export { RowsPlacedElsewhere, type RoutedPart } from './placement/rows-placed-elsewhere.js'
export { regionAccess, shardWithinRegions, tableWithinRegions } from './placement/region-scope.js'
export { HOME_REGION_COLUMN_OPTION, homeColumn, homePartition, homeShardId, replicaOnlyRecord, RowsHomedElsewhere } from './placement/row-homing.js'
export { DEFAULT_FEDERATED_READ_MAX_BYTES, DEFAULT_FEDERATED_READ_TIMEOUT_MS } from './replication/federated-reads.js'
export { ConcordError, type CoreCondition } from './errors/concord-error.js'
export { HybridClock, compareStamp, hlcMillis, hlcCounter, LOGICAL_RANGE } from './clock/hlc.js'
export { IdGenerator, nodeNumberOf, ID_EPOCH_MS } from './clock/id-generator.js'
export { MemoryStorage, type MemorySnapshot } from './storage/memory-storage.js'
export { checkAppendBatch, checkMetaValue, checkSnapshot, checkStorageName } from './storage/storage-arguments.js'
export { resolve as resolvePolicy, parsePolicy } from './merge/policy.js'
export { encodeRowKey, decodeRowKey } from './codec/row-key.js'
export {
  encodeMessage,
  decodeMessage,
  DecodeError,
  MessageType,
  PROTOCOL_VERSION,
  DEFAULT_MAX_MESSAGE_BYTES,
  type Message,
} from './replication/messages.js'
export { TOPIC_ALL, regionTopic } from './replication/gossip.js'
export { DEFAULT_COMMIT_LOG_LIMIT, type PeerStatus } from './replication/positions.js'
export { DEFAULT_MAX_REMOTE_VALUE_BYTES } from './replication/oversized-values.js'
export { DIVERGENCE_CONFIRM_MS, type Divergence } from './replication/divergence-watch.js'
export type { SyncState } from './replication/peer-confirmations.js'
export type { ReplicatorStats } from './replication/replication-context.js'
export { Simulation, SIM_EPOCH_MS, NO_FAULTS, type NetworkFaults, type SimulationOptions, type SimNodeSpec } from './sim/simulation.js'
export type { StorageTiming } from './sim/sim-storage.js'
export type { StorageFaults, DiskFaultCounts } from './sim/disk-faults.js'
export { SeededRandom } from './sim/seeded-random.js'
export { fnv1a, fnv1aString } from './codec/checksum.js'
export { sameBytes } from './codec/bytes.js'
export { crc32c, checksumText } from './codec/crc32c.js'
export { CorruptRecordError, decodeRecord, encodeRecord, openValue, openValueInPlace, RECORD_FORMAT_VERSION, sealValue } from './codec/checked-record.js'
export { afterAppend, decodeMarker, EMPTY_MARKER, encodeMarker, type ShardMarker } from './codec/shard-marker.js'
export { compareShardDirectory, decodeShardDirectory, directoryDamage, encodeShardDirectory, MAX_DIRECTORY_SHARDS } from './codec/shard-directory.js'
export type { BackupStore } from './backup/backup-store.js'
export { type BackupManifest, type ShardPiece, manifestBytes, manifestName } from './backup/backup-manifest.js'
export { runBackup, listBackupIds, readManifest, type BackupOptions, type BackupProgress } from './backup/backup-run.js'
export { planRestore, type RestorePlan } from './backup/restore-plan.js'
export { listChains, pruneChains, type Retention } from './backup/backup-chains.js'
export { restoreIntoStorage, restoreIntoReplica } from './backup/restore-apply.js'
export { heldState, takeShards, type CutShard, type HeldShard, type TakenShards } from './backup/backup-cut.js'
export { previousId } from './generations/generation-id.js'
export { catalogKindsOfUpdate } from './catalog/catalog-update-kinds.js'
