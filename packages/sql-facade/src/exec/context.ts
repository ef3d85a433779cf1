/**
 * What the executor needs while running one statement: the core transaction it reads
 * and writes through, parameters, the statement's clock, the session and the catalogs.
 * Everything here is per statement, so plans never outlive a transaction.
 */
import type { TableInfo, Transaction } from '@concord/core'
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { SecondaryIndexes } from '../catalog/secondary-index.js'
import type { Relation } from '../plan/relation.js'
import type { Settings } from '../settings/settings.js'
import type { PartitionRouter } from '../plan/partition-view.js'

export interface UserFunction {
  name: string
  args: Array<{ name: string | null; type: SqlType }>
  returns: SqlType
  body: string
  language: string
}

export interface ExecCtx {
  tx: Transaction
  /** Bound parameters: text (typed unknown until context decides) or bytea. */
  params: RtValue[]
  /** Types of the parameters when known (inside SQL functions); unknown otherwise. */
  paramTypes?: SqlType[]
  /** Transaction start time in epoch microseconds (now(), CURRENT_TIMESTAMP). */
  nowMicros: number
  /** Wall clock for clock_timestamp(). */
  clockMicros(): number
  nodeId: string
  region: string
  settings: Settings
  functions: (name: string) => UserFunction | undefined
  indexes: SecondaryIndexes
  /** Which partition a row of a partitioned table routes to (shard_location). */
  partitions: PartitionRouter
  /** True while a transaction block's statement runs again (a later statement, or COMMIT): side effects outside the core transaction already happened. */
  replaying?: boolean
  /** Tables written earlier in this core transaction: their secondary indexes are stale. */
  written: Set<string>
  systemView: (name: string, ctx: ExecCtx) => Relation | null
  random(): number
  nextId(): bigint
  /** The next SERIAL / identity value of a column: int2/int4 from this node's id ranges, int8 node-unique 64-bit. */
  nextSerial(table: TableInfo, column: string): number | bigint
  allTables(): TableInfo[]
  /** This node's change sequence and the origin commit time (wall ms) of the newest remote change applied. */
  replication(): { lsn: number; lastReplayedCommitMs: number | null }
  /** Runs a SQL function body with typed arguments. */
  callUserFunction(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType): RtValue
  /** Depth of nested SQL-function calls, to stop runaway recursion. */
  depth: number
}
