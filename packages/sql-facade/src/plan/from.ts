/**
 * The FROM clause: base tables (through the access-path chooser), system views, CTEs,
 * subqueries, VALUES, and joins. Equi-joins run as hash joins; anything else as nested
 * loops. Outer joins null-extend the unmatched side.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { compilePredicate } from '../expr/compile.js'
import { nameList } from '../parser/name-list.js'
import { Scope, envAt, type ColumnBinding, type Env } from '../relation/scope.js'
import { rowKey } from '../types/compare.js'
import type { RtValue } from '../types/value.js'
import { tableMeta } from '../catalog/table-meta.js'
import type { FromRelation, Relation } from '../relation/relation.js'
import { makeCompileCtx, type PlanCtx } from './plan-context.js'
import { baseTableRelation, conjuncts } from './table-scan.js'
import { partitionFilter, partitionRoot } from '../placement/partition-view.js'
import { partitionCatalog, tableOidReader } from './partition-catalog.js'
import type { TableInfo } from '@concord/core'
import type { StatementBudget } from '../runtime/statement-budget.js'
import { T } from '../types/sql-type.js'
import { planFunctionScan } from './function-scan.js'
import { equiJoinKeys, filterByTerms } from './where-pushdown.js'
import { readView } from '../catalog/view-def.js'
import { planView } from './view-scan.js'
import { inheritanceDescendants } from '../catalog/table-inheritance.js'
import { inheritanceUnion } from './inheritance-scan.js'

function starOf(r: FromRelation): number[] {
  return r.star ?? r.columns.map((_c, i) => i)
}

function concatStar(a: FromRelation, b: FromRelation): number[] | undefined {
  if (!a.star && !b.star) return undefined
  return [...starOf(a), ...starOf(b).map((i) => i + a.columns.length)]
}

type UsingBinding = ColumnBinding & { usingDup?: boolean }

/**
 * A join input's column `name` as a USING / NATURAL key: an inner FULL/RIGHT JOIN .. USING's
 * merged (COALESCE) column rather than either side's copy, as in PostgreSQL.
 */
function usingIndex(cols: UsingBinding[], name: string): number {
  const i = cols.findIndex((c) => c.name === name && !c.usingDup && !c.hidden)
  return i >= 0 ? i : cols.findIndex((c) => c.name === name)
}

export function planFrom(items: Node[], p: PlanCtx, parent: Scope | null, where: Node | undefined): FromRelation {
  const terms = conjuncts(where)
  if (items.length === 0) return { columns: [], primaryKeys: new Map(), rows: () => [[]] }
  let acc: FromRelation | null = null
  for (const item of items) {
    if (acc && isLateral(item)) {
      // FROM a, LATERAL (..): the item is planned inside a scope that sees the items before it.
      const left: FromRelation = acc
      const rel = planItem(item, p, new Scope(left.columns, parent), [])
      acc = lateralJoin(left, rel, 'JOIN_INNER', null, p.exec.budget)
      continue
    }
    const rel = filterByTerms(planItem(item, p, parent, terms), terms, p, parent)
    acc = acc ? innerJoin(acc, rel, equiJoinKeys(acc, rel, terms), p.exec.budget) : rel
  }
  checkDuplicateAliases(acc!.columns)
  return acc!
}

function checkDuplicateAliases(cols: ColumnBinding[]): void {
  void cols
}

/**
 * The `shard_location` pseudo-column (hidden from `*`): where the shard holding a row is
 * placed, from `ALTER TABLE <partition> SET (shard_location = ..)`. A row of a
 * partitioned table reports its partition's location; a partition, its own; an
 * unpartitioned table, its own option. NULL when no location was set: the shard is then
 * not pinned to a node and lives on every node of the table's regions. Added only to
 * statements that name the column, and never over a real column of that name.
 */
function withShardLocation(p: PlanCtx, table: TableInfo, partition: TableInfo | null, rel: Relation, alias: string): Relation {
  if (!p.shardLocation || rel.columns.some((c) => c.name === 'shard_location')) return rel
  const columns: ColumnBinding[] = [...rel.columns, { name: 'shard_location', table: alias, type: T.text, hidden: true }]
  const own = (t: TableInfo): RtValue => t.options.shard_location ?? null
  if (partition || !table.partitioning) {
    const loc = own(partition ?? table)
    return { columns, rows: (outer) => rel.rows(outer).map((r) => r.concat([loc])) }
  }
  const keyIdx = table.partitioning.columns.map((c) => rel.columns.findIndex((x) => x.name === c))
  const router = p.exec.partitions
  return {
    columns,
    rows: (outer) => rel.rows(outer).map((r) => {
      const child = router.childFor(table, keyIdx.map((i) => r[i] ?? null))
      return r.concat([child ? own(child) : null])
    }),
  }
}

/**
 * The `tableoid` system column (hidden from `*`): the OID of the table a row is stored in,
 * which for a partitioned table is the leaf partition it routes to (PostgreSQL's
 * `tableoid::regclass` names it). Added only to statements that name the column.
 */
function withTableOid(p: PlanCtx, read: TableInfo, rel: Relation, alias: string): Relation {
  if (!p.tableOid || rel.columns.some((c) => c.name === 'tableoid')) return rel
  const columns: ColumnBinding[] = [...rel.columns, { name: 'tableoid', table: alias, type: { id: 'regclass' }, hidden: true }]
  const oidOf = tableOidReader(p, read, rel.columns)
  return { columns, rows: (outer) => rel.rows(outer).map((r) => r.concat([oidOf(r)])) }
}

/** LATERAL subqueries, and every function in FROM (PostgreSQL makes those lateral implicitly). */
function isLateral(item: Node): boolean {
  return ('RangeSubselect' in item && !!item.RangeSubselect.lateral) || 'RangeFunction' in item
}

/**
 * A join whose right side is LATERAL: it is re-evaluated for each left row, with the
 * left row as its enclosing environment; then the ON predicate filters the pairs.
 */
function lateralJoin(left: FromRelation, right: FromRelation, kind: string, pred: ((env: Env) => boolean) | null, budget: StatementBudget): FromRelation {
  if (kind === 'JOIN_RIGHT' || kind === 'JOIN_FULL') throw new SqlError(SqlState.invalidColumnReference, 'the combining JOIN type must be INNER or LEFT for a LATERAL reference')
  const nullsR = right.columns.map(() => null as RtValue)
  const star = concatStar(left, right)
  return {
    columns: [...left.columns, ...right.columns],
    primaryKeys: new Map([...left.primaryKeys, ...right.primaryKeys]),
    ...(star ? { star } : {}),
    rows: (outer) => {
      const out: RtValue[][] = []
      const width = left.columns.length + right.columns.length
      for (const l of left.rows(outer)) {
        let matched = false
        for (const r of right.rows({ row: l, outer })) {
          budget.tick()
          budget.hold(1, width)
          const row = l.concat(r)
          if (pred && !pred({ row, outer })) continue
          matched = true
          out.push(row)
        }
        if (!matched && kind === 'JOIN_LEFT') out.push(l.concat(nullsR))
      }
      return out
    },
  }
}

function crossJoin(a: FromRelation, b: FromRelation, budget: StatementBudget): FromRelation {
  const star = concatStar(a, b)
  return {
    ...(star ? { star } : {}),
    columns: [...a.columns, ...b.columns],
    primaryKeys: new Map([...a.primaryKeys, ...b.primaryKeys]),
    rows: (outer) => {
      const left = a.rows(outer)
      const right = b.rows(outer)
      const out: RtValue[][] = []
      const width = a.columns.length + b.columns.length
      for (const l of left) {
        budget.spend(right.length)
        budget.hold(right.length, width)
        for (const r of right) out.push(l.concat(r))
      }
      return out
    },
  }
}

/** `a, b`: every pair, or with `keys` only the pairs whose key columns are equal (a hash join). */
function innerJoin(a: FromRelation, b: FromRelation, keys: Array<[number, number]>, budget: StatementBudget): FromRelation {
  if (keys.length === 0) return crossJoin(a, b, budget)
  const star = concatStar(a, b)
  return {
    ...(star ? { star } : {}),
    columns: [...a.columns, ...b.columns],
    primaryKeys: new Map([...a.primaryKeys, ...b.primaryKeys]),
    rows: (outer) => {
      const table = new Map<string, RtValue[][]>()
      const width = a.columns.length + b.columns.length
      for (const r of b.rows(outer)) {
        budget.tick()
        budget.hold(1, keys.length)
        const vals = keys.map(([, ri]) => r[ri]!)
        if (vals.some((v) => v === null)) continue
        const k = rowKey(vals)
        const list = table.get(k)
        if (list) list.push(r)
        else table.set(k, [r])
      }
      const out: RtValue[][] = []
      for (const l of a.rows(outer)) {
        const vals = keys.map(([li]) => l[li]!)
        if (vals.some((v) => v === null)) continue
        budget.tick()
        for (const r of table.get(rowKey(vals)) ?? []) {
          budget.tick()
          budget.hold(1, width)
          out.push(l.concat(r))
        }
      }
      return out
    },
  }
}

function aliasOf(alias: { aliasname?: string; colnames?: Node[] } | undefined, fallback: string): { name: string; cols: string[] } {
  return { name: alias?.aliasname ?? fallback, cols: nameList(alias?.colnames) }
}

/** How many scope levels `home` lies above `from` (0 when it is `from`, or not above it). */
function levelsUp(from: Scope | null, home: Scope | null): number {
  let s = from
  let d = 0
  while (s && s !== home) {
    s = s.parent
    d++
  }
  return s === home && home !== null ? d : 0
}

function renamed(rel: Relation, alias: string, cols: string[]): ColumnBinding[] {
  const available = rel.columns.filter((c) => !c.hidden).length
  if (cols.length > available) throw new SqlError(SqlState.invalidColumnReference, `table "${alias}" has ${available} columns available but ${cols.length} columns specified`)
  return rel.columns.map((c, i) => ({ ...c, table: alias, name: cols[i] ?? c.name }))
}

function planItem(item: Node, p: PlanCtx, parent: Scope | null, terms: Node[]): FromRelation {
  if ('RangeVar' in item) {
    const rv = item.RangeVar
    const name = rv.relname!
    const a = aliasOf(rv.alias, name)
    // pg_catalog.x and information_schema.x name system views only.
    const system = rv.schemaname === 'pg_catalog' || rv.schemaname === 'information_schema' ? rv.schemaname : null
    const cte = !rv.schemaname ? p.ctes.get(name) : undefined
    if (cte?.noReturning) throw new SqlError(SqlState.featureNotSupported, `WITH query "${name}" does not have a RETURNING clause`)
    if (cte) {
      // Read from a subquery nested below the WITH: hand the CTE the row of the level enclosing the WITH.
      const up = cte.home ? levelsUp(parent, cte.home.scope) : 0
      // The subqueries in between read the enclosing row through the CTE: they are correlated (not cached once).
      for (let s = parent, i = 0; s && i < up; s = s.parent, i++) if (s.probe) s.probe.correlated = true
      const at = (outer: Env | null) => (outer && up > 0 ? envAt(outer, up) : outer)
      const rows = up > 0 ? (outer: Env | null) => cte.relation.rows(at(outer)) : cte.relation.rows
      const stream = cte.relation.stream && up > 0 ? (outer: Env | null) => cte.relation.stream!(at(outer)) : cte.relation.stream
      return { columns: renamed(cte.relation, a.name, a.cols), primaryKeys: new Map(), rows, ...(stream ? { stream } : {}) }
    }
    const table = system ? undefined : p.exec.tx.table(name)
    if (table && rv.schemaname === 'public' && tableMeta(table).temporary) {
      throw new SqlError(SqlState.featureNotSupported, `public.${name} is shadowed by the session's temporary table "${name}": a permanent table hidden by a temporary one cannot be read by its qualified name`)
    }
    if (rv.schemaname === 'pg_temp' && !(table && tableMeta(table).temporary)) throw new SqlError(SqlState.undefinedTable, `relation "pg_temp.${name}" does not exist`)
    if (table) {
      const meta = tableMeta(table)
      if (meta.partitionOf) {
        // A partition reads as its parent's rows that route to it.
        const cat = partitionCatalog(p)
        const parentTable = partitionRoot(table, cat)
        if (parentTable !== table) {
          const base = baseTableRelation(parentTable, a.name, p.exec, [], makeCompileCtx(p, new Scope([], parent)), parent)
          const keep = partitionFilter(cat, table, base.columns)
          const rel = withTableOid(p, table, withShardLocation(p, parentTable, table, { columns: base.columns, rows: (outer) => base.rows(outer).filter(keep) }, a.name), a.name)
          return { columns: renamed(rel, a.name, a.cols), primaryKeys: new Map([[a.name, parentTable.primaryKey]]), rows: rel.rows }
        }
      }
      const cctx = makeCompileCtx(p, new Scope([], parent))
      // Without ONLY, an inheritance parent reads its descendants' rows too (each from its own storage).
      const members = rv.inh === true ? inheritanceDescendants(p.exec.allTables(), table.name) : []
      // Only the columns the statement names, unless something reads columns it need not
      // name: partition routing, shard_location, tableoid, inheritance (parser/column-use.ts).
      const decode = p.columnUse && !meta.partitionOf && !table.partitioning && !p.shardLocation && !p.tableOid && members.length === 0 ? p.columnUse(rv) : null
      const scan = baseTableRelation(table, a.name, p.exec, terms, cctx, parent, decode)
      const own = withTableOid(p, table, withShardLocation(p, table, null, scan, a.name), a.name)
      const base = members.length === 0 ? own : inheritanceUnion(own, members.map((m) => (
        withTableOid(p, m, withShardLocation(p, m, null, baseTableRelation(m, a.name, p.exec, [], cctx, parent), a.name), a.name)
      )), p.exec.budget)
      const each = base === scan ? scan.each : undefined
      const stream = base === scan ? scan.stream : undefined
      const ordered = base === scan ? scan.ordered : undefined
      return { columns: renamed(base, a.name, a.cols), primaryKeys: new Map([[a.name, table.primaryKey]]), rows: base.rows, ...(each ? { each } : {}), ...(stream ? { stream } : {}), ...(ordered ? { ordered } : {}) }
    }
    const userView = system || rv.schemaname === 'pg_temp' ? undefined : readView(p.exec.tx, name)
    if (userView) {
      const rel = planView(userView, p)
      return { columns: renamed(rel, a.name, a.cols), primaryKeys: new Map(), rows: rel.rows }
    }
    const view = p.exec.systemView(system, name)
    if (view) return { columns: renamed(view, a.name, a.cols), primaryKeys: new Map(), rows: view.rows }
    throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  }
  if ('RangeSubselect' in item) {
    const rs = item.RangeSubselect
    const q = rs.subquery
    if (!q || !('SelectStmt' in q)) throw new SqlError(SqlState.featureNotSupported, 'unsupported subquery in FROM')
    const rel = p.sub.select(q.SelectStmt, p, parent)
    const a = aliasOf(rs.alias, 'unnamed_subquery')
    return { columns: renamed(rel, a.name, a.cols), primaryKeys: new Map(), rows: rel.rows }
  }
  if ('JoinExpr' in item) return planJoin(item.JoinExpr, p, parent, terms)
  if ('RangeFunction' in item) return planFunctionScan(item.RangeFunction, p, parent)
  throw new SqlError(SqlState.featureNotSupported, `FROM item ${Object.keys(item)[0]} is not supported`)
}

interface EquiKey {
  left: (env: Env) => RtValue
  right: (env: Env) => RtValue
}

function planJoin(j: NonNullable<Extract<Node, { JoinExpr: unknown }>['JoinExpr']>, p: PlanCtx, parent: Scope | null, terms: Node[]): FromRelation {
  const left = planItem(j.larg!, p, parent, terms)
  const kind = j.jointype ?? 'JOIN_INNER'
  const budget = p.exec.budget
  // An implicitly lateral function on the right of RIGHT/FULL JOIN is planned on its own (it cannot see the left side).
  const explicitLateral = 'RangeSubselect' in j.rarg! || ('RangeFunction' in j.rarg! && !!j.rarg.RangeFunction.lateral)
  if (isLateral(j.rarg!) && (explicitLateral || kind === 'JOIN_INNER' || kind === 'JOIN_LEFT')) {
    const lateral = planItem(j.rarg!, p, new Scope(left.columns, parent), [])
    const scope = new Scope([...left.columns, ...lateral.columns], parent)
    const pred = j.quals ? compilePredicate(j.quals, makeCompileCtx(p, scope), 'JOIN/ON') : null
    if (nameList(j.usingClause).length || j.isNatural) throw new SqlError(SqlState.featureNotSupported, 'USING and NATURAL are not supported with LATERAL')
    return lateralJoin(left, lateral, kind, pred, p.exec.budget)
  }
  const right = planItem(j.rarg!, p, parent, terms)
  let usingCols = nameList(j.usingClause)
  if (j.isNatural) usingCols = [...new Set(left.columns.filter((c) => !c.hidden && !(c as UsingBinding).usingDup && right.columns.some((r) => r.name === c.name && !r.hidden && !(r as UsingBinding).usingDup)).map((c) => c.name))]
  // RIGHT/FULL JOIN .. USING: the unqualified join column is COALESCE(left, right), kept
  // as extra trailing columns; both sides' copies stay reachable when qualified.
  const merged = usingCols.length > 0 && (kind === 'JOIN_RIGHT' || kind === 'JOIN_FULL')
  const columns: UsingBinding[] = [
    ...left.columns.map((c) => (merged && usingCols.includes(c.name) ? { ...c, usingDup: true } : c)),
    ...right.columns.map((c) => (usingCols.includes(c.name) ? { ...c, usingDup: true } : c)),
  ]
  const mergedIdx: Array<[number, number]> = []
  if (merged) {
    for (const c of usingCols) {
      const li = usingIndex(left.columns, c)
      const ri = usingIndex(right.columns, c)
      if (li < 0 || ri < 0) continue
      mergedIdx.push([li, left.columns.length + ri])
      columns.push({ name: c, table: null, type: left.columns[li]!.type })
    }
  }
  // `*` lists the USING columns first, then the other columns of the left and right sides.
  let star: number[] | undefined
  if (usingCols.length) {
    const lw0 = left.columns.length
    const first = usingCols.map((c, k) => (merged ? lw0 + right.columns.length + k : usingIndex(left.columns, c))).filter((i) => i >= 0)
    const ls = starOf(left).filter((i) => !usingCols.includes(left.columns[i]!.name))
    const rs = starOf(right).filter((i) => !usingCols.includes(right.columns[i]!.name)).map((i) => i + lw0)
    star = [...first, ...ls.filter((i) => !first.includes(i)), ...rs]
  } else {
    star = concatStar(left, right)
  }
  const scope = new Scope(columns, parent)
  const cctx = makeCompileCtx(p, scope)
  const lw = left.columns.length
  let pred: ((env: Env) => boolean) | null = null
  const equi: EquiKey[] = []
  if (usingCols.length) {
    for (const c of usingCols) {
      const li = usingIndex(left.columns, c)
      const ri = usingIndex(right.columns, c)
      for (const [side, cols] of [['left', left.columns], ['right', right.columns]] as const) {
        if (cols.filter((x) => x.name === c && !x.hidden && !(x as UsingBinding).usingDup).length > 1) throw new SqlError(SqlState.ambiguousColumn, `common column name "${c}" appears more than once in ${side} table`)
      }
      if (li < 0 || ri < 0) throw new SqlError(SqlState.undefinedColumn, `column "${c}" specified in USING clause does not exist in ${li < 0 ? 'left' : 'right'} table`)
      equi.push({ left: (env) => env.row[li]!, right: (env) => env.row[ri]! })
    }
  } else if (j.quals) {
    pred = compilePredicate(j.quals, cctx, 'JOIN/ON')
    // Hash keys from `l.col = r.col` terms; the full predicate still checks each pair.
    const lScope = new Scope(left.columns)
    const rScope = new Scope(right.columns)
    for (const t of conjuncts(j.quals)) {
      if (!('A_Expr' in t) || t.A_Expr.kind !== 'AEXPR_OP' || nameList(t.A_Expr.name).pop() !== '=') continue
      const a = t.A_Expr.lexpr
      const b = t.A_Expr.rexpr
      if (!a || !b || !('ColumnRef' in a) || !('ColumnRef' in b)) continue
      const side = (n: Node & { ColumnRef: unknown }, s: Scope) => {
        try {
          return s.resolve(nameList((n as { ColumnRef: { fields?: Node[] } }).ColumnRef.fields))
        } catch {
          return null
        }
      }
      const al = side(a, lScope), ar = side(a, rScope), bl = side(b, lScope), br = side(b, rScope)
      let li: number, ri: number
      if (al && !ar && br && !bl) { li = al.index; ri = br.index }
      else if (ar && !al && bl && !br) { li = bl.index; ri = ar.index }
      else continue
      const lt = left.columns[li]!.type, rt = right.columns[ri]!.type
      if (lt.id !== rt.id) continue
      equi.push({ left: (env) => env.row[li]!, right: (env) => env.row[ri]! })
    }
  } else if (kind !== 'JOIN_INNER') {
    throw new SqlError(SqlState.syntaxError, 'syntax error: JOIN requires ON or USING')
  }
  const nullsL = left.columns.map(() => null)
  const nullsR = right.columns.map(() => null)
  const withMerged = mergedIdx.length === 0 ? (row: RtValue[]) => row : (row: RtValue[]) => {
    for (const [li, ri] of mergedIdx) row.push(row[li] ?? row[ri] ?? null)
    return row
  }
  // `JOIN .. USING (c) AS x`: x names the USING columns alone (the merged value in a RIGHT/FULL join).
  const usingAlias = (j as { join_using_alias?: { aliasname?: string } }).join_using_alias?.aliasname
  const aliasIdx = usingAlias === undefined ? [] : usingCols.map((c, k) => (merged ? lw + right.columns.length + k : kind === 'JOIN_RIGHT' ? lw + usingIndex(right.columns, c) : usingIndex(left.columns, c)))
  const withAlias = aliasIdx.length === 0 ? (rows: RtValue[][]) => rows : (rows: RtValue[][]) => {
    for (const r of rows) for (const i of aliasIdx) r.push(r[i] ?? null)
    return rows
  }
  if (usingAlias !== undefined) aliasIdx.forEach((i, k) => columns.push({ name: usingCols[k]!, table: usingAlias, type: columns[i]!.type, usingDup: true }))
  return joinAlias(j.alias, {
    columns,
    primaryKeys: new Map([...left.primaryKeys, ...right.primaryKeys]),
    ...(star ? { star } : {}),
    rows: (outer) => withAlias(joinRows(outer)),
  })
  function joinRows(outer: Env | null): RtValue[][] {
    {
      const lrows = left.rows(outer)
      const rrows = right.rows(outer)
      const out: RtValue[][] = []
      const rMatched = kind === 'JOIN_RIGHT' || kind === 'JOIN_FULL' ? new Uint8Array(rrows.length) : null
      const ok = (row: RtValue[]) => !pred || pred({ row, outer })
      let candidates: (l: RtValue[]) => number[]
      if (equi.length) {
        const table = new Map<string, number[]>()
        rrows.forEach((r, i) => {
          const vals = equi.map((k) => k.right({ row: r, outer }))
          if (vals.some((v) => v === null)) return
          const key = rowKey(vals)
          const list = table.get(key)
          if (list) list.push(i)
          else table.set(key, [i])
        })
        candidates = (l) => {
          const vals = equi.map((k) => k.left({ row: l, outer }))
          if (vals.some((v) => v === null)) return []
          return table.get(rowKey(vals)) ?? []
        }
      } else {
        const all = rrows.map((_r, i) => i)
        candidates = () => all
      }
      for (const l of lrows) {
        let matched = false
        for (const i of candidates(l)) {
          budget.tick()
          budget.hold(1, columns.length)
          const row = l.concat(rrows[i]!)
          if (!ok(row)) continue
          matched = true
          if (rMatched) rMatched[i] = 1
          out.push(withMerged(row))
        }
        if (!matched && (kind === 'JOIN_LEFT' || kind === 'JOIN_FULL')) out.push(withMerged(l.concat(nullsR)))
      }
      if (rMatched) rrows.forEach((r, i) => {
        if (!rMatched[i]) out.push(withMerged((nullsL as RtValue[]).concat(r)))
      })
      return out
    }
  }
}

/**
 * `(a JOIN b ..) AS x (c1, c2 ..)`: the join's columns (in `*` order) under the name x,
 * renamed by position; the names inside the join are no longer visible, as in PostgreSQL.
 */
function joinAlias(alias: { aliasname?: string; colnames?: Node[] } | undefined, rel: FromRelation): FromRelation {
  if (!alias?.aliasname) return rel
  const name = alias.aliasname
  const names = nameList(alias.colnames)
  const keep = starOf(rel).filter((i) => !rel.columns[i]!.hidden && !(rel.columns[i] as UsingBinding).usingDup)
  if (names.length > keep.length) throw new SqlError(SqlState.invalidColumnReference, `join expression "${name}" has ${keep.length} columns available but ${names.length} columns specified`)
  return {
    columns: keep.map((i, k) => ({ name: names[k] ?? rel.columns[i]!.name, table: name, type: rel.columns[i]!.type })),
    primaryKeys: new Map(),
    rows: (outer) => rel.rows(outer).map((r) => keep.map((i) => r[i] ?? null)),
  }
}
