/**
 * The roles and privileges catalogs: pg_roles, pg_user, pg_authid (superusers only, as
 * in PostgreSQL; it shows the SCRAM verifiers), pg_auth_members, and
 * information_schema.table_privileges / role_table_grants, over the statement's role
 * directory (catalog/role-directory.ts). pg_class.relowner / relacl and pg_tables read the
 * owners and grants through `relationOwner` and `relationAcl`.
 *
 * The bootstrap superuser (OID 10) is shown under the session's name while the session
 * is the open-mode superuser (no LOGIN roles yet, any user name accepted): that is who
 * such a client connected as and owns what it created.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx } from '../runtime/context.js'
import { arrayOf, T, type SqlType } from '../types/sql-type.js'
import { SqlArray } from '../types/array.js'
import type { RtValue } from '../types/value.js'
import { grantTarget, isSequence } from '../catalog/grant-target.js'
import { BOOTSTRAP_OID, PUBLIC_OID, type RoleRecord } from '../catalog/role-record.js'
import { roleVerifier } from '../catalog/role-secret.js'
import { ALL_PRIVILEGES, privilegeName, SEQUENCE_PRIVILEGES, type PrivilegeLetter } from '../catalog/table-privilege.js'
import type { TableGrant } from '../catalog/role-directory.js'
import { view, type SystemView } from '../runtime/system-view.js'

const name = T.name
const oid = T.oid
const bool = T.bool
const int4 = T.int4
const text = T.text
const textArray = arrayOf(T.text)

/** The roles as this statement sees them, the open-mode session standing for the bootstrap superuser. */
function roleList(exec: ExecCtx): RoleRecord[] {
  return exec.roles().roles().map((r) => (r.oid === BOOTSTRAP_OID && exec.role.oid === BOOTSTRAP_OID ? { ...r, name: exec.role.name } : r))
}

/** A role OID's name ('' for PUBLIC), as owners and grantors print. */
export function roleName(exec: ExecCtx, roleOid: number): string {
  if (roleOid === BOOTSTRAP_OID && exec.role.oid === BOOTSTRAP_OID) return exec.role.name
  return exec.roles().nameOf(roleOid)
}

/** The owner OID of a table or view of this database (the bootstrap superuser when it has none recorded). */
export function relationOwner(exec: ExecCtx, relation: string): number {
  const t = grantTarget(exec.tx, relation)
  return t ? exec.roles().ownerOf(t) : BOOTSTRAP_OID
}

/** pg_class.relacl of a table or view: null while nothing was granted. */
export function relationAcl(exec: ExecCtx, relation: string): SqlArray | null {
  const t = grantTarget(exec.tx, relation)
  const items = t ? exec.roles().acl(t, isSequence(exec.tx, relation) ? SEQUENCE_PRIVILEGES : undefined) : null
  return items === null ? null : asSeen(exec, items)
}

/** aclitems as the session sees them: the directory names OID 10 'concord'; an open-mode session sees it under its own name. */
function asSeen(exec: ExecCtx, items: string[]): SqlArray {
  const boot = roleName(exec, BOOTSTRAP_OID)
  return SqlArray.of(boot === 'concord' ? items : items.map((i) => i.replace(/(^|=|\/)concord(?=[=/]|$)/g, `$1${boot}`)))
}

/** pg_attribute.attacl: a column's privileges granted by column (GRANT SELECT (a) ON t), null without any. */
export function columnAcl(exec: ExecCtx, relation: string, column: string): SqlArray | null {
  const t = grantTarget(exec.tx, relation)
  const items = t ? exec.roles().columnAcl(t, column) : null
  return items === null ? null : asSeen(exec, items)
}

/** Whether the statement's role may SELECT from the table (views that show row data filter by it). */
export function mayRead(exec: ExecCtx, table: string): boolean {
  if (exec.role.superuser) return true
  const t = grantTarget(exec.tx, table)
  return t !== undefined && exec.roles().privileges(exec.role.oid, t).has('r')
}

function validUntil(r: RoleRecord): number | null {
  if (r.validUntil === null) return null
  const ms = Date.parse(r.validUntil)
  return Number.isNaN(ms) ? null : ms * 1000
}

const pgRoles = view(
  [
    ['rolname', name], ['rolsuper', bool], ['rolinherit', bool], ['rolcreaterole', bool], ['rolcreatedb', bool], ['rolcanlogin', bool],
    ['rolreplication', bool], ['rolconnlimit', int4], ['rolpassword', text], ['rolvaliduntil', T.timestamptz], ['rolbypassrls', bool],
    ['rolconfig', textArray], ['oid', oid],
  ],
  (ctx) => roleList(ctx.exec).map((r) => [
    r.name, r.superuser, r.inherit, r.createrole, r.createdb, r.login, false, r.connlimit, '********', validUntil(r), r.superuser, null, r.oid,
  ]),
)

const pgUser = view(
  [['usename', name], ['usesysid', oid], ['usecreatedb', bool], ['usesuper', bool], ['userepl', bool], ['usebypassrls', bool], ['passwd', text], ['valuntil', T.timestamptz], ['useconfig', textArray]],
  (ctx) => roleList(ctx.exec).filter((r) => r.login).map((r) => [r.name, r.oid, r.createdb, r.superuser, false, r.superuser, '********', validUntil(r), null]),
)

const pgAuthid = view(
  [
    ['oid', oid], ['rolname', name], ['rolsuper', bool], ['rolinherit', bool], ['rolcreaterole', bool], ['rolcreatedb', bool], ['rolcanlogin', bool],
    ['rolreplication', bool], ['rolbypassrls', bool], ['rolconnlimit', int4], ['rolpassword', text], ['rolvaliduntil', T.timestamptz],
  ],
  (ctx) => {
    if (!ctx.exec.role.superuser) throw new SqlError(SqlState.insufficientPrivilege, 'permission denied for table pg_authid')
    return roleList(ctx.exec).map((r) => [
      r.oid, r.name, r.superuser, r.inherit, r.createrole, r.createdb, r.login, false, r.superuser, r.connlimit, roleVerifier(ctx.exec.tx, r), validUntil(r),
    ])
  },
)

const pgAuthMembers = view(
  [['oid', oid], ['roleid', oid], ['member', oid], ['grantor', oid], ['admin_option', bool], ['inherit_option', bool], ['set_option', bool]],
  (ctx) => ctx.exec.roles().memberships.map((m, i) => [i + 1, m.role, m.member, BOOTSTRAP_OID, m.admin, true, true]),
)

/** PostgreSQL's order of table privileges in information_schema. */
const INFO_ORDER: readonly PrivilegeLetter[] = ['a', 'r', 'w', 'd', 'D', 'x', 't']

/** Every table privilege: the owners' implicit ones and the grants, visible to the current role. */
function privilegeRows(exec: ExecCtx, includePublic: boolean): RtValue[][] {
  const roles = exec.roles()
  const mine = roles.memberOf(exec.role.oid)
  mine.add(exec.role.oid)
  const visible = (grantor: number, grantee: number): boolean => exec.role.superuser || mine.has(grantor) || mine.has(grantee) || grantee === PUBLIC_OID
  const rows: RtValue[][] = []
  const relations = [...exec.catalog().tables.map((t) => t.name), ...exec.catalog().views.filter((v) => v.namespace === 'public').map((v) => v.name)]
  for (const rel of relations) {
    const t = grantTarget(exec.tx, rel)
    if (!t) continue
    const owner = roles.ownerOf(t)
    const grants: Array<Pick<TableGrant, 'grantee' | 'privilege' | 'grantor' | 'grantOption'>> = [
      ...ALL_PRIVILEGES.map((privilege) => ({ grantee: owner, privilege, grantor: owner })),
      ...roles.grantsOn(t),
    ]
    grants.sort((a, b) => a.grantee - b.grantee || INFO_ORDER.indexOf(a.privilege) - INFO_ORDER.indexOf(b.privilege))
    for (const g of grants) {
      if (!visible(g.grantor, g.grantee) || (!includePublic && g.grantee === PUBLIC_OID)) continue
      const grantee = g.grantee === PUBLIC_OID ? 'PUBLIC' : roleName(exec, g.grantee)
      rows.push([roleName(exec, g.grantor), grantee, exec.database, 'public', rel, privilegeName(g.privilege), g.grantee === owner || g.grantOption === true ? 'YES' : 'NO', g.privilege === 'r' ? 'YES' : 'NO'])
    }
  }
  return rows
}

const PRIVILEGE_COLUMNS: Array<[string, SqlType]> = [
  ['grantor', name], ['grantee', name], ['table_catalog', name], ['table_schema', name], ['table_name', name], ['privilege_type', T.varchar],
  ['is_grantable', T.varchar], ['with_hierarchy', T.varchar],
]

export const ROLE_CATALOG_VIEWS: Record<string, SystemView> = {
  pg_roles: pgRoles,
  pg_user: pgUser,
  pg_authid: pgAuthid,
  pg_auth_members: pgAuthMembers,
}

export const ROLE_INFORMATION_SCHEMA_VIEWS: Record<string, SystemView> = {
  table_privileges: view(PRIVILEGE_COLUMNS, (ctx) => privilegeRows(ctx.exec, true)),
  role_table_grants: view(PRIVILEGE_COLUMNS, (ctx) => privilegeRows(ctx.exec, false)),
}
