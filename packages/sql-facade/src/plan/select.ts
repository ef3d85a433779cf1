/**
 * SELECT: WITH, FROM (tables, subqueries, joins), WHERE, GROUP BY/HAVING with aggregates,
 * the select list, DISTINCT [ON], set operations, ORDER BY, LIMIT/OFFSET. Plans are
 * closures built per statement; rows are materialized arrays of runtime values.
 */
import type { Node, SelectStmt, WindowDef } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from '../expr/coerce.js'
import { compileExpr, compilePredicate, fingerprint, unify } from '../expr/compile.js'
import { AggCollector, type CompileCtx } from '../expr/compile-context.js'
import { nameList } from '../parser/name-list.js'
import { sortDescending, sortNullsFirst } from '../parser/sort-direction.js'
import type { Compiled } from '../expr/compiled.js'
import { Scope, type ColumnBinding, type Env } from '../relation/scope.js'
import { isAggregate } from '../functions/aggregate.js'
import type { AggState } from '../functions/aggregate.js'
import { compareValues, groupKey, rowKey } from '../types/compare.js'
import { T } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { planFrom } from './from.js'
import { SrfCollector } from '../expr/project-set.js'
import type { Relation } from '../relation/relation.js'
import { computeWindows, samePeers, WindowCollector } from '../expr/window.js'
import { planWithClause } from './with-clause.js'
import { makeCompileCtx, type PlanCtx } from './plan-context.js'
import type { StatementBudget } from '../runtime/statement-budget.js'
import { assertOrderable } from '../types/geometry.js'
import { TopN, type KeyOrder } from './top-n.js'

/** ORDER BY .. LIMIT keeps at most this many rows in a heap (OFFSET plus LIMIT); more sorts them all. */
const TOP_N_MAX = 10_000

/**
 * `arm`: the query is an operand of UNION / INTERSECT / EXCEPT, whose untyped literals
 * (`SELECT NULL`, `SELECT '2'`) keep the unknown type for the set operation to resolve
 * from the other operands, as PostgreSQL does (`SELECT 1 UNION SELECT NULL` was 42804).
 */
export function planSelect(stmt: SelectStmt, p: PlanCtx, parent: Scope | null, arm = false): Relation {
  if (stmt.withClause) p = planWithClause(stmt.withClause, p, parent)
  let rel: Relation
  let outScope: Scope
  if (stmt.op && stmt.op !== 'SETOP_NONE') {
    rel = planSetOp(stmt, p, parent)
    outScope = new Scope(rel.columns, parent)
  } else if (stmt.valuesLists) {
    rel = planValues(stmt.valuesLists, p, parent)
    outScope = new Scope(rel.columns, parent)
  } else {
    return planQuery(stmt, p, parent, arm)
  }
  // ORDER BY / LIMIT on a set operation or VALUES apply to its output columns.
  const sorts = (stmt.sortClause ?? []).map((s) => sortKey(s, rel.columns, null, makeCompileCtx(p, outScope)))
  const limit = limitOf(stmt, p, parent)
  if (sorts.length === 0 && !limit) return rel
  return {
    columns: rel.columns,
    rows: (outer) => {
      let rows = rel.rows(outer)
      let keyed: Array<{ out: RtValue[]; keys: RtValue[] }> = []
      if (sorts.length) {
        p.exec.budget.hold(rows.length, sorts.length + 3)
        keyed = rows.map((r) => ({ out: r, keys: sorts.map((s) => s.eval({ row: r, outer }, r)) }))
        sortRows(keyed, sorts, p.exec.budget)
        rows = keyed.map((k) => k.out)
      }
      return limit ? limit(rows, outer, (i) => keyed[i]!.keys) : rows
    },
  }
}

function planValues(lists: Node[], p: PlanCtx, parent: Scope | null): Relation {
  const scope = new Scope([], parent)
  const cctx = makeCompileCtx(p, scope)
  const rows = lists.map((l) => ('List' in l ? l.List.items ?? [] : []).map((e) => compileExpr(e, cctx)))
  const width = rows[0]?.length ?? 0
  if (rows.some((r) => r.length !== width)) throw new SqlError(SqlState.syntaxError, 'VALUES lists must all be the same length')
  const types = Array.from({ length: width }, (_x, i) => unify(rows.map((r) => r[i]!.type), 'VALUES'))
  const fs = rows.map((r) => r.map((c, i) => coerce(c, types[i]!, 'implicit', p.exec.nowMicros).eval))
  const columns: ColumnBinding[] = types.map((t, i) => ({ name: `column${i + 1}`, table: null, type: t }))
  return { columns, rows: (outer) => fs.map((r) => r.map((f) => f({ row: [], outer }))) }
}

function planSetOp(stmt: SelectStmt, p: PlanCtx, parent: Scope | null): Relation {
  const l = planSelect(stmt.larg!, p, parent, true)
  const r = planSelect(stmt.rarg!, p, parent, true)
  if (l.columns.length !== r.columns.length) {
    throw new SqlError(SqlState.syntaxError, `each ${stmt.op!.replace('SETOP_', '')} query must have the same number of columns`)
  }
  const types = l.columns.map((c, i) => unify([c.type, r.columns[i]!.type], stmt.op!.replace('SETOP_', '')))
  const conv = (rel: Relation) => rel.columns.map((c, i) => coerce({ type: c.type, eval: (env) => env.row[i]! }, types[i]!, 'implicit', p.exec.nowMicros).eval)
  const lc = conv(l)
  const rc = conv(r)
  const columns: ColumnBinding[] = l.columns.map((c, i) => ({ name: c.name, table: null, type: types[i]! }))
  const all = !!stmt.all
  const op = stmt.op!
  const budget = p.exec.budget
  return {
    columns,
    rows: (outer) => {
      const map = (rows: RtValue[][], fs: Array<(e: Env) => RtValue>) => rows.map((row) => {
        budget.tick()
        budget.hold(1, fs.length)
        return fs.map((f) => f({ row, outer }))
      })
      const left = map(l.rows(outer), lc)
      const right = map(r.rows(outer), rc)
      if (op === 'SETOP_UNION') {
        if (all) return left.concat(right)
        return dedupe(left.concat(right))
      }
      const counts = new Map<string, number>()
      for (const row of right) {
        const k = rowKey(row)
        counts.set(k, (counts.get(k) ?? 0) + 1)
      }
      const out: RtValue[][] = []
      const seen = new Set<string>()
      for (const row of left) {
        const k = rowKey(row)
        const n = counts.get(k) ?? 0
        if (op === 'SETOP_INTERSECT') {
          if (n > 0) {
            if (all) {
              counts.set(k, n - 1)
              out.push(row)
            } else if (!seen.has(k)) {
              seen.add(k)
              out.push(row)
            }
          }
        } else {
          if (all) {
            if (n > 0) counts.set(k, n - 1)
            else out.push(row)
          } else if (n === 0 && !seen.has(k)) {
            seen.add(k)
            out.push(row)
          }
        }
      }
      return out
    },
  }
}

function dedupe(rows: RtValue[][]): RtValue[][] {
  const seen = new Set<string>()
  const out: RtValue[][] = []
  for (const r of rows) {
    const k = rowKey(r)
    if (seen.has(k)) continue
    seen.add(k)
    out.push(r)
  }
  return out
}

/** hasAggregate results per (cached, immutable) parse-tree node, when no SQL function shadows an aggregate. */
const aggregateMemo = new WeakMap<object, boolean>()

/** Whether an expression contains an aggregate call at this query level. */
function hasAggregate(node: Node | undefined, p: PlanCtx): boolean {
  if (!node || typeof node !== 'object') return false
  // Leaves hold no call: not memoized, so a million-item IN list does not fill the memo.
  if ('A_Const' in node || 'ColumnRef' in node || 'ParamRef' in node) return false
  const memo = aggregateMemo.get(node)
  if (memo !== undefined) return memo
  const v = hasAggregateWalk(node, p)
  if (!AGGREGATE_NAMES.some((n) => p.exec.functions(n))) aggregateMemo.set(node, v)
  return v
}

const AGGREGATE_NAMES = ['count', 'sum', 'avg', 'min', 'max']

function hasAggregateWalk(node: Node, p: PlanCtx): boolean {
  if ('SubLink' in node) return hasAggregate(node.SubLink.testexpr, p)
  if ('FuncCall' in node) {
    const names = nameList(node.FuncCall.funcname)
    const name = names[names.length - 1]!.toLowerCase()
    if (isAggregate(name) && !p.exec.functions(name) && !node.FuncCall.over) return true
  }
  for (const v of Object.values(node as Record<string, unknown>)) {
    if (Array.isArray(v)) {
      for (const x of v) if (x && typeof x === 'object' && hasAggregate(x as Node, p)) return true
    } else if (v && typeof v === 'object' && hasAggregate(v as Node, p)) return true
  }
  return false
}

interface SortKey {
  eval: (env: Env, out: RtValue[]) => RtValue
  desc: boolean
  nullsFirst: boolean
}

/** Output expressions of a select list, with names. */
interface Target {
  name: string
  node: Node | null
  compiled: Compiled
}

function outputName(node: Node): string {
  return figureName(node)[0]
}

/**
 * PostgreSQL's FigureColname: a result column's default name and how strong it is (2: a
 * column, function, or keyword name; 1: a type cast's type or `case`; 0: none).
 * A cast or CASE takes the weaker name only when its argument (ELSE result) has no strong one.
 */
function figureName(node: Node): [string, number] {
  if ('ColumnRef' in node) {
    const f = node.ColumnRef.fields ?? []
    const last = f[f.length - 1]
    return last && 'String' in last ? [last.String.sval ?? '?column?', 2] : ['?column?', 0]
  }
  if ('FuncCall' in node) {
    const n = nameList(node.FuncCall.funcname)
    const name = n[n.length - 1]!
    if (name === 'btrim' || name === 'ltrim' || name === 'rtrim') return [node.FuncCall.funcformat === 'COERCE_SQL_SYNTAX' ? 'btrim' : name, 2]
    return [name, 2]
  }
  if ('TypeCast' in node) {
    const inner = node.TypeCast.arg ? figureName(node.TypeCast.arg) : (['?column?', 0] as [string, number])
    if (inner[1] > 1) return inner
    const tn = nameList(node.TypeCast.typeName?.names)
    return [tn[tn.length - 1]!, 1]
  }
  if ('CaseExpr' in node) {
    const inner = node.CaseExpr.defresult ? figureName(node.CaseExpr.defresult) : (['?column?', 0] as [string, number])
    return inner[1] > 1 ? inner : ['case', 1]
  }
  if ('CoalesceExpr' in node) return ['coalesce', 2]
  if ('MinMaxExpr' in node) return [node.MinMaxExpr.op === 'IS_GREATEST' ? 'greatest' : 'least', 2]
  if ('A_Expr' in node && node.A_Expr.kind === 'AEXPR_NULLIF') return ['nullif', 2]
  if ('RowExpr' in node) return ['row', 2]
  if ('SubLink' in node) {
    if (node.SubLink.subLinkType === 'EXISTS_SUBLINK') return ['exists', 2]
    if (node.SubLink.subLinkType === 'ARRAY_SUBLINK') return ['array', 2]
    const sel = node.SubLink.subselect
    if (node.SubLink.subLinkType === 'EXPR_SUBLINK' && sel && 'SelectStmt' in sel) {
      // A set operation is named by its leftmost SELECT.
      let first = sel.SelectStmt
      while (first.op && first.op !== 'SETOP_NONE' && first.larg) first = first.larg
      if (first.valuesLists?.length) return ['column1', 2]
      const t = first.targetList?.[0]
      if (t && 'ResTarget' in t) return t.ResTarget.name ? [t.ResTarget.name, 2] : t.ResTarget.val ? figureName(t.ResTarget.val) : ['?column?', 0]
    }
    return ['?column?', 0]
  }
  if ('SQLValueFunction' in node) {
    const op = node.SQLValueFunction.op ?? ''
    return [op.replace('SVFOP_', '').replace(/_N$/, '').toLowerCase(), 2]
  }
  if ('A_ArrayExpr' in node) return ['array', 2]
  if ('A_Indirection' in node && node.A_Indirection.arg) return figureName(node.A_Indirection.arg)
  return ['?column?', 0]
}

/** LIMIT/OFFSET of a query: how many leading rows to skip and keep (keep null: all). */
type LimitBounds = (outer: Env | null) => { off: number; count: number | null }

function limitBoundsOf(stmt: SelectStmt, p: PlanCtx, parent: Scope | null): LimitBounds | null {
  if (!stmt.limitCount && !stmt.limitOffset) return null
  const cctx = makeCompileCtx(p, new Scope([], parent))
  const countF = stmt.limitCount && !('A_Const' in stmt.limitCount && stmt.limitCount.A_Const.isnull) ? coerce(compileExpr(stmt.limitCount, cctx), T.int8, 'implicit', p.exec.nowMicros).eval : null
  const offF = stmt.limitOffset ? coerce(compileExpr(stmt.limitOffset, cctx), T.int8, 'implicit', p.exec.nowMicros).eval : null
  return (outer) => {
    const env: Env = { row: [], outer }
    let off = 0
    if (offF) {
      const v = offF(env)
      if (v !== null) {
        if ((v as bigint) < 0n) throw new SqlError(SqlState.invalidRowCountInOffset, 'OFFSET must not be negative')
        off = Number(v)
      }
    }
    let count: number | null = null
    if (countF) {
      const v = countF(env)
      if (v !== null) {
        if ((v as bigint) < 0n) throw new SqlError(SqlState.invalidRowCountInLimit, 'LIMIT must not be negative')
        count = Number(v)
      }
    }
    return { off, count }
  }
}

/** LIMIT / OFFSET over sorted rows; `keys(i)`: row i's ORDER BY values, which FETCH .. WITH TIES compares. */
type Limit = (rows: RtValue[][], outer: Env | null, keys: (i: number) => RtValue[]) => RtValue[][]

function limitOf(stmt: SelectStmt, p: PlanCtx, parent: Scope | null): Limit | null {
  const bounds = limitBoundsOf(stmt, p, parent)
  if (!bounds) return null
  const withTies = stmt.limitOption === 'LIMIT_OPTION_WITH_TIES'
  if (withTies && (stmt.sortClause ?? []).length === 0) throw new SqlError(SqlState.syntaxError, 'WITH TIES cannot be specified without ORDER BY clause')
  return (rows, outer, keys) => {
    const { off, count } = bounds(outer)
    if (withTies && count === null) throw new SqlError(SqlState.invalidRowCountInLimit, 'row count cannot be null in FETCH FIRST ... WITH TIES clause')
    let end = count === null ? rows.length : Math.min(rows.length, off + count)
    // FETCH FIRST n ROWS WITH TIES: also the rows that sort equal to the last one kept.
    if (withTies && count !== null && count > 0) while (end < rows.length && samePeers(keys(end - 1), keys(end))) end++
    return off === 0 && end === rows.length ? rows : rows.slice(off, end)
  }
}


/**
 * PostgreSQL's rule: the DISTINCT ON expressions must be the leftmost ORDER BY expressions
 * (in any order among themselves), else 42P10. Expressions compare as written, an output
 * position or output column name standing for its select-list expression.
 */
function checkDistinctOnOrder(on: Node[], order: Node[], targets: Target[]): void {
  if (order.length === 0) return
  const canon = (n: Node): string => {
    if ('A_Const' in n && n.A_Const.ival !== undefined) {
      const t = targets[(n.A_Const.ival.ival ?? 0) - 1]
      if (t?.node) return fingerprint(t.node)
    }
    if ('ColumnRef' in n) {
      const f = n.ColumnRef.fields ?? []
      const only = f.length === 1 && 'String' in f[0]! ? f[0].String.sval : undefined
      const t = only === undefined ? undefined : targets.find((x) => x.name === only && x.node)
      if (t?.node) return fingerprint(t.node)
    }
    return fingerprint(n)
  }
  const keys = new Set(on.map(canon))
  const pending = new Set(keys)
  let skipped = false
  const mismatch = () => new SqlError(SqlState.invalidColumnReference, 'SELECT DISTINCT ON expressions must match initial ORDER BY expressions')
  for (const o of order) {
    if (!('SortBy' in o) || !o.SortBy.node) continue
    const k = canon(o.SortBy.node)
    if (keys.has(k)) {
      if (skipped) throw mismatch()
      pending.delete(k)
    } else {
      skipped = true
    }
  }
  // DISTINCT ON items no ORDER BY item named are sorted after them, unless an ORDER BY item was passed over.
  if (skipped && pending.size > 0) throw mismatch()
}

/** ORDER BY item: an output position, an output column name, or an input expression. */
function sortKey(node: Node, outputs: ColumnBinding[], targets: Target[] | null, cctx: CompileCtx): SortKey {
  if (!('SortBy' in node)) throw new SqlError(SqlState.syntaxError, 'bad ORDER BY')
  const sb = node.SortBy
  const desc = sortDescending(sb)
  const nullsFirst = sortNullsFirst(sb, desc)
  const expr = sb.node!
  if ('A_Const' in expr && expr.A_Const.ival !== undefined) {
    const pos = expr.A_Const.ival.ival ?? 0
    if (pos < 1 || pos > outputs.length) throw new SqlError(SqlState.invalidColumnReference, `ORDER BY position ${pos} is not in select list`)
    assertOrderable(outputs[pos - 1]!.type)
    return { eval: (_e, out) => out[pos - 1]!, desc, nullsFirst }
  }
  if ('ColumnRef' in expr) {
    const names = nameList(expr.ColumnRef.fields)
    if (names.length === 1) {
      const i = outputs.findIndex((o) => o.name === names[0])
      if (i >= 0 && (targets === null || outputs.filter((o) => o.name === names[0]).length === 1)) {
        assertOrderable(outputs[i]!.type)
        return { eval: (_e, out) => out[i]!, desc, nullsFirst }
      }
      // Select-list items of that name that are different expressions, not all plain columns
      // (`id, (id)::numeric`): PostgreSQL cannot choose either (42702). Items from `*` and
      // columns (which may name one column two ways) are left to the rules below.
      if (i >= 0 && targets !== null) {
        const same = targets.filter((_t, j) => outputs[j]?.name === names[0])
        const prints = same.map((t) => (t.node ? fingerprint(t.node) : null))
        const columnsOnly = same.every((t) => t.node === null || 'ColumnRef' in t.node)
        if (!columnsOnly && !prints.includes(null) && prints.some((f) => f !== prints[0])) {
          throw new SqlError(SqlState.ambiguousColumn, `ORDER BY "${names[0]}" is ambiguous`)
        }
      }
    }
  }
  if (targets) {
    // An expression equal to a select-list item sorts by that output.
    const fp = fingerprint(expr)
    const i = targets.findIndex((t) => t.node && fingerprint(t.node) === fp)
    if (i >= 0) {
      assertOrderable(outputs[i]!.type)
      return { eval: (_e, out) => out[i]!, desc, nullsFirst }
    }
  }
  const c = compileExpr(expr, cctx)
  assertOrderable(c.type)
  const f = c.eval
  return { eval: (env) => f(env), desc, nullsFirst }
}

/** The order of ORDER BY keys; every comparison ticks the statement budget (a sort of n rows is n log n of them). */
function keyOrder(sorts: SortKey[], budget: StatementBudget): KeyOrder {
  return (a, b) => {
    budget.tick()
    for (let i = 0; i < sorts.length; i++) {
      const s = sorts[i]!
      const x = a[i]!
      const y = b[i]!
      if (x === null || y === null) {
        if (x === y) continue
        return (x === null) === s.nullsFirst ? -1 : 1
      }
      const c = compareValues(x, y)
      if (c !== 0) return s.desc ? -c : c
    }
    return 0
  }
}

/**
 * The position in the FROM's columns of the column an ORDER BY item names as it is (by
 * its output name or position, or as a column of the FROM), else null: an expression, a
 * USING operator, a column of an outer query.
 */
function sortsByColumn(item: Node, targets: ReadonlyArray<{ name: string; node: Node | null; star?: { index: number } }>, scope: Scope): number | null {
  if (!('SortBy' in item) || item.SortBy.sortby_dir === 'SORTBY_USING' || !item.SortBy.node) return null
  const node = item.SortBy.node
  const columnOf = (t: (typeof targets)[number] | undefined): number | null => {
    if (t === undefined) return null
    if (t.star) return t.star.index
    if (t.node === null || !('ColumnRef' in t.node)) return null
    const r = scope.resolve(nameList(t.node.ColumnRef.fields))
    return r !== null && r.depth === 0 ? r.index : null
  }
  if ('A_Const' in node) return node.A_Const.ival !== undefined ? columnOf(targets[(node.A_Const.ival.ival ?? 0) - 1]) : null
  if (!('ColumnRef' in node)) return null
  const names = nameList(node.ColumnRef.fields)
  // An output name first, as sortKey reads it (one select-list item of that name).
  const named = names.length === 1 ? targets.filter((t) => t.name === names[0]) : []
  if (named.length > 1) return null
  if (named.length === 1) return columnOf(named[0])
  const r = scope.resolve(names)
  return r !== null && r.depth === 0 ? r.index : null
}

/** Sorts in place (stable: rows that compare equal keep their order). */
function sortRows(keyed: Array<{ keys: RtValue[] }>, sorts: SortKey[], budget: StatementBudget): void {
  const order = keyOrder(sorts, budget)
  keyed.sort((a, b) => order(a.keys, b.keys))
}

function planQuery(stmt: SelectStmt, p: PlanCtx, parent: Scope | null, arm = false): Relation {
  if (stmt.intoClause) throw new SqlError(SqlState.featureNotSupported, 'SELECT INTO is not supported')
  const where = stmt.whereClause
  const from = planFrom(stmt.fromClause ?? [], p, parent, where)
  const scope = new Scope(from.columns, parent)
  const cctx = makeCompileCtx(p, scope)
  const wherePred = where ? compilePredicate(where, cctx, 'WHERE') : null
  if (where && hasAggregate(where, p)) throw new SqlError(SqlState.groupingError, 'aggregate functions are not allowed in WHERE')

  // Expand the select list.
  const rawTargets: Array<{ name: string; node: Node | null; star?: { index: number } }> = []
  for (const t of stmt.targetList ?? []) {
    if (!('ResTarget' in t)) continue
    const val = t.ResTarget.val!
    if ('ColumnRef' in val && (val.ColumnRef.fields ?? []).some((f) => 'A_Star' in f)) {
      const names = nameList(val.ColumnRef.fields).filter((n) => n !== '')
      const table = names.length ? names[names.length - 1]! : null
      let any = false
      // `t.*` lists t's columns in their own order (USING copies included); `*` follows the FROM's star order.
      const order = table === null && from.star ? from.star : from.columns.map((_c, i) => i)
      order.forEach((i) => {
        const c = from.columns[i]!
        if (c.hidden || (table === null && (c as ColumnBinding & { usingDup?: boolean }).usingDup)) return
        if (table !== null && c.table !== table) return
        any = true
        rawTargets.push({ name: c.name, node: null, star: { index: i } })
      })
      if (table !== null && !any && !from.columns.some((c) => c.table === table)) throw new SqlError(SqlState.undefinedTable, `missing FROM-clause entry for table "${table}"`)
      if (table === null && (stmt.fromClause ?? []).length === 0) throw new SqlError(SqlState.syntaxError, 'SELECT * with no tables specified is not valid')
      continue
    }
    rawTargets.push({ name: t.ResTarget.name ?? outputName(val), node: val })
  }

  const grouped = (stmt.groupClause?.length ?? 0) > 0 || !!stmt.havingClause || rawTargets.some((t) => t.node && hasAggregate(t.node, p)) || (stmt.sortClause ?? []).some((s) => 'SortBy' in s && hasAggregate(s.SortBy.node, p))
  let agg: AggCollector | null = null
  let groupExprs: Array<(env: Env) => RtValue> = []
  if (grouped) {
    agg = new AggCollector(scope)
    const groupNodes: Node[] = []
    for (const g of stmt.groupClause ?? []) {
      let node = g
      if ('A_Const' in g && g.A_Const.ival !== undefined) {
        const pos = g.A_Const.ival.ival ?? 0
        const t = rawTargets[pos - 1]
        if (!t) throw new SqlError(SqlState.invalidColumnReference, `GROUP BY position ${pos} is not in select list`)
        node = t.node ?? { ColumnRef: { fields: [{ String: { sval: from.columns[t.star!.index]!.table ?? '' } }, { String: { sval: t.name } }] } }
      } else if ('ColumnRef' in g) {
        const names = nameList(g.ColumnRef.fields)
        if (names.length === 1 && !scope.resolve(names)) {
          const t = rawTargets.find((x) => x.name === names[0] && x.node)
          if (t) node = t.node!
        }
      } else if ('GroupingSet' in g && g.GroupingSet.kind === 'GROUPING_SET_EMPTY') {
        continue
      } else if ('GroupingSet' in g) {
        throw new SqlError(SqlState.featureNotSupported, 'GROUPING SETS, ROLLUP and CUBE are not supported')
      }
      groupNodes.push(node)
      agg.groupFingerprints.add(fingerprint(node))
      if ('ColumnRef' in node) {
        const r = scope.resolve(nameList(node.ColumnRef.fields))
        if (r && r.depth === 0) {
          // Register the qualified and unqualified spellings of the same column.
          agg.groupFingerprints.add(fingerprint({ ColumnRef: { fields: [{ String: { sval: r.binding.name } }] } }))
          if (r.binding.table) agg.groupFingerprints.add(fingerprint({ ColumnRef: { fields: [{ String: { sval: r.binding.table } }, { String: { sval: r.binding.name } }] } }))
        }
      }
    }
    groupExprs = groupNodes.map((n) => compileExpr(n, { ...cctx, agg: null }).eval)
    // Functional dependency: grouping by a table's whole primary key groups its columns.
    for (const table of new Set(from.columns.map((c) => c.table).filter((t): t is string => !!t))) {
      const pk = from.primaryKeys.get(table)
      if (pk && pk.length && pk.every((c) => agg!.groupFingerprints.has(fingerprint({ ColumnRef: { fields: [{ String: { sval: table } }, { String: { sval: c } }] } })))) agg.groupedTables.add(table)
    }
  }
  const named = new Map<string, WindowDef>()
  for (const w of stmt.windowClause ?? []) {
    if (!('WindowDef' in w) || !w.WindowDef.name) continue
    if (named.has(w.WindowDef.name)) throw new SqlError(SqlState.windowingError, `window "${w.WindowDef.name}" is already defined`)
    named.set(w.WindowDef.name, w.WindowDef)
  }
  const win = new WindowCollector(named)
  const srf = new SrfCollector()
  const octx: CompileCtx = { ...cctx, agg, win, srf }
  const sctx: CompileCtx = { ...octx, srf: null }
  const targets: Target[] = rawTargets.map((t) => {
    if (t.star) {
      const idx = t.star.index
      const c = from.columns[idx]!
      if (agg && !(c.table && agg.groupedTables.has(c.table)) && !agg.groupFingerprints.has(fingerprint({ ColumnRef: { fields: [{ String: { sval: c.table ?? '' } }, { String: { sval: c.name } }] } }))) {
        throw new SqlError(SqlState.groupingError, `column "${c.table ? c.table + '.' : ''}${c.name}" must appear in the GROUP BY clause or be used in an aggregate function`)
      }
      return { name: t.name, node: null, compiled: { type: c.type, eval: (env: Env) => env.row[idx]! } }
    }
    return { name: t.name, node: t.node, compiled: compileExpr(t.node!, octx) }
  })
  const outputs: ColumnBinding[] = targets.map((t) => ({ name: t.name, table: null, type: t.compiled.type.id === 'unknown' && !arm ? T.text : t.compiled.type }))
  const having = stmt.havingClause ? compilePredicate(stmt.havingClause, { ...sctx, win: null }, 'HAVING') : null
  const sorts = (stmt.sortClause ?? []).map((s) => sortKey(s, outputs, targets, sctx))
  const outFns = targets.map((t) => t.compiled.eval)

  // DISTINCT ON (exprs) keeps the first row of each group in ORDER BY order.
  const distinctClause = stmt.distinctClause
  const distinctAll = !!distinctClause && distinctClause.length === 1 && Object.keys(distinctClause[0]!).length === 0
  const distinctOn = distinctClause && !distinctAll ? distinctClause.map((d) => sortKey({ SortBy: { node: d, sortby_dir: 'SORTBY_DEFAULT', sortby_nulls: 'SORTBY_NULLS_DEFAULT' } }, outputs, targets, sctx)) : null
  if (distinctClause && !distinctAll) checkDistinctOnOrder(distinctClause, stmt.sortClause ?? [], targets)
  const limit = limitOf(stmt, p, parent)
  const slots = agg?.slots ?? []
  const budget = p.exec.budget
  // A plain filter-and-project under LIMIT reads a lazy input (a table's scan, a WITH
  // RECURSIVE) only as far as it needs: an unbounded WITH RECURSIVE ends here, and a
  // table's other rows are neither decoded nor projected, as in PostgreSQL.
  const bounds = limitBoundsOf(stmt, p, parent)
  const stream = from.stream
  const lazy = !!bounds && !!stream && !agg && win.slots.length === 0 && srf.empty && sorts.length === 0 && !distinctClause
  // ORDER BY .. LIMIT k over a plain filter-and-project (or groups): every row is read
  // and projected, as before, but only the first k in sort order are held (top-n.ts).
  const topN = !!bounds && sorts.length > 0 && win.slots.length === 0 && srf.empty && !distinctClause && stmt.limitOption !== 'LIMIT_OPTION_WITH_TIES'
  // ORDER BY the table's single-column key alone: its rows walked in key order, stopping
  // once LIMIT has them (the key's values never repeat, so no later row sorts before).
  const walk = topN && !agg && from.ordered !== undefined && sorts.length === 1 && sortsByColumn(stmt.sortClause![0]!, rawTargets, scope) === from.ordered.column ? from.ordered : null
  const keyedWidth = outFns.length + sorts.length + 3
  /** Projects a row and offers it to the heap; the statement holds the rows the heap grows by. */
  const offerTop = (env: Env, into: TopN<RtValue[]>): void => {
    budget.tick()
    const out = outFns.map((f) => f(env))
    const keys = sorts.map((s) => s.eval(env, out))
    const held = into.size
    if (into.offer(out, keys) && into.size > held) budget.hold(1, keyedWidth)
  }

  return {
    columns: outputs,
    rows: (outer) => {
      if (lazy) {
        const { off, count } = bounds(outer)
        const out: RtValue[][] = []
        if (count === 0) return out
        let skip = off
        for (const row of stream(outer)) {
          budget.tick()
          const env: Env = { row, outer }
          if (wherePred && !wherePred(env)) continue
          // Rows OFFSET skips are projected too, as PostgreSQL's Limit reads them from its projection.
          const projected = outFns.map((f) => f(env))
          if (skip > 0) {
            skip--
            continue
          }
          budget.hold(1, outFns.length)
          out.push(projected)
          if (count !== null && out.length >= count) break
        }
        return out
      }
      // LIMIT's bounds, once, before any row (as PostgreSQL's Limit computes them first).
      const limits = topN ? bounds(outer) : null
      const keep = limits !== null && limits.count !== null && limits.off + limits.count <= TOP_N_MAX ? limits.off + limits.count : null
      const top = keep === null ? null : new TopN<RtValue[]>(keep, keyOrder(sorts, budget))
      if (top !== null && walk !== null) {
        const inOrder = walk.rows(outer, sorts[0]!.desc)
        if (inOrder !== null) {
          for (const row of inOrder) {
            if (top.size >= keep!) break
            budget.tick()
            const env: Env = { row, outer }
            if (wherePred && !wherePred(env)) continue
            offerTop(env, top)
          }
          return top.sorted().slice(limits!.off)
        }
      }
      const envs: Env[] = []
      if (!agg && top === null && !from.each) {
        // A point read's path (one row, or a few): no closure per execution.
        for (const row of from.rows(outer)) {
          budget.tick()
          const env: Env = { row, outer }
          if (wherePred && !wherePred(env)) continue
          budget.hold(1, 2)
          envs.push(env)
        }
      } else if (!agg) {
        // Rows one at a time where the relation can (a table's scan): those WHERE drops are
        // never all held at once.
        const visitRow = (row: RtValue[]): void => {
          budget.tick()
          const env: Env = { row, outer }
          if (wherePred && !wherePred(env)) return
          if (top !== null) return offerTop(env, top)
          budget.hold(1, 2)
          envs.push(env)
        }
        if (from.each) from.each(outer, visitRow)
        else for (const row of from.rows(outer)) visitRow(row)
      } else {
        type Buffered = Array<{ vals: RtValue[]; keys: RtValue[] }>
        type Group = { rep: RtValue[]; states: AggState[]; seen: Array<Set<string> | null>; buffers: Array<Buffered | null> }
        // Groups by a key string (groupKey), except a single grouping value that is a
        // number, string or boolean: a Map keys those by SameValueZero, which groups as
        // groupKey does (0 with -0, NaN with NaN), without building a string per row.
        const groups = new Map<string, Group>()
        const byValue = new Map<RtValue, Group>()
        const order: Group[] = []
        const single = groupExprs.length === 1 ? groupExprs[0]! : null
        const argFns = slots.map((s) => s.args.map((a) => a.eval))
        const countsNulls = slots.map((s) => s.name === 'count')
        // An aggregate's arguments are read into one array per slot, reused row after row,
        // unless the slot keeps them (ORDER BY inside the call buffers them). Steps read
        // their arguments and keep none of the arrays (functions/aggregate.ts).
        const scratch = slots.map((s, i) => (s.order.length ? null : new Array<RtValue>(argFns[i]!.length)))
        const visit = (row: RtValue[]): void => {
          budget.tick()
          // A fresh environment per row: subqueries memoize per outer environment (with-clause.ts).
          const env: Env = { row, outer }
          if (wherePred && !wherePred(env)) return
          let g: Group | undefined
          let key: string | null = null
          let value: RtValue = null
          if (single !== null) {
            value = single(env)
            const t = typeof value
            if (t === 'number' || t === 'string' || t === 'boolean') g = byValue.get(value)
            else g = groups.get((key = groupKey(value)))
          } else {
            g = groups.get((key = groupExprs.length ? rowKey(groupExprs.map((f) => f(env))) : ''))
          }
          if (!g) {
            budget.hold(1, 4 + 3 * slots.length)
            g = { rep: row, states: slots.map(() => ({ acc: null, n: 0 })), seen: slots.map((s) => (s.distinct ? new Set<string>() : null)), buffers: slots.map((s) => (s.order.length ? [] : null)) }
            if (key === null) byValue.set(value, g)
            else groups.set(key, g)
            order.push(g)
          }
          for (let i = 0; i < slots.length; i++) {
            const s = slots[i]!
            if (s.filter && s.filter.eval(env) !== true) continue
            const fns = argFns[i]!
            const vals = scratch[i] ?? new Array<RtValue>(fns.length)
            let nulls = false
            for (let a = 0; a < fns.length; a++) if ((vals[a] = fns[a]!(env)) === null) nulls = true
            if (!s.seesNulls && vals.length > 0 && vals[0] === null) continue
            if (nulls && countsNulls[i]) continue
            if (s.distinct) {
              const k = rowKey(vals)
              if (g.seen[i]!.has(k)) continue
              g.seen[i]!.add(k)
            }
            const buf = g.buffers[i]
            if (buf) {
              budget.hold(1, vals.length + s.order.length + 2)
              buf.push({ vals, keys: s.order.map((o) => o.key.eval(env)) })
            } else s.impl.step(g.states[i]!, vals)
          }
        }
        if (from.each) from.each(outer, visit)
        else for (const row of from.rows(outer)) visit(row)
        for (const g of order) {
          g.buffers.forEach((buf, i) => {
            if (!buf) return
            const s = slots[i]!
            sortRows(buf, s.order.map((o) => ({ eval: () => null, desc: o.desc, nullsFirst: o.nullsFirst })), budget)
            for (const b of buf) {
              budget.tick()
              s.impl.step(g.states[i]!, b.vals)
            }
          })
        }
        if (order.length === 0 && groupExprs.length === 0) order.push({ rep: from.columns.map(() => null), states: slots.map(() => ({ acc: null, n: 0 })), seen: [], buffers: [] })
        for (const g of order) {
          const env: Env = { row: g.rep, outer, aggs: slots.map((s, i) => s.impl.final(g.states[i]!)) }
          if (having && !having(env)) continue
          envs.push(env)
        }
      }
      if (top !== null) {
        for (const env of envs) offerTop(env, top)
        return top.sorted().slice(limits!.off)
      }
      if (win.slots.length) computeWindows(envs, win.slots, budget)
      const projected = srf.empty ? envs : srf.expand(envs, budget)
      let keyed = projected.map((env) => {
        budget.tick()
        budget.hold(1, keyedWidth)
        const out = outFns.map((f) => f(env))
        return { out, keys: sorts.map((s) => s.eval(env, out)), env }
      })
      if (sorts.length) sortRows(keyed, sorts, budget)
      if (distinctAll) {
        const seen = new Set<string>()
        keyed = keyed.filter((k) => {
          const key = rowKey(k.out)
          if (seen.has(key)) return false
          seen.add(key)
          return true
        })
      } else if (distinctOn) {
        const seen = new Set<string>()
        keyed = keyed.filter((k) => {
          const key = distinctOn.map((d) => groupKey(d.eval(k.env, k.out))).join('\u0000')
          if (seen.has(key)) return false
          seen.add(key)
          return true
        })
      }
      const rows = keyed.map((k) => k.out)
      // Bounds read already (a LIMIT too large to keep in a heap, or NULL): not read again.
      if (limits !== null) return limits.count === null ? rows.slice(limits.off) : rows.slice(limits.off, limits.off + limits.count)
      return limit ? limit(rows, outer, (i) => keyed[i]!.keys) : rows
    },
  }
}
