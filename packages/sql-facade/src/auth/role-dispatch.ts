/**
 * Routes the role and privilege statements to role-statements.ts: CREATE / ALTER / DROP
 * ROLE, ALTER ROLE .. RENAME, GRANT / REVOKE, and ALTER TABLE .. OWNER TO (when that is
 * all the ALTER TABLE does). Null for every other statement.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { StatementResult } from '../runtime/result.js'
import {
  execAlterRole, execChangeOwner, execCreateRole, execDropRole, execGrant, execGrantRole, execRenameRole, type RoleStatementCtx,
} from './role-statements.js'

export function roleStatement(node: Node, ctx: RoleStatementCtx): StatementResult | null {
  if ('CreateRoleStmt' in node) return execCreateRole(node.CreateRoleStmt, ctx)
  if ('AlterRoleStmt' in node) return execAlterRole(node.AlterRoleStmt, ctx)
  if ('DropRoleStmt' in node) return execDropRole(node.DropRoleStmt, ctx)
  if ('GrantStmt' in node) return execGrant(node.GrantStmt, ctx)
  if ('GrantRoleStmt' in node) return execGrantRole(node.GrantRoleStmt, ctx)
  if ('RenameStmt' in node && node.RenameStmt.renameType === 'OBJECT_ROLE') return execRenameRole(node.RenameStmt, ctx)
  if ('AlterRoleSetStmt' in node) throw new SqlError(SqlState.featureNotSupported, 'ALTER ROLE .. SET is not supported')
  if ('AlterDefaultPrivilegesStmt' in node) throw new SqlError(SqlState.featureNotSupported, 'ALTER DEFAULT PRIVILEGES is not supported')
  if ('AlterTableStmt' in node) {
    const cmds = (node.AlterTableStmt.cmds ?? []).map((c) => ('AlterTableCmd' in c ? c.AlterTableCmd : {}))
    const owners = cmds.filter((c) => c.subtype === 'AT_ChangeOwner')
    if (owners.length === 0) return null
    if (owners.length !== cmds.length) throw new SqlError(SqlState.featureNotSupported, 'ALTER TABLE .. OWNER TO must be the only action of its ALTER TABLE')
    return execChangeOwner(node.AlterTableStmt.relation?.relname ?? '', owners[owners.length - 1]!.newowner ?? {}, ctx)
  }
  return null
}
