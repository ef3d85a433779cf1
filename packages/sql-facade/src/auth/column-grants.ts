/**
 * Column privileges of one relation as a GRANT or REVOKE changes them: `GRANT SELECT (a)
 * ON t TO bob [WITH GRANT OPTION]`, `REVOKE [GRANT OPTION FOR] UPDATE (a) ON t FROM bob
 * [CASCADE]`, and the column side of a table-level REVOKE (which takes the grantee's column
 * privileges of that kind too, as in PostgreSQL). A role holding one may read (SELECT), give
 * values to (INSERT) or set (UPDATE) those columns without the relation's privilege
 * (auth/access-check.ts); tables and views have them.
 *
 * Who grants, as PostgreSQL: the owner (or a superuser, or a member of the owning role),
 * recorded as the owner; or a role holding the grant option for the privilege, on the
 * column or on the whole relation, recorded as the grantor (itself, or the role it
 * inherits the option from). Privileges it holds without the option are skipped with a
 * warning (`no privileges were granted for column "a" of relation "t"`); holding nothing
 * on the column or the relation is 42501 (`permission denied for column "a" of relation
 * "t"`). REVOKE takes back only what the grantor granted.
 *
 * Invariants: after a statement, no column grant remains whose grantor lost the grant
 * option it was made with (from the column or the relation): REVOKE .. CASCADE removes the
 * chain, RESTRICT (the default) fails with 2BP01 before the statement commits, so the
 * transaction keeps nothing. That holds for grants made with a table-level option too,
 * where PostgreSQL 15 leaves them behind when the table's option is revoked
 * (docs/compatibility.md).
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { CatalogTransaction } from '../runtime/context.js'
import type { GrantTarget, RoleDirectory, TableGrant } from '../catalog/role-directory.js'
import { columnGrantKey, TABLE_GRANT_KIND } from '../catalog/role-record.js'
import { privilegeLetter, privilegeName, type PrivilegeLetter } from '../catalog/table-privilege.js'

/** The privileges a column can hold (PostgreSQL's: SELECT, INSERT, UPDATE, REFERENCES). */
export const COLUMN_PRIVILEGES: readonly PrivilegeLetter[] = ['r', 'a', 'w', 'x']

/** One `privilege (column, ..)` of a GRANT or REVOKE (no `priv_name`: ALL). */
export interface ColumnPrivilegeItem {
  priv_name?: string
  cols?: Node[]
}

/** What a column GRANT / REVOKE statement asks. */
export interface ColumnChange {
  isGrant: boolean
  /** GRANT .. WITH GRANT OPTION, or REVOKE GRANT OPTION FOR. */
  option: boolean
  cascade: boolean
  /** The role running the statement. */
  current: number
  grantees: readonly number[]
}

export class ColumnGrants {
  private readonly tx: CatalogTransaction
  private readonly dir: RoleDirectory
  private readonly target: GrantTarget
  private readonly tableGrants: readonly TableGrant[]
  private readonly live: TableGrant[]
  private readonly owner: number

  /**
   * `tableGrants`: the relation's table-level grants as the statement leaves them (the
   * caller's list, changed in place as it revokes), so a grant option still held on the
   * whole relation keeps the column grants made with it.
   */
  constructor(tx: CatalogTransaction, dir: RoleDirectory, target: GrantTarget, tableGrants: readonly TableGrant[]) {
    this.tx = tx
    this.dir = dir
    this.target = target
    this.tableGrants = tableGrants
    this.live = dir.columnGrantsOn(target).map((g) => ({ ...g }))
    this.owner = dir.ownerOf(target)
  }

  /**
   * GRANT / REVOKE privilege (column, ..) ON the relation, whose columns are `columns`.
   * Returns the warnings PostgreSQL gives for privileges skipped for want of the option.
   */
  change(items: readonly ColumnPrivilegeItem[], columns: readonly string[], c: ColumnChange): string[] {
    const wanted = new Map<string, PrivilegeLetter[]>()
    for (const p of items) {
      const letters = p.priv_name === undefined ? COLUMN_PRIVILEGES : [privilegeLetter(p.priv_name)]
      for (const l of letters) {
        if (!COLUMN_PRIVILEGES.includes(l)) throw new SqlError(SqlState.invalidGrantOperation, `invalid privilege type ${privilegeName(l)} for column`)
      }
      for (const n of p.cols ?? []) {
        const column = 'String' in n ? n.String.sval ?? '' : ''
        if (!columns.includes(column)) throw new SqlError(SqlState.undefinedColumn, `column "${column}" of relation "${this.target.name}" does not exist`)
        const list = wanted.get(column) ?? []
        for (const l of letters) if (!list.includes(l)) list.push(l)
        wanted.set(column, list)
      }
    }
    const asOwner = this.dir.actsAsOwner(c.current, this.target)
    const warnings: string[] = []
    // Columns in the relation's order, as PostgreSQL checks them.
    for (const column of columns.filter((x) => wanted.has(x))) {
      const letters = wanted.get(column)!
      const grantorOf = (l: PrivilegeLetter): number | undefined => (asOwner ? this.owner : this.dir.columnGrantOptionHolder(c.current, this.target, l, column))
      const held = letters.filter((l) => grantorOf(l) !== undefined)
      if (held.length === 0 && !this.dir.holdsOnColumn(c.current, this.target, column)) {
        throw new SqlError(SqlState.insufficientPrivilege, `permission denied for column "${column}" of relation "${this.target.name}"`)
      }
      if (held.length < letters.length) {
        const none = held.length === 0 ? 'no' : 'not all'
        warnings.push(c.isGrant
          ? `${none} privileges were granted for column "${column}" of relation "${this.target.name}"`
          : `${none} privileges could be revoked for column "${column}" of relation "${this.target.name}"`)
      }
      for (const grantee of c.grantees) {
        for (const l of held) {
          const grantor = grantorOf(l)!
          const existing = this.find(grantee, l, column, grantor)
          if (c.isGrant) {
            // A grant without the option keeps an option granted before, as in PostgreSQL.
            this.put({ table: this.target.name, incarnation: this.target.incarnation, grantee, privilege: l, grantor, column, grantOption: c.option || existing?.grantOption === true })
            continue
          }
          if (existing === undefined) continue
          if (c.option) {
            if (existing.grantOption === true) this.put({ ...existing, grantOption: false })
          } else {
            this.remove(existing)
          }
          this.settle(grantee, l, column, c.cascade)
        }
      }
    }
    return warnings
  }

  /**
   * The column side of `REVOKE [GRANT OPTION FOR] privilege ON relation FROM grantee`: the
   * grantee's column privileges of that kind granted by `grantor` go (or lose their
   * option), and what the grantee granted on columns with an option it no longer holds
   * goes with CASCADE (2BP01 without).
   */
  revokeWithTable(grantee: number, letter: PrivilegeLetter, grantor: number, optionOnly: boolean, cascade: boolean): void {
    for (const g of this.live.filter((x) => x.grantee === grantee && x.privilege === letter && x.grantor === grantor)) {
      if (!optionOnly) this.remove(g)
      else if (g.grantOption === true) this.put({ ...g, grantOption: false })
    }
    const columns = new Set(this.live.filter((x) => x.grantor === grantee && x.privilege === letter).map((x) => x.column!))
    for (const column of columns) this.settle(grantee, letter, column, cascade)
  }

  private find(grantee: number, letter: PrivilegeLetter, column: string, grantor: number): TableGrant | undefined {
    return this.live.find((g) => g.grantee === grantee && g.privilege === letter && g.column === column && g.grantor === grantor)
  }

  private key(g: Pick<TableGrant, 'grantee' | 'privilege' | 'column' | 'grantor'>): string {
    return columnGrantKey(this.target.name, g.grantee, g.privilege, g.column!, g.grantor === this.owner ? undefined : g.grantor)
  }

  private put(g: Omit<TableGrant, 'key'>): void {
    const key = this.key(g)
    const record = {
      table: g.table, incarnation: g.incarnation, grantee: g.grantee, privilege: g.privilege, grantor: g.grantor, column: g.column!,
      ...(g.grantOption === true ? { grantOption: true } : {}),
    }
    this.tx.setCatalog(TABLE_GRANT_KIND, key, record)
    const i = this.live.findIndex((x) => x.key === key)
    if (i >= 0) this.live.splice(i, 1)
    this.live.push({ ...g, key })
  }

  private remove(g: TableGrant): void {
    this.tx.setCatalog(TABLE_GRANT_KIND, g.key, null)
    const i = this.live.findIndex((x) => x.key === g.key)
    if (i >= 0) this.live.splice(i, 1)
  }

  /**
   * After `grantee` lost a privilege or an option on `column`: the grants it made there
   * with an option it no longer holds (on the column or the relation) are revoked with
   * CASCADE, and theirs in turn; without CASCADE their existence is 2BP01.
   */
  private settle(grantee: number, letter: PrivilegeLetter, column: string, cascade: boolean): void {
    if (grantee === this.owner) return
    const option = (g: TableGrant): boolean => g.grantee === grantee && g.privilege === letter && g.grantOption === true
    if (this.live.some((g) => option(g) && g.column === column) || this.tableGrants.some(option)) return
    const dependents = this.live.filter((g) => g.grantor === grantee && g.privilege === letter && g.column === column)
    if (dependents.length === 0) return
    if (!cascade) throw new SqlError(SqlState.dependentObjectsStillExist, 'dependent privileges exist', { hint: 'Use CASCADE to revoke them too.' })
    // Each pass removes at least one grant, so the chain ends (cycles of grantees included).
    for (const d of dependents) {
      this.remove(d)
      this.settle(d.grantee, letter, column, cascade)
    }
  }
}
