/**
 * CREATE [OR REPLACE] VIEW and DROP VIEW, and the views' side of dropping what they read.
 * A view is a catalog object (catalog/view-def.ts) written in the caller's transaction;
 * its query is planned when created, to fix its columns and types and to fail early
 * (an unknown table or column is the CREATE's error, as in PostgreSQL).
 *
 * Invariants: a view and a table never share a name; a view's relations exist when it is
 * created, and dropping one of them fails (2BP01) unless CASCADE, which drops the views
 * that read it, transitively.
 */
import { checkOptionOf } from './view-write.js'
import type { Json } from '@concord/core'
import type { ViewStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { tableMeta } from '../catalog/table-meta.js'
import { nameList } from '../parser/name-list.js'
import { planSelect } from '../plan/select.js'
import type { PlanCtx } from '../plan/plan-context.js'
import { typeName, T } from '../types/sql-type.js'
import { listViews, readView, relationsRead, VIEW_KIND, type ViewDef } from '../catalog/view-def.js'
import { utility, type StatementResult } from '../runtime/result.js'
import { takesSystemViewName } from './system-view-name.js'

/**
 * The text of the view's query inside its CREATE VIEW statement: what follows the first
 * `AS` after `VIEW` outside quotes and parentheses, less a trailing `WITH .. CHECK OPTION`.
 */
export function viewQueryText(statement: string): string {
  let depth = 0
  let sawView = false
  for (let i = 0; i < statement.length; i++) {
    const ch = statement[i]!
    if (ch === "'" || ch === '"') {
      const end = statement.indexOf(ch, i + 1)
      i = end < 0 ? statement.length : end
      continue
    }
    if (ch === '(') depth++
    else if (ch === ')') depth--
    if (depth !== 0 || !/[a-z]/i.test(ch) || (i > 0 && /[\w$]/.test(statement[i - 1]!))) continue
    const word = /^[a-z_]+/i.exec(statement.slice(i))![0].toLowerCase()
    if (word === 'view') sawView = true
    else if (word === 'as' && sawView) {
      return statement.slice(i + 2).replace(/;\s*$/, '').replace(/\s+with\s+(cascaded\s+|local\s+)?check\s+option\s*$/i, '').trim()
    }
    i += word.length - 1
  }
  return ''
}

function duplicateName(names: string[]): string | undefined {
  return names.find((n, i) => names.indexOf(n) !== i)
}

export function execCreateView(stmt: ViewStmt, p: PlanCtx, statementText: string): StatementResult {
  const name = stmt.view!.relname!
  const tx = p.exec.tx
  if (stmt.view?.schemaname !== undefined && stmt.view.schemaname !== 'public' && stmt.view.schemaname !== 'pg_temp') {
    throw new SqlError(SqlState.featureNotSupported, 'schemas other than public are not supported')
  }
  const sel = stmt.query && 'SelectStmt' in stmt.query ? stmt.query.SelectStmt : null
  if (!sel) throw new SqlError(SqlState.featureNotSupported, 'a view must be defined by a SELECT')
  if (sel.intoClause) throw new SqlError(SqlState.featureNotSupported, 'views must not contain SELECT INTO')
  const relations = relationsRead(sel)
  // A view that reads a temporary relation is temporary itself, as in PostgreSQL.
  const readsTemp = relations.some((r) => { const t = tx.table(r); return t ? tableMeta(t).temporary === true : readView(tx, r)?.temporary === true })
  const temporary = stmt.view?.relpersistence === 't' || readsTemp
  if (temporary && !p.exec.temporaryRelations) throw new SqlError(SqlState.internalError, 'a temporary view outside a session that holds temporary relations')
  const notices = temporary && stmt.view?.relpersistence !== 't' ? [`view "${name}" will be a temporary view`] : []
  const table = tx.table(name)
  if ((table && (!temporary || tableMeta(table).temporary)) || takesSystemViewName(p.exec, name)) throw new SqlError(SqlState.duplicateTable, `relation "${name}" already exists`)
  const existing = readView(tx, name)
  if (existing && !stmt.replace && (!temporary || existing.temporary)) throw new SqlError(SqlState.duplicateTable, `relation "${name}" already exists`)
  // Planned with no CTEs of an enclosing statement in sight: a view stands alone.
  const rel = planSelect(sel, { ...p, ctes: new Map() }, null)
  const aliases = nameList(stmt.aliases)
  if (aliases.length > rel.columns.length) throw new SqlError(SqlState.syntaxError, 'CREATE VIEW specifies more column names than columns')
  const columns = rel.columns.map((c, i) => ({ name: aliases[i] ?? c.name, type: c.type.id === 'unknown' ? T.text : c.type }))
  const dup = duplicateName(columns.map((c) => c.name))
  if (dup !== undefined) throw new SqlError(SqlState.duplicateColumn, `column "${dup}" specified more than once`)
  if (existing && stmt.replace && !!existing.temporary === temporary) checkReplacement(existing, columns)
  const readers = new Set(dependents(p, [name]).map((v) => v.name))
  if (relations.some((r) => r === name || readers.has(r))) throw new SqlError(SqlState.invalidObjectDefinition, `infinite recursion detected in rules for relation "${name}"`)
  const checkOption = checkOptionOf(stmt.withCheckOption, stmt.options)
  const def: ViewDef = {
    name, columns, query: sel as unknown as Json, definition: viewQueryText(statementText), relations, ...(temporary ? { temporary } : {}), ...(checkOption ? { checkOption } : {}),
  }
  tx.setCatalog(VIEW_KIND, name, def as unknown as Json)
  return utility('CREATE VIEW', notices)
}

/** OR REPLACE keeps the old columns (names and types, in order) and may only add new ones after them. */
function checkReplacement(old: ViewDef, columns: ViewDef['columns']): void {
  if (columns.length < old.columns.length) throw new SqlError(SqlState.invalidTableDefinition, 'cannot drop columns from view')
  old.columns.forEach((c, i) => {
    const n = columns[i]!
    if (n.name !== c.name) {
      throw new SqlError(SqlState.invalidTableDefinition, `cannot change name of view column "${c.name}" to "${n.name}"`, { hint: 'Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.' })
    }
    if (typeName(n.type) !== typeName(c.type)) {
      throw new SqlError(SqlState.invalidTableDefinition, `cannot change data type of view column "${c.name}" from ${typeName(c.type)} to ${typeName(n.type)}`)
    }
  })
}

/** Views that read any of `names`, directly or through other views (not `names` themselves). */
function dependents(p: PlanCtx, names: string[]): ViewDef[] {
  const all = listViews(p.exec.tx)
  const out: ViewDef[] = []
  const reached = new Set(names)
  for (let grew = true; grew;) {
    grew = false
    for (const v of all) {
      if (reached.has(v.name) || !v.relations.some((r) => reached.has(r))) continue
      reached.add(v.name)
      out.push(v)
      grew = true
    }
  }
  return out
}

/**
 * Before relations `names` are dropped: with CASCADE, drops the views that read them and
 * returns the notices; without, fails with PostgreSQL's 2BP01 when any view reads them.
 */
export function dropDependentViews(p: PlanCtx, names: string[], kind: 'table' | 'view', cascade: boolean): string[] {
  const deps = dependents(p, names)
  if (deps.length === 0) return []
  if (!cascade) {
    const reached = new Set([...names, ...deps.map((v) => v.name)])
    const on = (v: ViewDef): string => v.relations.find((r) => reached.has(r)) ?? names[0]!
    throw new SqlError(SqlState.dependentObjectsStillExist, `cannot drop ${kind} ${on(deps[0]!)} because other objects depend on it`, {
      detail: deps.map((v) => `view ${v.name} depends on ${names.includes(on(v)) ? kind : 'view'} ${on(v)}`).join('\n'),
      hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
    })
  }
  for (const v of deps) p.exec.tx.setCatalog(VIEW_KIND, v.name, null)
  return deps.length === 1 ? [`drop cascades to view ${deps[0]!.name}`] : [`drop cascades to ${deps.length} other objects`]
}

export function execDropView(names: string[], missingOk: boolean, cascade: boolean, p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const notices: string[] = []
  const present: string[] = []
  for (const n of names) {
    if (readView(tx, n)) {
      present.push(n)
      continue
    }
    if (tx.table(n)) throw new SqlError(SqlState.wrongObjectType, `"${n}" is not a view`, { hint: 'Use DROP TABLE to remove a table.' })
    if (!missingOk) throw new SqlError(SqlState.undefinedTable, `view "${n}" does not exist`)
    notices.push(`view "${n}" does not exist, skipping`)
  }
  notices.push(...dropDependentViews(p, present, 'view', cascade))
  for (const n of present) tx.setCatalog(VIEW_KIND, n, null)
  return utility('DROP VIEW', notices)
}
