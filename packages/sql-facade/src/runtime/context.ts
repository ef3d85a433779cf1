/**
 * What the executor needs while running one statement: the core transaction it reads
 * and writes through, parameters, the statement's clock, the session and the catalogs.
 * Everything here is per statement, so plans never outlive a transaction.
 */
import type { TableInfo, Transaction } from '@concord/core'
import type { DeleteStmt, SelectStmt, UpdateStmt } from 'libpg-query'
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { Relation } from '../relation/relation.js'
import type { Settings } from '../settings/settings.js'
import type { PartitionRouter } from '../placement/partition-view.js'
import type { TransactionRows } from './transaction-rows.js'
import type { ForeignKeyChecks } from './foreign-key-checks.js'
import type { DeferredConstraints } from './deferred-constraints.js'
import type { CatalogModel } from '../catalog/catalog-model.js'
import type { StatementBudget } from './statement-budget.js'
import type { SequenceAccess } from '../sequences/session-sequences.js'
import type { RoleRecord } from '../catalog/role-record.js'
import type { RoleDirectory } from '../catalog/role-directory.js'
import type { SearchPath } from '../catalog/search-path.js'
import type { NodeRole } from '../cluster/node-role.js'
import type { MembershipHost } from '../cluster/peer-members.js'
import type { PlannedShard } from '../placement/rebalance-plan.js'
import type { TableChangeSource } from './table-change-source.js'
import type { TargetRows } from './target-rows.js'
import type { InsertSource } from './insert-source.js'

import type { TriggerCall, UserFunction } from '../catalog/function-def.js'
export type { TriggerCall, UserFunction }

/**
 * What a statement may do with its core transaction directly: DDL and catalog objects.
 * Table rows are read and written through `TransactionRows` only, so its index overlay
 * sees every write.
 */
export type CatalogTransaction = Omit<Transaction, 'get' | 'scan' | 'insert' | 'upsert' | 'update' | 'increment' | 'delete' | 'writtenKeys'>

/** A session's SQL prepared statements and cursors, as pg_prepared_statements and pg_cursors list them. */
export interface SessionObjects {
  prepared: Array<{ name: string; text: string; preparedAt: number; parameterTypes: SqlType[] }>
  cursors: Array<{ name: string; text: string; hold: boolean; binary: boolean; scroll: boolean; createdAt: number }>
}

/**
 * Where a cached plan reads the values that differ between its executions: the literal
 * constants of a statement made from a literal template, by A_Const record (see
 * plan/plan-cache.ts). Set only while planning (and running) a cached plan.
 */
export interface PlanSlots {
  constants: Map<object, number>
  values: RtValue[]
  /**
   * Function calls are evaluated at every run, never folded once for the plan: set for a
   * PL/pgSQL expression's plan, which its body runs again after it may have changed what a
   * call of constants answers (set_config, nextval; exec/plpgsql-plans.ts).
   */
  callsPerRun?: true
}

/** A statement's top-level PL/pgSQL calls that may pause (runtime/run-pauses.ts `PausableCalls`). */
export interface TopLevelCalls {
  /** The call's value: kept from the statement's earlier run, or run now (throws `PausedCall` when it pauses). */
  call(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType): RtValue
  /** Goes on with a paused call: false at its next pause, true at its end (the statement is then run again). */
  resume(steps: Generator<void, RtValue, void>): boolean
}

/** Plans of SELECTs kept across executions (plan/plan-cache.ts): `plan` plans one afresh over the context it is given. */
export interface SelectPlans {
  select(tree: { SelectStmt: SelectStmt }, exec: ExecCtx, plan: (exec: ExecCtx) => Relation): Relation
  /** The same for what an UPDATE or DELETE plans to find its target rows (exec/dml.ts `matchingRows`). */
  targetRows<T>(tree: { UpdateStmt: UpdateStmt } | { DeleteStmt: DeleteStmt }, exec: ExecCtx, plan: (exec: ExecCtx) => T): T
}

export interface ExecCtx {
  /** Set while planning a plan that is cached: literals and parameters compile to reads of the execution's values. */
  planSlots?: PlanSlots
  /** The session's plan cache, where this statement may use one (plan/plan-cache.ts). */
  planCache?: SelectPlans
  /** DDL and catalog objects; table rows go through `rows`. */
  tx: CatalogTransaction
  /** Whether `tx` spans the session's temporary relations (session/temp-schema.ts). */
  temporaryRelations: boolean
  /** Table rows as this transaction sees them (by key, by index, or all). */
  rows: TransactionRows
  /** Foreign key actions and checks of the running statement (see foreign-key-checks.ts). */
  foreignKeys: ForeignKeyChecks
  /** The block's deferred constraints; absent outside BEGIN .. COMMIT (nothing defers past a statement). */
  deferred?: DeferredConstraints
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
  /** The database the session connected to (current_database(), pg_database). */
  database: string
  settings: Settings
  /** The role the statement runs as (current_user): its privileges are checked (auth/access-check.ts). */
  role: RoleRecord
  /** Roles, memberships, owners and grants as this statement's transaction sees them; built once per statement. */
  roles(): RoleDirectory
  /** What `roles()` answers, once built or given (the database's cached copy while nothing changed roles); undefined until then. */
  roleDirectory?: RoleDirectory
  functions: (name: string) => UserFunction | undefined
  /** search_path resolved over the committed catalog (database.ts), used while `tx` wrote no catalog object. */
  committedSearchPath?: (value: string, user: string) => SearchPath
  /** Which partition a row of a partitioned table routes to (shard_location). */
  partitions: PartitionRouter
  /** The system view `name` (in `schema` when qualified), or null (system/system-views.ts). */
  systemView(schema: string | null, name: string): Relation | null
  /** The catalog as this statement's transaction holds it, as pg_catalog shows it; built once per statement. */
  catalog(): CatalogModel
  /** What `catalog()` built for this statement; undefined until asked. */
  catalogModel?: CatalogModel
  random(): number
  /** This session's prepared statements and cursors. */
  sessionObjects(): SessionObjects
  /** A new HLC timestamp (a sequence epoch). */
  hlc(): number
  nextId(): bigint
  /** NOTIFY / pg_notify: queues a notification in this session's transaction (sent when it commits). */
  notify(channel: string, payload: string): void
  /** The node's table change feed (concord_changes); absent where changes cannot be followed. */
  tableChanges?: TableChangeSource
  /** The node server's identity, join tokens and browser tokens; undefined without one. */
  membership?: MembershipHost
  /** The rebalance plan of a table (concord_rebalance_plan, placement/rebalance-plan.ts); absent where none can be made. */
  rebalancePlan?(table: string): PlannedShard[]
  /** Whether node `nodeId` of `region` has caught up on `table` (core Replica.nodeCaughtUp); absent: no replica to ask. */
  nodeCaughtUp?(nodeId: string, region: string, table: TableInfo): boolean
  /**
   * pg_sleep: asks the session to wait `ms` before the statement's result is returned
   * (the executor is synchronous; the session waits asynchronously, so other clients run,
   * and statement_timeout and cancel end the wait with 57014). Absent where nothing may wait.
   */
  sleep?(ms: number): void
  /** Channels this session LISTENs to (pg_listening_channels). */
  listeningChannels(): string[]
  /** The connection's process id (pg_backend_pid; 0 in process). */
  processId: number
  /** The next SERIAL / identity value of a column: int2/int4 from this node's id ranges, int8 node-unique 64-bit. */
  nextSerial(table: TableInfo, column: string): number | bigint
  allTables(): readonly TableInfo[]
  /** nextval / currval / setval / lastval of user sequences, with this session's state. */
  sequences: SequenceAccess
  /**
   * This node's change sequence, the origin commit time (wall ms) of the newest remote
   * change applied, and its high-availability role (cluster/node-role.ts).
   */
  replication(): { lsn: number; lastReplayedCommitMs: number | null; role: NodeRole }
  /** Runs a user function (SQL or PL/pgSQL) with typed arguments; a trigger function with its event. */
  callUserFunction(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType, trigger?: TriggerCall): RtValue
  /** Runs a user function returning SETOF / TABLE: its values (rows as row values when it returns several columns). */
  callUserSetFunction?(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType): RtValue[]
  /** A trigger function's transition tables (REFERENCING OLD/NEW TABLE), readable by name as CTEs are. */
  transitionTables?: ReadonlyMap<string, Relation>
  /**
   * Set by a session that serves other clients while the statement's top-level PL/pgSQL
   * call runs (a DO block, `SELECT f(..)`): the call may pause in its loops, and the
   * statement's result then carries the rest (`StatementResult.paused`;
   * runtime/run-pauses.ts). Absent: every call runs to its end.
   */
  pausable?: TopLevelCalls
  /** Notices the running statement sends before its result (RAISE NOTICE in PL/pgSQL); set by exec/statement.ts. */
  notices?: string[]
  /** Depth of nested SQL-function calls, to stop runaway recursion. */
  depth: number
  /** statement_timeout and cancel: every loop that grows with the data ticks it (statement-budget.ts). */
  budget: StatementBudget
  /** How the statement's own UPDATE or DELETE reads its target rows after (or while) its WHERE ran off the main thread (target-rows.ts); absent: as always. */
  targetRows?: TargetRows
  /** Where the statement's own INSERT .. SELECT takes its source rows when its SELECT ran off the main thread (insert-source.ts); absent: its SELECT. */
  insertSource?: InsertSource
}
