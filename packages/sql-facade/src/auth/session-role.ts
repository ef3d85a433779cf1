/**
 * The role a session's statements run as, from the user name it connected with:
 *   - a role the catalog holds (or the bootstrap superuser `concord`, also named
 *     `postgres`, or a predefined role);
 *   - while no stored role may log in (a node used as before roles existed), any other
 *     name too, as a superuser with the bootstrap superuser's OID: every client was a
 *     superuser then, and stays one until the first LOGIN role is created;
 *   - otherwise none: 28000, as PostgreSQL refuses an unknown role (the wire server
 *     refuses it at connection already; a role dropped while connected ends here).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { RoleDirectory } from '../catalog/role-directory.js'
import { BOOTSTRAP, BOOTSTRAP_NAMES, BOOTSTRAP_ROLE, type RoleRecord } from '../catalog/role-record.js'

export function sessionRole(user: string, source: { roles(): RoleDirectory }): RoleRecord {
  // The bootstrap superuser needs no catalog read: the common case stays free.
  if (user === BOOTSTRAP_ROLE) return BOOTSTRAP
  if (BOOTSTRAP_NAMES.has(user)) return { ...BOOTSTRAP, name: user }
  const dir = source.roles()
  const r = dir.role(user)
  if (r) return r
  if (!dir.loginRolesExist) return { ...BOOTSTRAP, name: user }
  throw new SqlError(SqlState.invalidAuthorizationSpecification, `role "${user}" does not exist`)
}
