/**
 * The roles and privileges catalogs: pg_roles, pg_user, pg_authid (superusers only, as
 * in PostgreSQL; it shows the SCRAM verifiers) and pg_auth_members, over the statement's
 * role directory (catalog/role-directory.ts); information_schema's privilege views are in
 * privilege-views.ts. pg_class.relowner / relacl and pg_tables read the
 * owners and grants through `relationOwner` and `relationAcl`.
 *
 * The bootstrap superuser (OID 10) is shown under the session's name while the session
 * is the open-mode superuser (no LOGIN roles yet, any user name accepted): that is who
 * such a client connected as and owns what it created.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx } from '../runtime/context.js'
import { arrayOf, T } from '../types/sql-type.js'
import { SqlArray } from '../types/array.js'
import { grantTarget, isSequence } from '../catalog/grant-target.js'
import { BOOTSTRAP_OID, type RoleRecord } from '../catalog/role-record.js'
import { roleVerifier } from '../catalog/role-secret.js'
import { SEQUENCE_PRIVILEGES } from '../catalog/table-privilege.js'
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

export const ROLE_CATALOG_VIEWS: Record<string, SystemView> = {
  pg_roles: pgRoles,
  pg_user: pgUser,
  pg_authid: pgAuthid,
  pg_auth_members: pgAuthMembers,
}
