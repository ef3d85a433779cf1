/**
 * A session's temporary tables, views and sequences (CREATE TEMP TABLE / VIEW / SEQUENCE): PostgreSQL's
 * pg_temp schema. They live in a replica of their own, in memory, with no transport and
 * no timers, owned by the session: nothing of them is replicated, written to disk, or
 * seen by another session, and they are gone when the session closes (or DISCARD TEMP).
 *
 * Statements see both through one layered transaction: a name resolves to the session's
 * temporary relation first, then to the database's (pg_temp leads the search path, as in
 * PostgreSQL). Row reads and writes, DDL and the catalog objects that belong to a
 * temporary relation (its indexes, a temporary view or sequence) go to the temporary replica;
 * everything else to the database's.
 *
 * Invariants: a relation is temporary iff the temporary replica holds it; a temporary
 * table's meta carries `temporary: true` (so the database's secondary indexes, which
 * describe permanent tables only, are never used for it); both transactions of a layered
 * one commit or neither does (the database's first: the temporary replica commits from
 * memory and cannot fail for lack of disk).
 */
import type { Statement } from '../parser/statement.js'
import { Replica, type CommitOptions, type Json, type OpenTransaction, type Transaction, type TransactionSavepoint, type TableInfo } from '@concord/core'

/** The catalog object kinds a temporary relation owns (by the relation they name). */
const OWNED_KINDS = new Set(['index', 'view', 'sequence'])

function record(v: Json | undefined): Record<string, Json> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : null
}

/** Whether a catalog object written through a layered transaction belongs in the temporary replica. */
function isTempObject(kind: string, name: string, value: Json | null, temp: Transaction): boolean {
  if (!OWNED_KINDS.has(kind)) return false
  const held = temp.getCatalog(kind, name)
  if (held !== undefined && held !== null) return true
  const v = record(value ?? undefined)
  if (!v) return false
  if (kind === 'index') return typeof v['table'] === 'string' && temp.table(v['table']) !== undefined
  return v['temporary'] === true
}

/**
 * Savepoints over both sides of a layered transaction, where both sides take them (core's
 * transactions do): a PL/pgSQL EXCEPTION block undoes its writes through them.
 */
function withSavepoints(tx: Transaction, main: Transaction, temp: Transaction): Transaction {
  const m = main as Partial<OpenTransaction>
  const t = temp as Partial<OpenTransaction>
  if (typeof m.savepoint !== 'function' || typeof t.savepoint !== 'function' || typeof m.rollbackTo !== 'function' || typeof t.rollbackTo !== 'function') return tx
  const marks = new WeakMap<TransactionSavepoint, TransactionSavepoint>()
  return Object.assign(tx, {
    savepoint: () => {
      const mark = m.savepoint!()
      marks.set(mark, t.savepoint!())
      return mark
    },
    rollbackTo: (mark: TransactionSavepoint) => {
      m.rollbackTo!(mark)
      const other = marks.get(mark)
      if (other) t.rollbackTo!(other)
    },
  })
}

/** One transaction over the database's (`main`) and the session's temporary (`temp`) transactions. */
function layered<T extends Transaction>(main: T, temp: T): Transaction {
  const owner = (table: string): Transaction => (temp.table(table) ? temp : main)
  return {
    createTable: (spec) => (record(spec.meta ?? null)?.['temporary'] === true ? temp : main).createTable(spec),
    dropTable: (name) => owner(name).dropTable(name),
    addColumn: (table, column) => owner(table).addColumn(table, column),
    dropColumn: (table, column) => owner(table).dropColumn(table, column),
    alterColumn: (table, column, patch) => owner(table).alterColumn(table, column, patch),
    alterTable: (name, patch) => owner(name).alterTable(name, patch),
    renameTable: (name, newName) => owner(name).renameTable(name, newName),
    renameColumn: (table, column, newName) => owner(table).renameColumn(table, column, newName),
    table: (name) => temp.table(name) ?? main.table(name),
    tables: () => {
      const own = temp.tables()
      const names = new Set(own.map((t) => t.name))
      return [...own, ...main.tables().filter((t) => !names.has(t.name))].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    },
    setCatalog: (kind, name, value) => (isTempObject(kind, name, value, temp) ? temp : main).setCatalog(kind, name, value),
    getCatalog: (kind, name) => {
      const v = OWNED_KINDS.has(kind) ? temp.getCatalog(kind, name) : undefined
      return v !== undefined && v !== null ? v : main.getCatalog(kind, name)
    },
    listCatalog: (kind) => {
      if (!OWNED_KINDS.has(kind)) return main.listCatalog(kind)
      const own = temp.listCatalog(kind)
      const names = new Set(own.map(([n]) => n))
      return [...own, ...main.listCatalog(kind).filter(([n]) => !names.has(n))]
    },
    // Role records and their secrets (the only users of these two) are never temporary.
    replaceCatalog: (kind, name, value) => main.replaceCatalog(kind, name, value),
    setSecret: (kind, name, value) => main.setSecret(kind, name, value),
    getSecret: (kind, name) => main.getSecret(kind, name),
    get: (table, key) => owner(table).get(table, key),
    getHeld: (table, rowKey) => owner(table).getHeld(table, rowKey),
    scan: (table) => owner(table).scan(table),
    insert: (table, row, defaulted) => owner(table).insert(table, row, defaulted),
    insertNew: (table, row, defaulted) => owner(table).insertNew(table, row, defaulted),
    upsert: (table, row) => owner(table).upsert(table, row),
    update: (table, key, changes) => owner(table).update(table, key, changes),
    increment: (table, key, column, delta) => owner(table).increment(table, key, column, delta),
    delete: (table, key) => owner(table).delete(table, key),
    writtenKeys: (table) => owner(table).writtenKeys(table),
    get catalogWrites() {
      const a = main.catalogWrites
      const b = temp.catalogWrites
      return a === undefined || b === undefined ? undefined : a + b
    },
  }
}

/** Whether a statement creates a temporary table or view (so the session's temporary replica must be open). */
export function createsTempRelation(stmt: Statement): boolean {
  if (stmt.kind !== 'pg') return false
  const n = stmt.node
  if ('CreateStmt' in n) return n.CreateStmt.relation?.relpersistence === 't'
  if ('CreateTableAsStmt' in n) return n.CreateTableAsStmt.into?.rel?.relpersistence === 't'
  if ('SelectStmt' in n) return n.SelectStmt.intoClause?.rel?.relpersistence === 't'
  if ('ViewStmt' in n) return n.ViewStmt.view?.relpersistence === 't'
  if ('CreateSeqStmt' in n) return n.CreateSeqStmt.sequence?.relpersistence === 't'
  return false
}

/** Whether a table is a session's temporary table (its meta says so). */
export function isTemporaryTable(t: TableInfo): boolean {
  return record(t.meta)?.['temporary'] === true
}

export class TempSchema {
  private replica: Replica | null = null
  private opening: Promise<Replica> | null = null
  private readonly main: Replica

  constructor(main: Replica) {
    this.main = main
  }

  /** Whether the session has made a temporary relation (the replica exists). */
  get active(): boolean {
    return this.replica !== null
  }

  /** Opens the temporary replica (before the first statement that creates a temporary relation). */
  async open(): Promise<void> {
    if (this.replica) return
    this.opening ??= Replica.open({
      nodeId: `${this.main.nodeId}.temp`,
      region: this.main.region,
      clock: () => this.main.now(),
      random: () => this.main.random(),
      antiEntropyIntervalMs: 0,
      housekeepingIntervalMs: 0,
      compaction: { enabled: false },
    })
    this.replica = await this.opening
  }

  /** Runs `fn` in one transaction of the database and, when it exists, of the temporary replica. */
  transact<T>(fn: (tx: Transaction) => T, options?: CommitOptions): T {
    const temp = this.replica
    if (!temp) return this.main.transact(fn, options)
    return temp.transact((ttx) => this.main.transact((mtx) => fn(withSavepoints(layered(mtx, ttx), mtx, ttx)), options))
  }

  /** An open transaction (BEGIN) of the database and, when it exists, of the temporary replica. */
  begin(): OpenTransaction {
    const main = this.main.begin()
    return this.replica ? this.layerOpen(main) : main
  }

  /**
   * `main` (an open transaction of the database) layered over a new transaction of the
   * temporary replica, which must be open: BEGIN, or a block that creates the session's
   * first temporary relation. A savepoint taken before the layering rolls the temporary
   * side back to where it started.
   */
  layerOpen(main: OpenTransaction): OpenTransaction {
    if (!this.replica) throw new Error('the temporary replica is not open')
    const temp = this.replica.begin()
    const start = temp.savepoint()
    const tx = layered(main, temp)
    const marks = new WeakMap<TransactionSavepoint, TransactionSavepoint>()
    return Object.assign(tx, {
      savepoint: () => {
        const mark = main.savepoint()
        marks.set(mark, temp.savepoint())
        return mark
      },
      rollbackTo: (mark: TransactionSavepoint) => {
        main.rollbackTo(mark)
        temp.rollbackTo(marks.get(mark) ?? start)
      },
      // A session's temporary rows never travel to another engine.
      carryRows: () => null,
      commit: (options?: CommitOptions) => {
        main.commit(options)
        temp.commit()
      },
    })
  }

  /** Drops every temporary relation (DISCARD TEMP, session end): the replica is closed, its memory freed. */
  async discard(): Promise<void> {
    const r = this.replica ?? (this.opening ? await this.opening : null)
    this.replica = null
    this.opening = null
    if (r) await r.close()
  }
}
