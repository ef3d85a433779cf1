/**
 * Finds foreign keys that merging broke. Each node enforces foreign keys against what it
 * has seen; a parent deleted on one node while another inserts a child of it leaves, once
 * both writes meet, a child without a parent (neither write is undone). Such rows are
 * recorded as conflicts of kind `foreign_key`.
 *
 * Checked after changes from other nodes only: a remote insert or update of a child row
 * checks that row; a remote delete (or key change) of a parent row checks the tables
 * that reference it. Each broken key is reported once per row and constraint, until it is
 * repaired and broken again.
 */
import { decodeRowKey, type RowChange, type Value } from '@concord/core'
import { foreignKeysOf, referencingKeys } from '../catalog/foreign-key.js'
import { brokenForeignKeysIn, type CommittedRows } from '../exec/broken-foreign-keys.js'
import { keyText, type ConflictEntry } from './conflict-log.js'

/** Reports remembered before the set is cleared (bounded). */
const MAX_REPORTED = 100_000

export class ForeignKeyWatch {
  private readonly reported = new Set<string>()

  private readonly db: CommittedRows
  private readonly report: (e: ConflictEntry) => void

  constructor(
    db: CommittedRows,
    report: (e: ConflictEntry) => void,
  ) {
    this.db = db
    this.report = report
  }

  onChanges(changes: RowChange[]): void {
    let scope: Map<string, Value[][] | null> | null = null
    const add = (table: string, key: Value[] | null) => {
      scope ??= new Map()
      if (key === null) scope.set(table, null)
      else if (scope.get(table) !== null) {
        const list = scope.get(table) ?? []
        list.push(key)
        scope.set(table, list)
      }
    }
    const tables = this.db.replica.tables()
    for (const c of changes) {
      if (c.origin !== 'remote') continue
      const info = this.db.replica.table(c.table)
      if (info === undefined) continue
      if (c.after !== null && foreignKeysOf(info).length > 0) add(c.table, decodeRowKey(c.key, info.primaryKey.length))
      if (c.before !== null) for (const { child } of referencingKeys(tables, c.table)) add(child.name, null)
    }
    if (scope === null) return
    for (const b of brokenForeignKeysIn(this.db, scope)) {
      const info = this.db.replica.table(b.table)
      if (info === undefined) continue
      const key = keyText(info, b.key)
      const id = `${b.table}\u0000${key}\u0000${b.constraint}`
      if (this.reported.has(id)) continue
      if (this.reported.size >= MAX_REPORTED) this.reported.clear()
      this.reported.add(id)
      this.report({
        table: b.table,
        key,
        column: b.columns.join(', '),
        kind: 'foreign_key',
        policy: 'keep_child',
        winningValue: b.detail,
        winningNode: null,
        losingValues: [`${b.refTable}(${b.refColumns.join(', ')})`],
        nodes: this.db.replica.rowWriters(b.table, b.key),
        at: this.db.replica.now(),
      })
    }
  }
}
