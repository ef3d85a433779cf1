/**
 * Whether the current role may run a statement, checked before it runs (42501 when not),
 * as PostgreSQL checks a query's range table: SELECT on every relation a statement reads,
 * INSERT / UPDATE / DELETE / TRUNCATE on the one it writes (UPDATE and DELETE with a
 * WHERE, FROM/USING or RETURNING also read it, so they need SELECT too; INSERT ..
 * RETURNING likewise; ON CONFLICT DO UPDATE needs UPDATE; MERGE needs what its actions
 * do on the target, SELECT on it and on its source). Column privileges stand in for a
 * missing table privilege when the role holds them on every column the statement uses
 * (`readColumns`, `columnsAllow`), on tables and views. A view is checked for the
 * current role, and then, for the view's owner, SELECT on the columns its query reads and,
 * for a write through it, that privilege on the base columns written (`ownerNeeds`), as
 * PostgreSQL does; the
 * body of a function a statement calls is checked for the current role (functions are
 * SECURITY INVOKER): a SQL body's statements, a SQL-standard body's query, a PL/pgSQL
 * body's expressions (its statements are checked as each runs). Superusers pass every check.
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
import { readView, VIEW_KIND, type ViewDef } from '../catalog/view-def.js'
import { viewBase } from '../catalog/view-base-columns.js'
import type { CatalogTransaction, UserFunction } from '../runtime/context.js'
import { grantTarget } from '../catalog/grant-target.js'
import type { GrantTarget, RoleDirectory } from '../catalog/role-directory.js'
import { BOOTSTRAP_OID, type RoleRecord } from '../catalog/role-record.js'
import type { PrivilegeLetter } from '../catalog/table-privilege.js'

export interface AccessCtx {
  tx: CatalogTransaction
  current: RoleRecord
  roles(): RoleDirectory
  functions(name: string): UserFunction | undefined
  /**
   * The queries of a function's body checked before the statement calling it runs (a SQL
   * body's statements, a SQL-standard body's query, a PL/pgSQL body's expressions: its
   * statements are checked as each runs); handed in by the executor, which parses bodies.
   */
  bodyReads(fn: UserFunction): Node[]
}

/** Views inside views and functions inside functions are followed this deep, no deeper. */
const MAX_DEPTH = 16

const denied = (message: string): SqlError => new SqlError(SqlState.insufficientPrivilege, message)

interface Need {
  name: string
  privilege: PrivilegeLetter
  /**
   * The columns of the relation the statement uses with this privilege, when it can tell
   * (a role holding column privileges instead of the table's passes if it holds all of
   * them); 'all' or absent: only the table privilege will do.
   */
  columns?: Columns
}

/** A need's columns, or how to work them out (only asked when a column privilege may stand in). */
type Columns = ReadonlySet<string> | 'all' | (() => ReadonlySet<string> | 'all')

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
    if (fk?.contype === 'CONSTR_FOREIGN' && fk.pktable?.relname) {
      const pk = ((fk as { pk_attrs?: Node[] }).pk_attrs ?? []).map((a) => ('String' in a ? a.String.sval ?? '' : ''))
      list.push({ name: fk.pktable.relname, privilege: 'x', columns: pk.length > 0 ? new Set(pk) : 'all' })
    }
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

/**
 * The column names a statement may read, for column privileges: every name in a column
 * reference or USING list anywhere in it, or 'all' where it may read whole rows without
 * naming columns (`*`, `t.*`, a whole-row reference, NATURAL JOIN, column aliases in
 * FROM). Coarse on purpose: a name counts for every table that has such a column, so a
 * role may be refused a statement PostgreSQL would run (never the other way).
 */
function readColumns(root: Node | unknown): ReadonlySet<string> | 'all' {
  const names = new Set<string>()
  const single = new Set<string>()
  const relations = new Set<string>()
  let all = false
  const walk = (v: unknown): void => {
    if (all || v === null || typeof v !== 'object') return
    if (Array.isArray(v)) return v.forEach(walk)
    const o = v as Record<string, unknown>
    const ref = o['ColumnRef'] as { fields?: Node[] } | undefined
    if (ref) {
      const fields = ref.fields ?? []
      if (fields.some((f) => 'A_Star' in f)) all = true
      const strings = fields.map((f) => ('String' in f ? f.String.sval ?? '' : ''))
      if (strings.length === 1) single.add(strings[0]!)
      for (const s of strings) names.add(s)
    }
    // A RangeVar, or a statement's own target (`relation`, kept unwrapped in the tree).
    const rv = (o['RangeVar'] ?? (typeof o['relname'] === 'string' ? o : undefined)) as { relname?: string; alias?: { aliasname?: string; colnames?: Node[] } } | undefined
    if (rv) {
      if (rv.relname) relations.add(rv.relname)
      if (rv.alias?.aliasname) relations.add(rv.alias.aliasname)
      if ((rv.alias?.colnames?.length ?? 0) > 0) all = true
    }
    const join = o['JoinExpr'] as { isNatural?: boolean; usingClause?: Node[] } | undefined
    if (join?.isNatural) all = true
    for (const u of join?.usingClause ?? []) if ('String' in u) names.add(u.String.sval ?? '')
    for (const x of Object.values(o)) walk(x)
  }
  walk(root)
  if (all || [...single].some((s) => relations.has(s))) return 'all'
  return names
}

/** The names of an INSERT's column list or an UPDATE's SET list (ResTargets); 'all' for none. */
function targetColumns(list: unknown): ReadonlySet<string> | 'all' {
  if (!Array.isArray(list) || list.length === 0) return 'all'
  return new Set(list.map((t) => ((t as Node) && 'ResTarget' in (t as Node) ? (t as { ResTarget: { name?: string } }).ResTarget.name ?? '' : '')))
}

/** Every relation privilege the statement needs; names in `scope` are CTEs, not relations. */
function needs(root: Node, ctx: AccessCtx, depth: number): Need[] {
  const out: Need[] = []
  // Walked only when a role lacking a table privilege holds column privileges (columnsAllow).
  let readsOfRoot: ReadonlySet<string> | 'all' | undefined
  const reads = (): ReadonlySet<string> | 'all' => (readsOfRoot ??= readColumns(root))
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
  const relation = (
    rv: { relname?: string; schemaname?: string } | undefined, scope: ReadonlySet<string>, privilege: PrivilegeLetter,
    columns: Columns | undefined = privilege === 'r' ? reads : undefined,
  ): void => {
    if (!rv?.relname) return
    if (rv.schemaname !== undefined && rv.schemaname !== 'public') return // pg_catalog, information_schema: readable by all
    if (rv.schemaname === undefined && scope.has(rv.relname)) return
    out.push({ name: rv.relname, privilege, ...(columns !== undefined ? { columns } : {}) })
  }
  const walkKey = (key: string, v: unknown, scope: ReadonlySet<string>): void => {
    const s = v as Record<string, unknown>
    switch (key) {
      case 'RangeVar': return relation(s as { relname?: string }, scope, 'r')
      case 'InsertStmt': {
        relation(s['relation'] as { relname?: string }, scope, 'a', targetColumns(s['cols']))
        if (returns(s)) relation(s['relation'] as { relname?: string }, scope, 'r')
        const conflict = s['onConflictClause'] as { action?: string; targetList?: unknown } | undefined
        if (conflict?.action === 'ONCONFLICT_UPDATE') relation(s['relation'] as { relname?: string }, scope, 'w', targetColumns(conflict.targetList))
        return walk(omit(s, 'relation'), scope)
      }
      case 'UpdateStmt': case 'DeleteStmt': {
        if (key === 'UpdateStmt') relation(s['relation'] as { relname?: string }, scope, 'w', targetColumns(s['targetList']))
        else relation(s['relation'] as { relname?: string }, scope, 'd')
        if (s['whereClause'] || returns(s) || hasItems(s['fromClause']) || hasItems(s['usingClause'])) {
          // What it reads: WHERE, FROM/USING, RETURNING and the SET values, not the columns it only sets.
          const read = (): ReadonlySet<string> | 'all' => {
            const values = ((s['targetList'] as Node[] | undefined) ?? []).map((t) => ('ResTarget' in t ? t.ResTarget.val : undefined))
            return readColumns([s['relation'], s['whereClause'], s['returningClause'], s['fromClause'], s['usingClause'], values])
          }
          relation(s['relation'] as { relname?: string }, scope, 'r', read)
        }
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
        relation(s['relation'] as { relname?: string }, scope, s['is_from'] ? 'a' : 'r', copyColumns(s['attlist']))
        return walk(s['query'], scope)
      case 'FuncCall': {
        const names = ((s['funcname'] as Node[] | undefined) ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : ''))
        const name = names[names.length - 1]?.toLowerCase() ?? ''
        const fn = ctx.functions(name)
        if (fn && !fnSeen.has(name) && depth < MAX_DEPTH) {
          fnSeen.add(name)
          for (const tree of ctx.bodyReads(fn)) out.push(...needs(tree, ctx, depth + 1))
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

/** A COPY's column list; 'all' without one. */
function copyColumns(list: unknown): ReadonlySet<string> | 'all' {
  if (!Array.isArray(list) || list.length === 0) return 'all'
  return new Set(list.map((n) => ((n as Node) && 'String' in (n as Node) ? (n as { String: { sval?: string } }).String.sval ?? '' : '')))
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

/**
 * Whether column privileges stand in for the missing table privilege: the statement's
 * columns of the table are known and `role` holds the privilege on every one of them (and
 * on one column at least, so `SELECT count(*)` needs SELECT on some column, as in PostgreSQL).
 */
function columnsAllow(n: Need, t: GrantTarget, role: number, ctx: AccessCtx): boolean {
  const columns = typeof n.columns === 'function' ? n.columns() : n.columns
  if (columns === undefined || columns === 'all') return false
  const names = ctx.tx.table(n.name)?.columns.map((c) => c.name) ?? readView(ctx.tx, n.name)?.columns.map((c) => c.name)
  const granted = ctx.roles().columnPrivileges(role, t, n.privilege)
  if (names === undefined || granted.size === 0) return false
  return names.every((c) => !columns.has(c) || granted.has(c))
}

/**
 * Checks each need for `role`. A view's own needs are checked for the view's owner, as
 * PostgreSQL does: reading it, SELECT on the columns its query reads of each relation;
 * writing through it, the same privilege on the base relation's columns the statement
 * writes (an owner with SELECT alone on a table cannot lend INSERT, UPDATE or DELETE on it
 * through a view).
 */
function checkPrivileges(list: Need[], role: number, ctx: AccessCtx, depth: number): void {
  const roles = ctx.roles()
  const targets: Array<{ n: Need; t: GrantTarget }> = []
  for (const n of list) {
    const t = grantTarget(ctx.tx, n.name)
    if (t === undefined) continue
    if (!roles.privileges(role, t).has(n.privilege) && !columnsAllow(n, t, role, ctx)) {
      throw denied(`permission denied for ${ctx.tx.getCatalog(VIEW_KIND, n.name) !== undefined && !ctx.tx.table(n.name) ? 'view' : 'table'} ${n.name}`)
    }
    targets.push({ n, t })
  }
  // Then the views' owners: the caller's own privileges are reported first, as PostgreSQL checks its range table.
  for (const { n, t } of targets) {
    const view = t.incarnation === 0 && !ctx.tx.table(n.name) ? readView(ctx.tx, n.name) : undefined
    if (view && depth < MAX_DEPTH) {
      const owner = roles.ownerOf(t)
      if (roles.roleByOid(owner)?.superuser) continue
      checkPrivileges(ownerNeeds(view, n, ctx), owner, ctx, depth + 1)
    }
  }
}

/** What the owner of `view` needs for `n` (a need on the view). */
function ownerNeeds(view: ViewDef, n: Need, ctx: AccessCtx): Need[] {
  if (n.privilege === 'r') {
    let read: ReadonlySet<string> | 'all' | undefined
    const columns = (): ReadonlySet<string> | 'all' => (read ??= readColumns(view.query))
    return view.relations.map((name) => ({ name, privilege: 'r', columns }))
  }
  // Only INSERT, UPDATE and DELETE reach a base relation through a view; a view over anything
  // but one relation cannot be written through (the write fails with PostgreSQL's 0A000).
  if (n.privilege !== 'a' && n.privilege !== 'w' && n.privilege !== 'd') return []
  const base = viewBase(view, ctx.tx)
  if (base === undefined) return []
  const columns = (): ReadonlySet<string> | 'all' => {
    const used = typeof n.columns === 'function' ? n.columns() : n.columns
    if (used === undefined || used === 'all') return 'all'
    const out = new Set<string>()
    for (const c of used) {
      const b = base.columns.get(c)
      // A name that is no plain column of the view (an expression, or a column the statement only reads): the whole table.
      if (b === undefined) return 'all'
      out.add(b)
    }
    return out
  }
  return [{ name: base.relation, privilege: n.privilege, ...(n.columns !== undefined ? { columns } : {}) }]
}
