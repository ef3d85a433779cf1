/**
 * The keys of CREATE INDEX: plain columns, and expressions (`CREATE INDEX ON t
 * ((a || b))`, `ON t (lower(name))`). An index never changes what a query answers; an
 * expression key is kept in the index's catalog object (`exprs`, the parse tree per key
 * position, null for a column) so pg_indexes, pg_get_indexdef and \d show it, RENAME
 * COLUMN rewrites it and DROP COLUMN drops the index, as in PostgreSQL. Queries do not
 * use expression keys (they scan), and the index structures of catalog/secondary-index.ts
 * lead with plain columns only.
 *
 * A UNIQUE index on an expression would have to be enforced on every write and reported
 * as a conflict when two masters write equal values apart; Concord enforces UNIQUE on
 * columns only, so it is refused with 0A000 (docs/compatibility.md).
 *
 * Invariant: an expression key compiles against the table's columns when the index is
 * made (42703, 42883 otherwise), calls no volatile function (42P17), and is not of a
 * pseudo-type (record: 42P16), as PostgreSQL requires.
 */
import type { Json, TableInfo } from '@concord/core'
import type { AlterTableCmd, IndexElem, Node } from 'libpg-query'
import { tableColumns } from '../catalog/column-read.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { compileExpr } from '../expr/compile.js'
import { makeCompileCtx, type PlanCtx } from '../plan/plan-context.js'
import { Scope } from '../relation/scope.js'

export interface IndexKeys {
  /** Per key position: the column's name, or '' for an expression. */
  columns: string[]
  /** Per key position: the expression's parse tree, or null for a column; absent when every key is a column. */
  exprs?: Array<Json | null>
  /** The name parts PostgreSQL builds a default index name from (`lower`, `expr`, the column). */
  nameParts: string[]
}

/** Functions whose value may change between calls with the same arguments: not allowed in an index. */
const VOLATILE = new Set([
  'random', 'now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'timeofday', 'nextval', 'currval', 'lastval', 'setval',
  'gen_random_uuid', 'uuid_generate_v4', 'txid_current', 'pg_backend_pid', 'current_setting', 'random_normal', 'age',
])

/** Whether an expression calls a function whose value may change between calls (now(), random(), nextval() ..). */
export function volatileCall(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(volatileCall)
  if (typeof node !== 'object' || node === null) return false
  const o = node as Record<string, unknown>
  if ('SQLValueFunction' in o) return true
  const f = o['FuncCall'] as { funcname?: Array<{ String?: { sval?: string } }> } | undefined
  if (f) {
    const fname = f.funcname?.[f.funcname.length - 1]?.String?.sval?.toLowerCase() ?? ''
    if (VOLATILE.has(fname)) return true
  }
  return Object.values(o).some(volatileCall)
}

/** The column an expression names on its own (`((a))` is an index on column a), else null. */
function bareColumn(expr: Node): string | null {
  if (!('ColumnRef' in expr)) return null
  const fields = expr.ColumnRef.fields ?? []
  const last = fields[fields.length - 1]
  return fields.length === 1 && last && 'String' in last ? last.String.sval ?? null : null
}

const SYSTEM_COLUMNS = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid'])

/** Whether an expression names a system column (ctid, xmin ..), which no index may read. */
function readsSystemColumn(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(readsSystemColumn)
  if (typeof node !== 'object' || node === null) return false
  const o = node as Record<string, unknown>
  const ref = o['ColumnRef'] as { fields?: Array<{ String?: { sval?: string } }> } | undefined
  if (ref) {
    const fields = ref.fields ?? []
    return SYSTEM_COLUMNS.has(fields[fields.length - 1]?.String?.sval ?? '')
  }
  return Object.values(o).some(readsSystemColumn)
}

/** The keys of an index on `t` from its IndexElems (and its WHERE clause); refuses what PostgreSQL refuses. */
export function indexKeys(params: Node[], t: TableInfo, unique: boolean, p: PlanCtx, where?: Node): IndexKeys {
  const systemColumn = (): SqlError => new SqlError(SqlState.featureNotSupported, 'index creation on system columns is not supported')
  if (readsSystemColumn(params) || (where !== undefined && readsSystemColumn(where))) throw systemColumn()
  const columns: string[] = []
  const exprs: Array<Json | null> = []
  const nameParts: string[] = []
  let scope: Scope | null = null
  for (const e of params) {
    const el = (e as { IndexElem?: IndexElem }).IndexElem
    if (!el) throw new SqlError(SqlState.syntaxError, 'bad index element')
    const name = el.name ?? (el.expr ? bareColumn(el.expr) : null)
    if (name) {
      if (SYSTEM_COLUMNS.has(name)) throw systemColumn()
      if (!t.columns.some((c) => c.name === name)) throw new SqlError(SqlState.undefinedColumn, `column "${name}" does not exist`)
      columns.push(name)
      exprs.push(null)
      nameParts.push(name)
      continue
    }
    if (unique) {
      throw new SqlError(SqlState.featureNotSupported, 'unique indexes on expressions are not supported', {
        hint: 'Concord enforces UNIQUE on columns: store the expression in a generated column and make that unique.',
      })
    }
    const expr = el.expr!
    scope ??= new Scope(tableColumns(t, t.name))
    const compiled = compileExpr(expr, makeCompileCtx(p, scope))
    if (volatileCall(expr)) throw new SqlError(SqlState.invalidObjectDefinition, 'functions in index expression must be marked IMMUTABLE')
    if (compiled.type.id === 'record' && compiled.type.name === undefined) throw new SqlError(SqlState.invalidTableDefinition, 'column "row" has pseudo-type record')
    columns.push('')
    exprs.push(expr as unknown as Json)
    const f = 'FuncCall' in expr ? expr.FuncCall.funcname : undefined
    const last = f?.[f.length - 1]
    nameParts.push(last && 'String' in last ? last.String.sval ?? 'expr' : 'expr')
  }
  return exprs.some((x) => x !== null) ? { columns, exprs, nameParts } : { columns, nameParts }
}

/** PostgreSQL's default index name: `table_key1_key2_idx`, a repeated `expr` numbered (`expr`, `expr1`). */
export function defaultIndexName(table: string, parts: string[]): string {
  const seen = new Map<string, number>()
  const named = parts.map((x) => {
    const n = seen.get(x) ?? 0
    seen.set(x, n + 1)
    return n === 0 ? x : `${x}${n}`
  })
  return `${table}_${named.join('_')}_idx`
}

/** Whether an index object's keys include an expression reading `column` (its DROP COLUMN drops the index). */
export function exprsRead(exprs: Array<Json | null> | undefined, column: string): boolean {
  const reads = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(reads)
    if (typeof node !== 'object' || node === null) return false
    const o = node as Record<string, unknown>
    const ref = o['ColumnRef'] as { fields?: Array<{ String?: { sval?: string } }> } | undefined
    if (ref) {
      const fields = ref.fields ?? []
      if (fields[fields.length - 1]?.String?.sval === column) return true
    }
    return Object.values(o).some(reads)
  }
  return (exprs ?? []).some((x) => x !== null && reads(x))
}

/**
 * ALTER INDEX name ALTER COLUMN n SET STATISTICS t: PostgreSQL allows it on expression
 * keys only. Concord keeps no planner statistics, so on an expression key it is accepted
 * and changes nothing (as ANALYZE); on a column key it fails as in PostgreSQL (0A000).
 */
export function alterIndexStatistics(def: { name: string; columns: string[]; exprs?: Array<Json | null> }, cmds: AlterTableCmd[]): void {
  for (const cmd of cmds) {
    const n = cmd.num ?? 0
    if (n < 1 || n > def.columns.length) throw new SqlError(SqlState.undefinedColumn, `column number ${n} of relation "${def.name}" does not exist`)
    if ((def.exprs?.[n - 1] ?? null) === null) {
      throw new SqlError(SqlState.featureNotSupported, `cannot alter statistics on non-expression column "${def.columns[n - 1]}" of index "${def.name}"`, {
        hint: 'Alter statistics on table column instead.',
      })
    }
  }
}
