/**
 * Public value and schema types of the core engine.
 *
 * The core stores scalar values only; richer SQL types (DECIMAL, TIMESTAMP, INTERVAL,
 * JSONB, UUID) are encoded by the SQL layer into one of these scalars and decoded on
 * the way out. The core never interprets a column's `type` string.
 */

/** A stored scalar. `bigint` for 64-bit integers, `string` for exact decimals and text. */
export type Value = null | boolean | number | bigint | string | Uint8Array

/** A materialized row: column name to resolved value. Every column of the table is present. */
export type Row = Record<string, Value>

/** JSON-compatible metadata the upper layers attach to catalog objects. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/**
 * How the concurrent values of one register column resolve to one value.
 * - `last_write_wins`: greatest HLC, node id breaks ties.
 * - `first_write_wins`: smallest HLC, node id breaks ties.
 * - `{ custom: name }`: the resolver registered under `name`, folded over the concurrent
 *   values sorted by (HLC, node id) ascending: f(f(v1, v2), v3) ...
 */
export type PolicySpec = 'last_write_wins' | 'first_write_wins' | { custom: string }

/**
 * How a column merges.
 * - `register` (default): a multi-value register resolved by the column's policy.
 * - `counter`: each writer's increments add up; concurrent increments are all kept.
 * - `text`: a Y.Text; concurrent edits to different parts of the text all survive.
 */
export type ColumnKind = 'register' | 'counter' | 'text'

export interface ColumnSpec {
  name: string
  /** SQL type name as the SQL layer wants it back (opaque to the core). */
  type: string
  kind?: ColumnKind
  /** Overrides the table policy for this column (registers only). */
  policy?: PolicySpec
  /** Anything the SQL layer needs (NOT NULL, DEFAULT, CHECK, GENERATED ...). */
  meta?: Json
}

export interface PartitionSpec {
  method: 'hash' | 'range' | 'list'
  columns: string[]
  meta?: Json
}

export interface TableSpec {
  name: string
  columns: ColumnSpec[]
  /** Column names forming the primary key. A table without one gets a hidden `_rowid`. */
  primaryKey: string[]
  /** Null or absent: the cluster default policy (catalog object kind 'policy', name 'default'). */
  policy?: PolicySpec | null
  /** Regions that hold this table's rows; null or empty means every region. */
  regions?: string[] | null
  partitioning?: PartitionSpec | null
  /** `WITH (..)` options as given. */
  options?: Record<string, string>
  meta?: Json
}

/** A table as the catalog currently resolves it. */
export interface TableInfo {
  name: string
  /** Bumped by every DROP + CREATE of this name: rows of older incarnations are gone. */
  incarnation: number
  /**
   * The name its shards and column catalog rows are stored under, when it differs from
   * `name` (the table was renamed: ALTER TABLE .. RENAME TO keeps its data where it is).
   * `incarnation` is then that storage's incarnation.
   */
  storage?: string
  columns: ColumnInfo[]
  primaryKey: string[]
  /** Null: follows the cluster default policy. */
  policy: PolicySpec | null
  regions: string[] | null
  partitioning: PartitionSpec | null
  options: Record<string, string>
  meta: Json
}

export interface ColumnInfo {
  name: string
  type: string
  kind: ColumnKind
  policy: PolicySpec | null
  meta: Json
  /**
   * Kinds the column had before its current one, oldest first (absent: never changed).
   * Values written under an earlier kind still count (see merge/column-epochs.ts).
   */
  epochs?: ColumnKind[]
  /**
   * The entry key its values are stored under, when the column was renamed (absent: the
   * name, or `name#n` after DROP + ADD). Values keep their key across renames, so a write
   * from a node that has not seen a rename yet lands in the renamed column.
   */
  skey?: string
}

/** A change to one materialized row. `before`/`after` are null when the row did not / does not exist. */
export interface RowChange {
  table: string
  key: string
  before: Row | null
  after: Row | null
  origin: 'local' | 'remote'
}

/** A change to a catalog object (table, column, setting, function, ...). */
export interface CatalogChange {
  kind: string
  name: string
  value: Json | null
  origin: 'local' | 'remote'
}

/**
 * How writes from different masters collided:
 * - `update_update`: concurrent writes of one column of one row (the policy chose one);
 * - `insert_insert`: concurrent inserts of one key (their columns merged, the policy
 *   chose where both wrote);
 * - `delete_update`: a row deleted concurrently with an update (the delete won);
 * - `unique`, `foreign_key`: found by the SQL layer after a merge (a UNIQUE value held
 *   by two rows; a child whose parent another node deleted).
 */
export type ConflictKind = 'update_update' | 'insert_insert' | 'delete_update' | 'unique' | 'foreign_key'

/** One value in a conflict: who wrote it, and when. */
export interface ConflictValue {
  writer: string
  value: Value
  hlc: number
}

/** A conflict as one replica resolved it (see ConflictKind). */
export interface ConflictRecord {
  table: string
  /** Primary key values of the row. */
  key: Value[]
  /** The column, for update_update and insert_insert; null for whole-row conflicts. */
  column: string | null
  kind: ConflictKind
  /** The policy that decided, as named in SQL (or the rule, for deletes and constraints). */
  policy: string
  /** What a reader sees; null for a row the delete won. */
  winner: ConflictValue | null
  losers: ConflictValue[]
}

/** Where a resolver is being applied: the table and column whose concurrent values it folds. */
export interface ResolverContext {
  table: string
  column: ColumnInfo
}

/**
 * A conflict resolver for `{ custom: name }` policies. Must be pure and deterministic:
 * every replica folds the same values in the same order and must get the same answer.
 */
export type Resolver = (a: Value, b: Value, context: ResolverContext) => Value
