/**
 * CREATE TABLE .. AS and SELECT .. INTO: a new table with the query's column names and
 * types, filled with its rows, all in the caller's transaction (the table and its rows
 * commit together or not at all). The table is created through the ordinary CREATE
 * TABLE path, from a column list spelled with each output type's SQL name, so it is
 * the table `CREATE TABLE t (..)` with those columns would be: no primary key (a hidden
 * row id), no constraints, no defaults, as in PostgreSQL.
 */
import type { CreateStmt, IntoClause, SelectStmt } from 'libpg-query'
import { parseScript } from '../parser/parse.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { tableMeta } from '../catalog/table-meta.js'
import { nameList } from '../parser/name-list.js'
import { planSelect } from '../plan/select.js'
import type { PlanCtx } from '../plan/plan-context.js'
import { T, typeName, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { readView } from '../catalog/view-def.js'
import { execCreateTable } from './ddl.js'
import { TableWriter, type GivenRow } from './table-writer.js'
import { utility, type StatementResult } from '../runtime/result.js'
import { takesSystemViewName } from './system-view-name.js'

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** The column type a query's output type becomes: PostgreSQL stores unknown literals as text. */
function storedType(t: SqlType): SqlType {
  return t.id === 'unknown' ? T.text : t
}

export function execCreateTableAs(into: IntoClause, query: SelectStmt, ifNotExists: boolean, p: PlanCtx): StatementResult {
  const rv = into.rel!
  const name = rv.relname!
  const tx = p.exec.tx
  const temporary = rv.relpersistence === 't'
  const existing = tx.table(name)
  const view = readView(tx, name)
  if ((existing && (!temporary || tableMeta(existing).temporary)) || (view && (!temporary || view.temporary)) || takesSystemViewName(p.exec, name)) {
    if (ifNotExists) return utility('CREATE TABLE AS', [`relation "${name}" already exists, skipping`])
    throw new SqlError(SqlState.duplicateTable, `relation "${name}" already exists`)
  }
  const rel = planSelect(query, p, null)
  const given = nameList(into.colNames)
  if (given.length > rel.columns.length) throw new SqlError(SqlState.syntaxError, 'too many column names were specified')
  const columns = rel.columns.map((c, i) => ({ name: given[i] ?? c.name, type: storedType(c.type) }))
  const dup = columns.find((c, i) => columns.findIndex((x) => x.name === c.name) !== i)
  if (dup) throw new SqlError(SqlState.duplicateColumn, `column "${dup.name}" specified more than once`)
  const sql = `CREATE ${temporary ? 'TEMPORARY ' : ''}TABLE ${quoteIdent(name)} (${columns.map((c) => `${quoteIdent(c.name)} ${typeName(c.type)}`).join(', ')})`
  const parsed = parseScript(sql)[0]
  if (parsed?.kind !== 'pg' || !('CreateStmt' in parsed.node)) throw new SqlError(SqlState.internalError, `could not build the table for ${name}`)
  // WITH (..) options (replication_regions among them) apply as in CREATE TABLE.
  const create: CreateStmt = { ...(parsed.node.CreateStmt as CreateStmt), ...(into.options ? { options: into.options } : {}) }
  execCreateTable(create, p)
  if (into.skipData) return utility('CREATE TABLE AS')
  const w = new TableWriter(tx.table(name)!, p)
  const targets = columns.map((c) => w.index(c.name))
  const rows = rel.rows(null)
  for (const r of rows) {
    const values: GivenRow = []
    targets.forEach((ci, k) => (values[ci] = r[k] ?? null))
    w.insert(w.newRow(values), values)
  }
  return { command: 'SELECT', rowCount: rows.length, columns: [], rows: [], returnsRows: false }
}
