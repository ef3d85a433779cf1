/**
 * Foreign keys broken across nodes. Each node enforces foreign keys against what it has
 * seen, so two nodes can break one together: node A deletes a parent row while node B,
 * not yet knowing, inserts a child referencing it. Both statements were valid where they
 * ran; after replication the child stays and its parent is gone (nothing is undone: no
 * write acknowledged to a client is lost). This module finds such rows so they can be
 * reported (the `concord_conflicts` view, kind 'foreign_key') and repaired by the user.
 */
import { holdsTable, type Replica, type Value } from '@concord/core'
import { foreignKeysOf } from '../catalog/foreign-key.js'
import { tableMeta } from '../catalog/table-meta.js'
import type { SecondaryIndexes } from '../catalog/secondary-index.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { ForeignKeyChecks } from '../runtime/foreign-key-checks.js'
import { TransactionRows } from '../runtime/transaction-rows.js'

export interface BrokenForeignKey {
  /** The referencing (child) table and its row's primary key. */
  table: string
  key: Value[]
  constraint: string
  columns: string[]
  refTable: string
  refColumns: string[]
  /** Why the row breaks the key, as the 23503 detail PostgreSQL would give. */
  detail: string
}

/**
 * The rows of `table` (every table when omitted) whose foreign key has no parent row on
 * this node now. Reads the node's committed rows; writes nothing. Only keys whose child
 * and parent tables this node's region both holds are checked: rows that are not here
 * cannot be judged here (their holders check them).
 */
/** What finding broken keys reads: a replica's committed rows and its indexes (a `Database` has both). */
export interface CommittedRows {
  replica: Replica
  indexes: SecondaryIndexes
}

export function findBrokenForeignKeys(db: CommittedRows, table?: string): BrokenForeignKey[] {
  return brokenForeignKeys(db, table === undefined ? null : new Map([[table, null]]))
}

/**
 * Like `findBrokenForeignKeys`, for some tables only: per child table, the rows to check
 * (by primary key), or null for all of them. Tables that no longer exist are skipped.
 */
export function brokenForeignKeysIn(db: CommittedRows, scope: ReadonlyMap<string, Value[][] | null>): BrokenForeignKey[] {
  return brokenForeignKeys(db, scope, true)
}

function brokenForeignKeys(db: CommittedRows, scope: ReadonlyMap<string, Value[][] | null> | null, skipMissing = false): BrokenForeignKey[] {
  const table = scope === null || skipMissing ? undefined : [...scope.keys()][0]
  // A transaction that is never committed: a read-only view of the committed rows.
  const tx = db.replica.begin()
  const rows = new TransactionRows(tx, db.indexes)
  const checks = new ForeignKeyChecks({
    rows,
    table: (n) => tx.table(n),
    tables: () => tx.tables(),
    writerFor: () => {
      throw new SqlError(SqlState.featureNotSupported, 'finding broken foreign keys writes nothing')
    },
    nowMicros: db.replica.now() * 1000,
  })
  const region = db.replica.region
  const tables = scope === null ? tx.tables() : [...scope.keys()].map((n) => tx.table(n)).filter((t) => t !== undefined)
  if (table !== undefined && tables.length === 0) throw new SqlError(SqlState.undefinedTable, `relation "${table}" does not exist`)
  const out: BrokenForeignKey[] = []
  for (const t of tables) {
    if (tableMeta(t).partitionOf) continue
    if (!holdsTable(region, t)) continue
    const keys = scope?.get(t.name) ?? null
    const picked = keys === null ? null : keys.map((k) => rows.get(t.name, k)).filter((r) => r !== undefined)
    for (const fk of foreignKeysOf(t)) {
      const parent = tx.table(fk.refTable)
      if (parent !== undefined && !holdsTable(region, parent)) continue
      for (const row of picked ?? rows.scan(t.name)) {
        const e = checks.violation(t, fk, row)
        if (e === null) continue
        out.push({ table: t.name, key: t.primaryKey.map((c) => row[c] ?? null), constraint: fk.name, columns: fk.columns, refTable: fk.refTable, refColumns: fk.refColumns, detail: e.detail ?? e.message })
      }
    }
  }
  return out
}
