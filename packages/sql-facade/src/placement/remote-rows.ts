/**
 * Rows of tables this node does not hold whole (its region does not hold the table, or
 * some partition is placed on other nodes), read from holders for the statement
 * running now (a federated read, core's `Replica.readFromHolder`). The executor reads
 * table rows only through `TransactionRows`, which asks here first: a table held here is
 * read locally (null), a table read from a holder is served from what it sent, and any
 * other table this node does not hold fails the read with `UnheldRead` — which the
 * session answers by reading the table from a holder and running the statement again.
 * Without a session to do that, `UnheldRead` reaches the client as the loud 0A000 it is.
 *
 * Invariants: a statement reads each such table from one holder, once, and all its reads
 * of it see those rows; each statement run has its own store (the session makes one per
 * statement), so no answer outlives, or leaks into another statement than, its own.
 */
import { encodeRowKey, holdsTable, notHeldHere, notHeldWhole, type Row, type TableInfo, type Value } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'

/** A read of a table this node does not hold and has not read from a holder for this statement. */
export class UnheldRead extends SqlError {
  readonly unheld: TableInfo

  constructor(table: TableInfo, region: string) {
    // Its region is held here and the table only in part (placed partitions, homed rows), or not held at all.
    super(SqlState.featureNotSupported, (holdsTable(region, table) ? notHeldWhole(table) : notHeldHere(table, region)).message)
    this.unheld = table
  }
}

/** A table's rows as a holder sent them. */
export interface RemoteTable {
  readonly rows: readonly Row[]
  get(key: Value[]): Row | undefined
}

class HolderRows implements RemoteTable {
  readonly incarnation: number
  readonly rows: readonly Row[]
  private readonly primaryKey: readonly string[]
  private byKey: Map<string, Row> | null = null

  constructor(info: TableInfo, rows: readonly Row[]) {
    this.incarnation = info.incarnation
    this.rows = rows
    this.primaryKey = info.primaryKey
  }

  get(key: Value[]): Row | undefined {
    if (key.some((v) => v === null)) return undefined
    if (this.byKey === null) {
      this.byKey = new Map()
      for (const r of this.rows) this.byKey.set(encodeRowKey(this.primaryKey.map((c) => r[c] ?? null)), r)
    }
    return this.byKey.get(encodeRowKey(key))
  }
}

export class RemoteRows {
  readonly region: string
  /** Made when a holder's rows come (most statements read only what is held here). */
  private tables: Map<string, HolderRows> | null = null
  private readonly holdsWhole: (info: TableInfo) => boolean

  /** `holdsWhole`: whether this node holds every shard of a table (core `Replica.holdsWhole`); by region alone when not given. */
  constructor(region: string, holdsWhole?: (info: TableInfo) => boolean) {
    this.region = region
    this.holdsWhole = holdsWhole ?? ((info) => holdsTable(region, info))
  }

  /** Whether rows of `info` are held here (read them locally): every shard of it, placed ones included. */
  holds(info: TableInfo): boolean {
    return this.holdsWhole(info)
  }

  /** Whether `info` was read from a holder for this statement. */
  has(info: TableInfo): boolean {
    return this.tables?.get(info.name)?.incarnation === info.incarnation
  }

  /** For a read of `info`: null when it is held here, else the rows a holder sent; throws `UnheldRead` when none were read. */
  lookup(info: TableInfo): RemoteTable | null {
    if (this.holds(info)) return null
    const got = this.tables?.get(info.name)
    if (got === undefined || got.incarnation !== info.incarnation) throw new UnheldRead(info, this.region)
    return got
  }

  add(info: TableInfo, rows: readonly Row[]): void {
    if (this.tables === null) this.tables = new Map()
    this.tables.set(info.name, new HolderRows(info, rows))
  }
}
