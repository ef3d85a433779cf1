/**
 * information_schema's privilege views: table_privileges, role_table_grants,
 * column_privileges and role_column_grants, over the statement's role directory, with
 * PostgreSQL 15's rows and filters.
 *
 * A relation's privileges are its owner's implicit ones (all, less those it revoked from
 * itself, granted by itself) and its grants; column_privileges adds to each column of a
 * table or view the relation's SELECT, INSERT, UPDATE and REFERENCES grants and that
 * column's own grants, one row per distinct (grantor, grantee, privilege, grant option),
 * as PostgreSQL's UNION does. `is_grantable` is YES when the grant carries the option or
 * the grantee has the owner's privileges (the owner, a superuser, a role inheriting the
 * owner). Sequences are in neither view (PostgreSQL lists them in usage_privileges).
 *
 * Visibility, as PostgreSQL's `pg_has_role(.., 'USAGE')` filter: a row shows when the
 * current role is a superuser or has the privileges of its grantor or of its grantee
 * (is it, or inherits it), or the grantee is PUBLIC; the role_* views drop the PUBLIC
 * clause (their filter is enabled_roles).
 */
import type { ExecCtx } from '../runtime/context.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { grantTarget } from '../catalog/grant-target.js'
import { PUBLIC_OID } from '../catalog/role-record.js'
import { ALL_PRIVILEGES, privilegeName, type PrivilegeLetter } from '../catalog/table-privilege.js'
import type { GrantTarget, RoleDirectory } from '../catalog/role-directory.js'
import { view, type SystemView } from '../runtime/system-view.js'
import { COLUMN_PRIVILEGES } from './column-grants.js'
import { roleName } from './role-views.js'

/** One privilege held on a relation or a column, as an aclitem entry says it. */
interface Held {
  grantor: number
  grantee: number
  privilege: PrivilegeLetter
  grantable: boolean
}

/** A relation the views list: a table or a view of schema public, its columns in order. */
interface Relation {
  name: string
  target: GrantTarget
  columns: string[]
}

/** PostgreSQL's order of privileges in these views' natural output. */
const INFO_ORDER: readonly PrivilegeLetter[] = ['a', 'r', 'w', 'd', 'D', 'x', 't']

function relations(exec: ExecCtx): Relation[] {
  const m = exec.catalog()
  const out: Relation[] = []
  for (const r of [...m.tables, ...m.views.filter((v) => v.namespace === 'public')]) {
    const target = grantTarget(exec.tx, r.name)
    if (target) out.push({ name: r.name, target, columns: r.attributes.map((a) => a.name) })
  }
  return out
}

/** The relation's table-level privileges: the owner's implicit ones, then its grants. */
function relationHeld(roles: RoleDirectory, t: GrantTarget): Held[] {
  const owner = roles.ownerOf(t)
  const revoked = roles.revokedFromOwner(t)
  const own = ALL_PRIVILEGES.filter((p) => !revoked.has(p)).map((privilege) => ({ grantor: owner, grantee: owner, privilege, grantable: true }))
  return [...own, ...roles.grantsOn(t).map((g) => ({ grantor: g.grantor, grantee: g.grantee, privilege: g.privilege, grantable: g.grantOption === true }))]
}

/** Who the statement's role is for these views: its filters and each grantee's claim to the owner's rights. */
class Viewer {
  private readonly roles: RoleDirectory
  private readonly superuser: boolean
  private readonly mine: Set<number>
  private readonly inherits = new Map<number, Set<number>>()

  constructor(exec: ExecCtx) {
    this.roles = exec.roles()
    this.superuser = exec.role.superuser
    this.mine = this.roles.memberOf(exec.role.oid, true)
    this.mine.add(exec.role.oid)
  }

  /** The views' WHERE: the grantor's or the grantee's privileges, or (unless `roleGrants`) a grant to PUBLIC. */
  sees(h: Held, roleGrants: boolean): boolean {
    return this.superuser || this.mine.has(h.grantor) || this.mine.has(h.grantee) || (!roleGrants && h.grantee === PUBLIC_OID)
  }

  /** is_grantable: the option, or the grantee has the owner's privileges (pg_has_role(grantee, owner, 'USAGE')). */
  grantable(h: Held, owner: number): boolean {
    if (h.grantable || h.grantee === owner) return true
    if (h.grantee === PUBLIC_OID) return false
    if (this.roles.roleByOid(h.grantee)?.superuser === true) return true
    let of = this.inherits.get(h.grantee)
    if (of === undefined) this.inherits.set(h.grantee, (of = this.roles.memberOf(h.grantee, true)))
    return of.has(owner)
  }
}

const byGranteeThenPrivilege = (a: Held, b: Held): number => a.grantee - b.grantee || INFO_ORDER.indexOf(a.privilege) - INFO_ORDER.indexOf(b.privilege) || a.grantor - b.grantor

function granteeName(exec: ExecCtx, oid: number): string {
  return oid === PUBLIC_OID ? 'PUBLIC' : roleName(exec, oid)
}

function tablePrivilegeRows(exec: ExecCtx, roleGrants: boolean): RtValue[][] {
  const roles = exec.roles()
  const viewer = new Viewer(exec)
  const rows: RtValue[][] = []
  for (const rel of relations(exec)) {
    const owner = roles.ownerOf(rel.target)
    for (const h of relationHeld(roles, rel.target).sort(byGranteeThenPrivilege)) {
      if (!viewer.sees(h, roleGrants)) continue
      rows.push([
        roleName(exec, h.grantor), granteeName(exec, h.grantee), exec.database, 'public', rel.name, privilegeName(h.privilege),
        viewer.grantable(h, owner) ? 'YES' : 'NO', h.privilege === 'r' ? 'YES' : 'NO',
      ])
    }
  }
  return rows
}

function columnPrivilegeRows(exec: ExecCtx, roleGrants: boolean): RtValue[][] {
  const roles = exec.roles()
  const viewer = new Viewer(exec)
  const rows: RtValue[][] = []
  for (const rel of relations(exec)) {
    const owner = roles.ownerOf(rel.target)
    const whole = relationHeld(roles, rel.target).filter((h) => COLUMN_PRIVILEGES.includes(h.privilege))
    const own = roles.columnGrantsOn(rel.target)
    for (const column of rel.columns) {
      // PostgreSQL's UNION: a column grant equal to a relation grant (option included) is one row.
      const seen = new Set<string>()
      const held: Held[] = []
      const add = (h: Held): void => {
        const k = `${h.grantor}/${h.grantee}/${h.privilege}/${h.grantable}`
        if (seen.has(k)) return
        seen.add(k)
        held.push(h)
      }
      whole.forEach(add)
      for (const g of own) {
        if (g.column === column) add({ grantor: g.grantor, grantee: g.grantee, privilege: g.privilege, grantable: g.grantOption === true })
      }
      for (const h of held.sort(byGranteeThenPrivilege)) {
        if (!viewer.sees(h, roleGrants)) continue
        rows.push([
          roleName(exec, h.grantor), granteeName(exec, h.grantee), exec.database, 'public', rel.name, column, privilegeName(h.privilege),
          viewer.grantable(h, owner) ? 'YES' : 'NO',
        ])
      }
    }
  }
  return rows
}

const TABLE_PRIVILEGE_COLUMNS: Array<[string, SqlType]> = [
  ['grantor', T.name], ['grantee', T.name], ['table_catalog', T.name], ['table_schema', T.name], ['table_name', T.name], ['privilege_type', T.varchar],
  ['is_grantable', T.varchar], ['with_hierarchy', T.varchar],
]

const COLUMN_PRIVILEGE_COLUMNS: Array<[string, SqlType]> = [
  ['grantor', T.name], ['grantee', T.name], ['table_catalog', T.name], ['table_schema', T.name], ['table_name', T.name], ['column_name', T.name],
  ['privilege_type', T.varchar], ['is_grantable', T.varchar],
]

export const PRIVILEGE_INFORMATION_SCHEMA_VIEWS: Record<string, SystemView> = {
  table_privileges: view(TABLE_PRIVILEGE_COLUMNS, (ctx) => tablePrivilegeRows(ctx.exec, false)),
  role_table_grants: view(TABLE_PRIVILEGE_COLUMNS, (ctx) => tablePrivilegeRows(ctx.exec, true)),
  column_privileges: view(COLUMN_PRIVILEGE_COLUMNS, (ctx) => columnPrivilegeRows(ctx.exec, false)),
  role_column_grants: view(COLUMN_PRIVILEGE_COLUMNS, (ctx) => columnPrivilegeRows(ctx.exec, true)),
}
