/**
 * Writing through a view (PostgreSQL's automatically updatable views): INSERT, UPDATE and
 * DELETE naming a view whose query is `SELECT <columns and expressions> FROM one_relation
 * [WHERE cond]` are rewritten into the same statement on that relation, as PostgreSQL's
 * rewriter does. A view column that is a plain column of the relation can be written;
 * any other (an expression) can be read in WHERE and RETURNING but not assigned (0A000,
 * PostgreSQL's message). UPDATE and DELETE see only the rows the view shows (its WHERE
 * joins the statement's). The relation may itself be an updatable view: the rewritten
 * statement is rewritten again (the executor dispatches it the same way).
 *
 * Not built, 0A000: views WITH CHECK OPTION (the new row would have to be checked against
 * the view), INSERT .. ON CONFLICT through a view, UPDATE .. FROM / DELETE .. USING and
 * sub-queries in the WHERE / SET / RETURNING of a write through a view (a column name
 * inside a sub-query could name the sub-query's own column, so rewriting is not safe).
 * Views that are not automatically updatable fail as in PostgreSQL (0A000 with its DETAIL).
 */
import type { DeleteStmt, InsertStmt, Node, RangeVar, ResTarget, SelectStmt, UpdateStmt } from 'libpg-query'
import { columnMeta } from '../catalog/table-meta.js'
import type { ViewDef, ViewSource } from '../catalog/view-def.js'
import { readView } from '../catalog/view-def.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from '../parser/name-list.js'
import type { TableInfo } from '@concord/core'

interface ViewColumn {
  name: string
  /** The view's expression for it, over the base relation (qualified as the view wrote it). */
  expr: Node
  /** The base relation's column it is, when it is a plain column reference. */
  baseColumn: string | null
}

interface UpdatableView {
  view: ViewDef
  /** The view's FROM item: the base relation with the view's alias and ONLY. */
  base: RangeVar
  where: Node | undefined
  columns: ViewColumn[]
}

/** Where the rewrite reads the base relation's columns (to expand `SELECT *`). */
export interface ViewWriteSource extends ViewSource {
  table(name: string): TableInfo | undefined
}

type Verb = 'insert into' | 'update' | 'delete from'

function notUpdatable(verb: Verb, name: string, detail: string): SqlError {
  const what = verb === 'insert into' ? 'inserting into' : verb === 'update' ? 'updating' : 'deleting from'
  const ev = verb === 'insert into' ? 'INSERT' : verb === 'update' ? 'UPDATE' : 'DELETE'
  return new SqlError(SqlState.featureNotSupported, `cannot ${verb} view "${name}"`, {
    detail,
    hint: `To enable ${what} the view, provide an INSTEAD OF ${ev} trigger or an unconditional ON ${ev} DO INSTEAD rule.`,
  })
}

function clone<T>(n: T): T {
  return JSON.parse(JSON.stringify(n)) as T
}

function hasNode(tree: unknown, kinds: readonly string[], depth = 0): boolean {
  if (depth > 500 || tree === null || typeof tree !== 'object') return false
  if (Array.isArray(tree)) return tree.some((x) => hasNode(x, kinds, depth + 1))
  for (const [k, v] of Object.entries(tree)) {
    if (kinds.includes(k)) return true
    if (hasNode(v, kinds, depth + 1)) return true
  }
  return false
}

const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'bool_and', 'bool_or', 'every', 'json_agg', 'jsonb_agg'])

function hasAggregate(tree: unknown, depth = 0): boolean {
  if (depth > 500 || tree === null || typeof tree !== 'object') return false
  if (Array.isArray(tree)) return tree.some((x) => hasAggregate(x, depth + 1))
  const o = tree as Record<string, unknown>
  const fc = o['FuncCall'] as { funcname?: Node[]; over?: unknown; agg_star?: boolean } | undefined
  if (fc && (fc.over !== undefined || fc.agg_star === true || AGGREGATES.has(nameList(fc.funcname).pop() ?? ''))) return true
  return Object.values(o).some((v) => hasAggregate(v, depth + 1))
}

/** The view's updatable shape, or PostgreSQL's error for why it has none. */
function updatableView(view: ViewDef, verb: Verb, source: ViewWriteSource): UpdatableView {
  const sel = view.query as unknown as SelectStmt
  const why = (detail: string) => notUpdatable(verb, view.name, detail)
  if (view.checkOption !== undefined) {
    throw new SqlError(SqlState.featureNotSupported, `writing through view "${view.name}" WITH CHECK OPTION is not supported`)
  }
  if (sel.op !== undefined && sel.op !== 'SETOP_NONE') throw why('Views containing UNION, INTERSECT, or EXCEPT are not automatically updatable.')
  if (sel.withClause) throw why('Views containing WITH are not automatically updatable.')
  if (sel.distinctClause) throw why('Views containing DISTINCT are not automatically updatable.')
  if (sel.groupClause) throw why('Views containing GROUP BY are not automatically updatable.')
  if (sel.havingClause) throw why('Views containing HAVING are not automatically updatable.')
  if (sel.limitCount || sel.limitOffset) throw why('Views containing LIMIT or OFFSET are not automatically updatable.')
  if (sel.valuesLists) throw why('Views that do not select from a single table or view are not automatically updatable.')
  const from = sel.fromClause ?? []
  if (from.length !== 1 || !('RangeVar' in from[0]!)) throw why('Views that do not select from a single table or view are not automatically updatable.')
  if (hasAggregate(sel.targetList)) throw why('Views that return aggregate functions are not automatically updatable.')
  const base = clone(from[0].RangeVar)
  const baseName = base.relname ?? ''
  const baseTable = source.table(baseName)
  const baseView = baseTable ? undefined : readView(source, baseName)
  if (!baseTable && !baseView) throw new SqlError(SqlState.undefinedTable, `relation "${baseName}" does not exist`)
  const qualifier = base.alias?.aliasname ?? baseName
  const baseColumns = baseTable ? baseTable.columns.filter((c) => !columnMeta(c).hidden).map((c) => c.name) : baseView!.columns.map((c) => c.name)
  const exprs: Array<{ expr: Node; name: string }> = []
  for (const t of sel.targetList ?? []) {
    if (!('ResTarget' in t) || !t.ResTarget.val) continue
    const val = t.ResTarget.val
    if ('ColumnRef' in val && (val.ColumnRef.fields ?? []).some((f) => 'A_Star' in f)) {
      for (const c of baseColumns) exprs.push({ expr: columnRef([qualifier, c]), name: c })
      continue
    }
    if (hasNode(val, ['SubLink'])) throw why('Views that return columns that are not columns of their base relation are not automatically updatable.')
    exprs.push({ expr: val, name: t.ResTarget.name ?? '' })
  }
  const columns = view.columns.map((c, i): ViewColumn => {
    const e = exprs[i]?.expr ?? { A_Const: { isnull: true } }
    const ref = 'ColumnRef' in e ? nameList(e.ColumnRef.fields) : null
    const plain = ref !== null && ((ref.length === 1 && baseColumns.includes(ref[0]!)) || (ref.length === 2 && ref[0] === qualifier && baseColumns.includes(ref[1]!)))
    return { name: c.name, expr: e, baseColumn: plain ? ref![ref!.length - 1]! : null }
  })
  return { view, base, where: sel.whereClause, columns }
}

function columnRef(names: string[]): Node {
  return { ColumnRef: { fields: names.map((sval) => ({ String: { sval } })) } }
}

/**
 * The statement's expressions over the view, rewritten over the base relation: a column
 * reference naming a view column (bare, or qualified by the view's name or alias) becomes
 * the view's expression for it; a reference to anything else of the view fails (42703).
 */
function substitute(node: Node, uv: UpdatableView, alias: string): Node {
  if (hasNode(node, ['SubLink'])) {
    throw new SqlError(SqlState.featureNotSupported, `a sub-query in a write through view "${uv.view.name}" is not supported`)
  }
  const walk = (n: unknown, depth: number): unknown => {
    if (depth > 500 || n === null || typeof n !== 'object') return n
    if (Array.isArray(n)) return n.map((x) => walk(x, depth + 1))
    const o = n as Record<string, unknown>
    if (o['ColumnRef'] !== undefined) {
      const names = nameList((o['ColumnRef'] as { fields?: Node[] }).fields)
      if (names.length === 1 || (names.length === 2 && names[0] === alias)) {
        const col = names[names.length - 1]!
        const vc = uv.columns.find((c) => c.name === col)
        if (!vc) throw new SqlError(SqlState.undefinedColumn, `column "${col}" does not exist`)
        return clone(vc.expr)
      }
      return n
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, walk(v, depth + 1)]))
  }
  return walk(node, 0) as Node
}

/** RETURNING over the view: `*` is the view's columns, each expression rewritten. */
function returningOver(list: Node[] | undefined, uv: UpdatableView, alias: string): Node[] | undefined {
  if (!list || list.length === 0) return list
  const out: Node[] = []
  for (const n of list) {
    if (!('ResTarget' in n) || !n.ResTarget.val) continue
    const val = n.ResTarget.val
    if ('ColumnRef' in val && (val.ColumnRef.fields ?? []).some((f) => 'A_Star' in f)) {
      for (const c of uv.columns) out.push({ ResTarget: { name: c.name, val: clone(c.expr) } })
      continue
    }
    const name = n.ResTarget.name ?? ('ColumnRef' in val ? nameList(val.ColumnRef.fields).pop() : undefined)
    const rt: ResTarget = { val: substitute(val, uv, alias), ...(name !== undefined ? { name } : {}) }
    out.push({ ResTarget: rt })
  }
  return out
}

function writable(uv: UpdatableView, col: string, verb: 'insert into' | 'update'): string {
  const vc = uv.columns.find((c) => c.name === col)
  if (!vc) throw new SqlError(SqlState.undefinedColumn, `column "${col}" of relation "${uv.view.name}" does not exist`)
  if (vc.baseColumn === null) {
    throw new SqlError(SqlState.featureNotSupported, `cannot ${verb === 'insert into' ? 'insert into' : 'update'} column "${col}" of view "${uv.view.name}"`, {
      detail: 'View columns that are not columns of their base relation are not updatable.',
    })
  }
  return vc.baseColumn
}

type Returns = { returningClause?: { exprs?: Node[] } }

function returningOf(stmt: Returns): Node[] | undefined {
  return stmt.returningClause?.exprs
}

function withReturning<T extends Returns>(stmt: T, list: Node[] | undefined): T {
  const out = { ...stmt }
  if (list === undefined || list.length === 0) delete out.returningClause
  else out.returningClause = { ...stmt.returningClause, exprs: list }
  return out
}

/** `INSERT INTO view ..` as an INSERT into the view's relation. */
export function insertThroughView(stmt: InsertStmt, view: ViewDef, source: ViewWriteSource): InsertStmt {
  const uv = updatableView(view, 'insert into', source)
  if (stmt.onConflictClause) throw new SqlError(SqlState.featureNotSupported, `INSERT .. ON CONFLICT through view "${view.name}" is not supported`)
  const alias = stmt.relation?.alias?.aliasname ?? view.name
  const named = (stmt.cols ?? []).map((c) => ('ResTarget' in c ? c.ResTarget : {}))
  if (named.some((t) => (t.indirection ?? []).length > 0)) throw new SqlError(SqlState.featureNotSupported, `assigning to an element of a column of view "${view.name}" is not supported`)
  const targets = named.length > 0 ? named.map((t) => t.name ?? '') : uv.columns.map((c) => c.name)
  const sel = stmt.selectStmt && 'SelectStmt' in stmt.selectStmt ? stmt.selectStmt.SelectStmt : null
  // Without a column list the values fill the view's columns in order: only as many as given.
  const width = named.length > 0 ? targets.length : sel?.valuesLists ? Math.max(0, ...sel.valuesLists.map((l) => ('List' in l ? l.List.items?.length ?? 0 : 0))) : sel ? targets.length : 0
  const cols = targets.slice(0, width).map((name) => ({ ResTarget: { name: writable(uv, name, 'insert into') } }))
  const out: InsertStmt = { ...stmt, relation: { ...clone(uv.base), alias: { aliasname: uv.base.alias?.aliasname ?? uv.base.relname ?? '' } }, cols }
  if (!stmt.selectStmt) delete out.cols
  return withReturning(out, returningOver(returningOf(stmt), uv, alias))
}

function joinWhere(a: Node | undefined, b: Node | undefined): Node | undefined {
  if (!a) return b
  if (!b) return a
  return { BoolExpr: { boolop: 'AND_EXPR', args: [clone(a), b] } }
}

/** `UPDATE view SET .. WHERE ..` as an UPDATE of the view's relation, of the rows the view shows. */
export function updateThroughView(stmt: UpdateStmt, view: ViewDef, source: ViewWriteSource): UpdateStmt {
  const uv = updatableView(view, 'update', source)
  if ((stmt.fromClause ?? []).length > 0) throw new SqlError(SqlState.featureNotSupported, `UPDATE .. FROM through view "${view.name}" is not supported`)
  const alias = stmt.relation?.alias?.aliasname ?? view.name
  const targetList = (stmt.targetList ?? []).map((t): Node => {
    if (!('ResTarget' in t)) return t
    if ((t.ResTarget.indirection ?? []).length > 0) throw new SqlError(SqlState.featureNotSupported, `assigning to an element of a column of view "${view.name}" is not supported`)
    const val = t.ResTarget.val
    return { ResTarget: { ...t.ResTarget, name: writable(uv, t.ResTarget.name ?? '', 'update'), ...(val ? { val: 'SetToDefault' in val ? val : substitute(val, uv, alias) } : {}) } }
  })
  const where = joinWhere(uv.where, stmt.whereClause ? substitute(stmt.whereClause, uv, alias) : undefined)
  const out: UpdateStmt = { ...stmt, relation: clone(uv.base), targetList }
  if (where) out.whereClause = where
  else delete out.whereClause
  return withReturning(out, returningOver(returningOf(stmt), uv, alias))
}

/** `DELETE FROM view WHERE ..` as a DELETE from the view's relation, of the rows the view shows. */
export function deleteThroughView(stmt: DeleteStmt, view: ViewDef, source: ViewWriteSource): DeleteStmt {
  const uv = updatableView(view, 'delete from', source)
  if ((stmt.usingClause ?? []).length > 0) throw new SqlError(SqlState.featureNotSupported, `DELETE .. USING through view "${view.name}" is not supported`)
  const alias = stmt.relation?.alias?.aliasname ?? view.name
  const where = joinWhere(uv.where, stmt.whereClause ? substitute(stmt.whereClause, uv, alias) : undefined)
  const out: DeleteStmt = { ...stmt, relation: clone(uv.base) }
  if (where) out.whereClause = where
  else delete out.whereClause
  return withReturning(out, returningOver(returningOf(stmt), uv, alias))
}

/** Views deeper than this in one write are refused (a cycle merged from two masters cannot loop). */
const MAX_VIEW_DEPTH = 32

/**
 * Follows a write naming a view down to the table it writes: each step rewrites the
 * statement over the view's relation; statements naming a table come back unchanged.
 */
export function throughViews<T extends { relation?: RangeVar }>(stmt: T, source: ViewWriteSource, rewrite: (s: T, v: ViewDef) => T): T {
  let out = stmt
  for (let depth = 0; depth < MAX_VIEW_DEPTH; depth++) {
    const name = out.relation?.relname ?? ''
    if (source.table(name) !== undefined) return out
    const view = readView(source, name)
    if (!view) return out
    out = rewrite(out, view)
  }
  throw new SqlError(SqlState.invalidObjectDefinition, `infinite recursion detected in rules for relation "${stmt.relation?.relname ?? ''}"`)
}

/** The stored form of `WITH [LOCAL | CASCADED] CHECK OPTION` (writes through such a view are refused). */
export function checkOptionOf(option: string | undefined, options: Node[] | undefined): 'local' | 'cascaded' | undefined {
  if (option === 'LOCAL_CHECK_OPTION') return 'local'
  if (option === 'CASCADED_CHECK_OPTION') return 'cascaded'
  for (const o of options ?? []) {
    if (!('DefElem' in o) || o.DefElem.defname !== 'check_option') continue
    const v = o.DefElem.arg && 'String' in o.DefElem.arg ? o.DefElem.arg.String.sval : undefined
    return v === 'local' ? 'local' : 'cascaded'
  }
  return undefined
}
