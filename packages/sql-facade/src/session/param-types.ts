/**
 * The types Describe reports for parameters the client left unspecified (OID 0), read
 * from where each `$n` stands, as PostgreSQL infers them: a value of INSERT's column
 * list, the right side of UPDATE's `SET col =`, an explicit `$n::type`, or one side of a
 * comparison with a column (`col = ANY($n)`: an array of the column's type).
 *
 * Invariants: only what the report says changes; execution still binds every parameter
 * as text of unknown type and lets the context decide (bind-param.ts), so an inference
 * that misses leaves text, which is what Concord reported before. A client such as
 * postgres.js serializes each parameter by the reported type (a JS array as an array
 * literal only when the type is an array type).
 */
import type { Node } from 'libpg-query'
import type { TableInfo } from '@concord/core'
import { tableColumns } from '../catalog/column-read.js'
import type { Statement } from '../parser/statement.js'
import { arrayOf, typeFromTypeName, typeOid, type SqlType } from '../types/sql-type.js'

type Lookup = (name: string) => TableInfo | undefined

/** Fills `paramTypes` (one OID per parameter, 0 where unknown) in place from the statement's context. */
export function inferParamTypes(statement: Statement | null, paramTypes: number[], table: Lookup): void {
  // Nothing to fill: a statement of literals only (a bulk INSERT's tree is not walked).
  if (statement?.kind !== 'pg' || paramTypes.length === 0) return
  const found = new Map<number, SqlType>()
  const set = (node: Node | undefined, t: SqlType | undefined): void => {
    const n = node && 'ParamRef' in node ? node.ParamRef.number ?? 0 : 0
    if (n > 0 && t && !found.has(n)) found.set(n, t)
  }
  const columnsOf = (name: string | undefined): Map<string, SqlType> => {
    const t = name ? table(name) : undefined
    return new Map(t ? tableColumns(t, name!).map((c) => [c.name, c.type]) : [])
  }
  const node = statement.node
  let scope = new Map<string, SqlType>()
  if ('InsertStmt' in node) {
    const ins = node.InsertStmt
    scope = columnsOf(ins.relation?.relname)
    const all = [...scope.keys()]
    const targets = ins.cols?.length ? ins.cols.map((c) => ('ResTarget' in c ? c.ResTarget.name ?? '' : '')) : all
    const values = ins.selectStmt && 'SelectStmt' in ins.selectStmt ? ins.selectStmt.SelectStmt.valuesLists ?? [] : []
    for (const list of values) {
      const items = 'List' in list ? list.List.items ?? [] : []
      items.forEach((v, i) => set(v, scope.get(targets[i] ?? '')))
    }
  } else if ('UpdateStmt' in node) {
    scope = columnsOf(node.UpdateStmt.relation?.relname)
    for (const t of node.UpdateStmt.targetList ?? []) {
      if ('ResTarget' in t && !t.ResTarget.indirection?.length) set(t.ResTarget.val, scope.get(t.ResTarget.name ?? ''))
    }
  } else if ('DeleteStmt' in node) {
    scope = columnsOf(node.DeleteStmt.relation?.relname)
  } else if ('SelectStmt' in node) {
    for (const f of node.SelectStmt.fromClause ?? []) {
      if ('RangeVar' in f) for (const [k, v] of columnsOf(f.RangeVar.relname)) if (!scope.has(k)) scope.set(k, v)
    }
  }
  walk(node, (n) => {
    if ('TypeCast' in n && n.TypeCast.typeName) {
      try {
        set(n.TypeCast.arg, typeFromTypeName(n.TypeCast.typeName))
      } catch {
        // A type Concord does not know: left as text; running the statement reports it.
      }
    } else if ('A_Expr' in n) {
      const e = n.A_Expr
      const col = (x: Node | undefined): SqlType | undefined => {
        const fields = x && 'ColumnRef' in x ? x.ColumnRef.fields ?? [] : []
        const last = fields[fields.length - 1]
        return last && 'String' in last ? scope.get(last.String.sval ?? '') : undefined
      }
      const wrap = (t: SqlType | undefined) => (t && e.kind === 'AEXPR_OP_ANY' && !t.array ? arrayOf(t) : t)
      if (e.kind === 'AEXPR_OP' || e.kind === 'AEXPR_OP_ANY' || e.kind === 'AEXPR_OP_ALL') {
        set(e.rexpr, wrap(col(e.lexpr)))
        if (e.kind === 'AEXPR_OP') set(e.lexpr, col(e.rexpr))
      }
    }
  })
  for (const [n, t] of found) if (n <= paramTypes.length && !paramTypes[n - 1]) paramTypes[n - 1] = typeOid(t)
}

function walk(node: unknown, visit: (n: Node) => void): void {
  if (!node || typeof node !== 'object') return
  if (Array.isArray(node)) {
    for (const x of node) walk(x, visit)
    return
  }
  visit(node as Node)
  for (const v of Object.values(node)) walk(v, visit)
}
