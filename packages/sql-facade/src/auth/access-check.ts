/**
 * Whether the current role may run a statement, checked before it runs (42501 when not),
 * as PostgreSQL checks a query's range table: SELECT on every relation a statement reads,
 * INSERT / UPDATE / DELETE / TRUNCATE on the one it writes (UPDATE and DELETE with a
 * WHERE, FROM/USING or RETURNING also read it, so they need SELECT too; INSERT ..
 * RETURNING likewise; ON CONFLICT DO UPDATE needs UPDATE; MERGE needs what its actions
 * do on the target, SELECT on it and on its source). A view is checked for the
 * current role, and the relations it reads for the view's owner, as PostgreSQL does; the
 * body of a SQL function a statement calls is checked for the current role (functions
 * are SECURITY INVOKER). Superusers pass every check.
 *
 * DDL: creating anything (tables, views, sequences, functions, domains, composite and
 * enum types) needs CREATE on schema public (superusers, and roles granted it:
 * as PostgreSQL 15+, PUBLIC has none by default); a foreign key needs REFERENCES on the
 * table it references, LIKE needs SELECT on its source, PARTITION OF needs the parent's
 * owner, CREATE TABLE AS its query's reads; ALTER TABLE, CREATE INDEX and DROP of a table
 * or view need its owner; role statements check their own rules
 * (role-statements.ts). Names that are no table or view of this database (system views,
 * CTEs, missing tables) are left to the planner. Sequences are not privilege-checked.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { Statement } from '../parser/statement.js'
import { parseScript } from '../parser/parse.js'
import { readView, VIEW_KIND } from '../catalog/view-def.js'
import type { CatalogTransaction, UserFunction } from '../runtime/context.js'
import { grantTarget } from '../catalog/grant-target.js'
import type { RoleDirectory } from '../catalog/role-directory.js'
import { BOOTSTRAP_OID, type RoleRecord } from '../catalog/role-record.js'
import type { PrivilegeLetter } from '../catalog/table-privilege.js'

export interface AccessCtx {
  tx: CatalogTransaction
  current: RoleRecord
  roles(): RoleDirectory
  functions(name: string): UserFunction | undefined
}

/** Views inside views and functions inside functions are followed this deep, no deeper. */
const MAX_DEPTH = 16

const denied = (message: string): SqlError => new SqlError(SqlState.insufficientPrivilege, message)

interface Need {
  name: string
  privilege: PrivilegeLetter
}

/** Throws 42501 when the current role may not run `stmt`. */
export function checkAccess(stmt: Statement, ctx: AccessCtx): void {
  if (ctx.current.superuser) return
  if (stmt.kind !== 'pg') throw denied('permission denied for schema public')
  checkNode(stmt.node, ctx)
}

function checkNode(node: Node, ctx: AccessCtx): void {
  if ('CreateSchemaStmt' in node) throw denied('permission denied for database concord')
  const creates = ('SelectStmt' in node && node.SelectStmt.intoClause) || 'CreateStmt' in node || 'ViewStmt' in node || 'CreateTableAsStmt' in node
    || 'CreateSeqStmt' in node || 'CreateFunctionStmt' in node || 'CreateDomainStmt' in node || 'CompositeTypeStmt' in node || 'CreateEnumStmt' in node
  if (creates) {
    if (!ctx.roles().mayCreate(ctx.current.oid)) throw denied('permission denied for schema public')
    return checkCreate(node, ctx)
  }
  if ('SelectStmt' in node || 'InsertStmt' in node || 'UpdateStmt' in node || 'DeleteStmt' in node || 'TruncateStmt' in node || 'CopyStmt' in node || 'ExplainStmt' in node
    || 'MergeStmt' in node) {
    checkPrivileges(needs(node, ctx, 0), ctx.current.oid, ctx, 0)
    return
  }
  if ('DropStmt' in node) {
    const kind = node.DropStmt.removeType
    if (kind === 'OBJECT_FUNCTION') {
      for (const o of node.DropStmt.objects ?? []) {
        const names = 'ObjectWithArgs' in o ? (o.ObjectWithArgs.objname ?? []).map((i) => ('String' in i ? i.String.sval ?? '' : '')) : []
        mustOwnFunction(names[names.length - 1] ?? '', ctx)
      }
      return
    }
    if (kind === 'OBJECT_TRIGGER') {
      for (const o of node.DropStmt.objects ?? []) {
        const names = 'List' in o ? (o.List.items ?? []).map((i) => ('String' in i ? i.String.sval ?? '' : '')) : []
        if (ctx.tx.table(names[names.length - 2] ?? '')) mustOwn(names[names.length - 2] ?? '', 'table', ctx)
      }
      return
    }
    if (kind !== 'OBJECT_TABLE' && kind !== 'OBJECT_VIEW') throw denied(`must be superuser to drop ${(kind ?? 'OBJECT_OBJECT').slice(7).toLowerCase()} objects`)
    for (const o of node.DropStmt.objects ?? []) {
      const names = 'List' in o ? (o.List.items ?? []).map((i) => ('String' in i ? i.String.sval ?? '' : '')) : []
      mustOwn(names[names.length - 1] ?? '', kind === 'OBJECT_VIEW' ? 'view' : 'table', ctx)
    }
    return
  }
  if ('AlterTableStmt' in node) {
    mustOwn(node.AlterTableStmt.relation?.relname ?? '', 'table', ctx)
    return checkPrivileges(referencedTables(node.AlterTableStmt.cmds), ctx.current.oid, ctx, 0)
  }
  if ('IndexStmt' in node) return mustOwn(node.IndexStmt.relation?.relname ?? '', 'table', ctx)
  if ('AlterFunctionStmt' in node) {
    const names = (node.AlterFunctionStmt.func?.objname ?? []).map((i) => ('String' in i ? i.String.sval ?? '' : ''))
    return mustOwnFunction(names[names.length - 1] ?? '', ctx)
  }
  if ('CreateTrigStmt' in node) return mustOwn(node.CreateTrigStmt.relation?.relname ?? '', 'table', ctx)
  // A DO block's statements are checked as each runs.
  if ('DoStmt' in node) return
  if ('RenameStmt' in node && node.RenameStmt.relation) return mustOwn(node.RenameStmt.relation.relname ?? '', 'table', ctx)
  // Checked by the statements themselves (role-statements.ts), or harmless (VACUUM and ANALYZE do nothing, COMMENT keeps nothing).
  if ('CreateRoleStmt' in node || 'AlterRoleStmt' in node || 'DropRoleStmt' in node || 'GrantStmt' in node || 'GrantRoleStmt' in node) return
  if ('RenameStmt' in node && node.RenameStmt.renameType === 'OBJECT_ROLE') return
  if ('VacuumStmt' in node || 'CommentStmt' in node) return
  throw denied(`must be superuser to run ${Object.keys(node)[0]!.replace(/Stmt$/, '')}`)
}

/** What a CREATE reads or refers to: a query's relations, a LIKE source, a referenced table, a partition's parent. */
function checkCreate(node: Node, ctx: AccessCtx): void {
  if ('SelectStmt' in node) return checkPrivileges(needs({ SelectStmt: { ...node.SelectStmt, intoClause: undefined } } as Node, ctx, 0), ctx.current.oid, ctx, 0)
  if ('CreateTableAsStmt' in node && node.CreateTableAsStmt.query) return checkPrivileges(needs(node.CreateTableAsStmt.query, ctx, 0), ctx.current.oid, ctx, 0)
  if (!('CreateStmt' in node)) return
  const c = node.CreateStmt
  for (const p of c.inhRelations ?? []) if ('RangeVar' in p) mustOwn(p.RangeVar.relname ?? '', 'table', ctx)
  checkPrivileges(referencedTables([c.tableElts, c.constraints]), ctx.current.oid, ctx, 0)
}

/** The tables foreign keys in `tree` reference (REFERENCES privilege) and LIKE copies (SELECT). */
function referencedTables(tree: unknown): Need[] {
  const list: Need[] = []
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return
    if (Array.isArray(v)) return v.forEach(walk)
    const o = v as Record<string, unknown>
    const fk = o['Constraint'] as { contype?: string; pktable?: { relname?: string } } | undefined
    if (fk?.contype === 'CONSTR_FOREIGN' && fk.pktable?.relname) list.push({ name: fk.pktable.relname, privilege: 'x' })
    const like = o['TableLikeClause'] as { relation?: { relname?: string } } | undefined
    if (like?.relation?.relname) list.push({ name: like.relation.relname, privilege: 'r' })
    for (const x of Object.values(o)) walk(x)
  }
  walk(tree)
  return list
}

function mustOwn(name: string, what: 'table' | 'view', ctx: AccessCtx): void {
  const t = grantTarget(ctx.tx, name)
  if (t === undefined) return // the statement itself reports the missing relation
  const roles = ctx.roles()
  const owner = roles.ownerOf(t)
  if (owner !== ctx.current.oid && !roles.memberOf(ctx.current.oid, true).has(owner)) throw denied(`must be owner of ${what} ${name}`)
}

/** DROP / ALTER FUNCTION: the function's owner (the role that created it; the bootstrap superuser when none is kept). */
function mustOwnFunction(name: string, ctx: AccessCtx): void {
  const v = ctx.tx.getCatalog('function', name.toLowerCase())
  if (v === undefined || v === null || typeof v !== 'object' || Array.isArray(v)) return // the statement itself reports it missing
  const owner = typeof (v as { owner?: unknown }).owner === 'number' ? (v as { owner: number }).owner : BOOTSTRAP_OID
  if (owner !== ctx.current.oid && !ctx.roles().memberOf(ctx.current.oid, true).has(owner)) throw denied(`must be owner of function ${name.toLowerCase()}`)
}

/** Every relation privilege the statement needs; names in `scope` are CTEs, not relations. */
function needs(root: Node, ctx: AccessCtx, depth: number): Need[] {
  const out: Need[] = []
  const fnSeen = new Set<string>()
  const walk = (value: unknown, scope: ReadonlySet<string>): void => {
    if (value === null || typeof value !== 'object') return
    if (Array.isArray(value)) {
      for (const v of value) walk(v, scope)
      return
    }
    const o = value as Record<string, unknown>
    // A WITH clause: each CTE body sees the CTEs before it (all of them when RECURSIVE); the rest sees all.
    const w = o['withClause'] as { ctes?: Node[]; recursive?: boolean } | undefined
    if (w && Array.isArray(w.ctes)) {
      const names = w.ctes.map((c) => ('CommonTableExpr' in c ? c.CommonTableExpr.ctename ?? '' : ''))
      w.ctes.forEach((c, i) => {
        const visible = new Set([...scope, ...names.slice(0, w.recursive ? names.length : i)])
        if ('CommonTableExpr' in c) walk(c.CommonTableExpr.ctequery, visible)
      })
      const inner = new Set([...scope, ...names])
      for (const [k, v] of Object.entries(o)) if (k !== 'withClause') walkKey(k, v, inner)
      return
    }
    for (const [k, v] of Object.entries(o)) walkKey(k, v, scope)
  }
  const relation = (rv: { relname?: string; schemaname?: string } | undefined, scope: ReadonlySet<string>, privilege: PrivilegeLetter): void => {
    if (!rv?.relname) return
    if (rv.schemaname !== undefined && rv.schemaname !== 'public') return // pg_catalog, information_schema: readable by all
    if (rv.schemaname === undefined && scope.has(rv.relname)) return
    out.push({ name: rv.relname, privilege })
  }
  const walkKey = (key: string, v: unknown, scope: ReadonlySet<string>): void => {
    const s = v as Record<string, unknown>
    switch (key) {
      case 'RangeVar': return relation(s as { relname?: string }, scope, 'r')
      case 'InsertStmt': {
        relation(s['relation'] as { relname?: string }, scope, 'a')
        if (returns(s)) relation(s['relation'] as { relname?: string }, scope, 'r')
        const conflict = s['onConflictClause'] as { action?: string } | undefined
        if (conflict?.action === 'ONCONFLICT_UPDATE') relation(s['relation'] as { relname?: string }, scope, 'w')
        return walk(omit(s, 'relation'), scope)
      }
      case 'UpdateStmt': case 'DeleteStmt': {
        relation(s['relation'] as { relname?: string }, scope, key === 'UpdateStmt' ? 'w' : 'd')
        if (s['whereClause'] || returns(s) || hasItems(s['fromClause']) || hasItems(s['usingClause'])) relation(s['relation'] as { relname?: string }, scope, 'r')
        return walk(omit(s, 'relation'), scope)
      }
      case 'MergeStmt': {
        // INSERT / UPDATE / DELETE on the target as its actions need, and SELECT (its ON condition reads it).
        const target = s['relation'] as { relname?: string }
        const letters: Record<string, PrivilegeLetter> = { CMD_INSERT: 'a', CMD_UPDATE: 'w', CMD_DELETE: 'd' }
        for (const w of (s['mergeWhenClauses'] as Node[] | undefined) ?? []) {
          const letter = 'MergeWhenClause' in w ? letters[w.MergeWhenClause.commandType ?? ''] : undefined
          if (letter) relation(target, scope, letter)
        }
        relation(target, scope, 'r')
        return walk(omit(s, 'relation'), scope)
      }
      case 'TruncateStmt':
        for (const r of (s['relations'] as Node[] | undefined) ?? []) if ('RangeVar' in r) relation(r.RangeVar, scope, 'D')
        return
      case 'CopyStmt':
        relation(s['relation'] as { relname?: string }, scope, s['is_from'] ? 'a' : 'r')
        return walk(s['query'], scope)
      case 'FuncCall': {
        const names = ((s['funcname'] as Node[] | undefined) ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : ''))
        const name = names[names.length - 1]?.toLowerCase() ?? ''
        const fn = ctx.functions(name)
        if (fn && !fnSeen.has(name) && depth < MAX_DEPTH) {
          fnSeen.add(name)
          for (const st of parseScript(fn.body)) if (st.kind === 'pg') out.push(...needs(st.node, ctx, depth + 1))
        }
        return walk(s, scope)
      }
      default:
        return walk(v, scope)
    }
  }
  walk(root, new Set())
  return out
}

/** Whether an INSERT, UPDATE or DELETE has a RETURNING list. */
function returns(s: Record<string, unknown>): boolean {
  return hasItems((s['returningClause'] as { exprs?: unknown } | undefined)?.exprs)
}

function hasItems(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0
}

function omit(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = o
  return rest
}

/** Checks each need for `role`; a view's own reads are checked for the view's owner. */
function checkPrivileges(list: Need[], role: number, ctx: AccessCtx, depth: number): void {
  const roles = ctx.roles()
  for (const n of list) {
    const t = grantTarget(ctx.tx, n.name)
    if (t === undefined) continue
    if (!roles.privileges(role, t).has(n.privilege)) {
      throw denied(`permission denied for ${ctx.tx.getCatalog(VIEW_KIND, n.name) !== undefined && !ctx.tx.table(n.name) ? 'view' : 'table'} ${n.name}`)
    }
    const view = t.incarnation === 0 && !ctx.tx.table(n.name) ? readView(ctx.tx, n.name) : undefined
    if (view && depth < MAX_DEPTH) {
      const owner = roles.ownerOf(t)
      if (roles.roleByOid(owner)?.superuser) continue
      checkPrivileges(view.relations.map((name) => ({ name, privilege: 'r' as const })), owner, ctx, depth + 1)
    }
  }
}
