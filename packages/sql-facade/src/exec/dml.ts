/**
 * INSERT (VALUES, SELECT, DEFAULT VALUES, ON CONFLICT, RETURNING), UPDATE and DELETE.
 * Each runs inside the caller's core transaction, so a failing row leaves nothing behind.
 */
import type { TableInfo } from '@concord/core'
import type { DeleteStmt, InsertStmt, Node, UpdateStmt } from 'libpg-query'
import { tableMeta } from '../catalog/table-meta.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { compileArrayAssignment, type ArrayAssign } from '../expr/array-assignment.js'
import { coerce, valueConversion } from '../expr/coerce.js'
import type { Compiled } from '../expr/compiled.js'
import { compileExpr, compilePredicate, readConst } from '../expr/compile.js'
import type { CompileCtx } from '../expr/compile-context.js'
import { nameList } from '../parser/name-list.js'
import { incrementOf } from './counter-increment.js'
import { Scope, type ColumnBinding, type Env } from '../relation/scope.js'
import { planFrom } from '../plan/from.js'
import { readView } from '../catalog/view-def.js'
import { planSelect } from '../plan/select.js'
import { makeCompileCtx, type PlanCtx } from '../plan/plan-context.js'
import { groupKey, rowKey } from '../types/compare.js'
import { T, type SqlType } from '../types/sql-type.js'
import { decodeValue } from '../types/storage-codec.js'
import type { RtValue } from '../types/value.js'
import type { StatementResult } from '../runtime/result.js'
import { TableWriter, type GivenRow } from './table-writer.js'
import { partitionRoot } from '../placement/partition-view.js'
import { partitionCatalog, tableOidReader } from '../plan/partition-catalog.js'
import { inheritanceDescendants } from '../catalog/table-inheritance.js'
import { objectOid } from '../catalog/catalog-model.js'
import { StatementTriggers } from './triggers.js'
import { cacheableSetList } from '../plan/plan-cache.js'
import { collectTargetKey, type TargetRows } from '../runtime/target-rows.js'
import { collectInsertRows, suppliedInsertRows, type InsertSource } from '../runtime/insert-source.js'
import { deleteThroughView, insertThroughView, throughViews, updateThroughView } from './view-write.js'

/** The table a statement writes: a named partition is written through its parent. */
export function targetTable(p: PlanCtx, name: string): { table: TableInfo; partition: TableInfo | null } {
  const t = p.exec.tx.table(name)
  if (!t && readView(p.exec.tx, name)) {
    // PostgreSQL writes through simple views (auto-updatable views); Concord's views are read-only.
    throw new SqlError(SqlState.featureNotSupported, `cannot write into view "${name}"`, { detail: 'Concord\'s views are read-only: writing through a view is not supported.', hint: 'Write into the view\'s table.' })
  }
  if (!t) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  const root = partitionRoot(t, partitionCatalog(p))
  return root === t ? { table: t, partition: null } : { table: root, partition: t }
}

interface Returning {
  columns: ColumnBinding[]
  /**
   * `tableOid`: the table the row is stored in, when it is not the writer's (an inheritance child's row);
   * `extra`: the row's values of the other FROM / USING items (UPDATE .. FROM, DELETE .. USING).
   */
  eval: (row: RtValue[], tableOid?: number, extra?: RtValue[]) => RtValue[]
}

function returningList(stmt: { returningClause?: { exprs?: Node[] }; returningList?: Node[] }): Node[] {
  return stmt.returningClause?.exprs ?? stmt.returningList ?? []
}

/**
 * RETURNING over the written row; `extra` are the columns of the statement's other FROM /
 * USING items, which RETURNING may name too (and `*` includes), as in PostgreSQL.
 */
function planReturning(nodes: Node[], w: TableWriter, alias: string, p: PlanCtx, extra: ColumnBinding[] = []): Returning | null {
  if (nodes.length === 0) return null
  const cols: ColumnBinding[] = w.columns.map((c) => ({ ...c, table: alias }))
  // `RETURNING tableoid::regclass` names the partition each row went to.
  const oidOf = p.tableOid && !cols.some((c) => c.name === 'tableoid') ? tableOidReader(p, w.table, w.columns) : null
  if (oidOf) cols.push({ name: 'tableoid', table: alias, type: { id: 'regclass' }, hidden: true })
  cols.push(...extra)
  const scope = new Scope(cols)
  const cctx = makeCompileCtx(p, scope)
  const outs: Array<{ name: string; f: (env: Env) => RtValue; type: ColumnBinding['type'] }> = []
  for (const n of nodes) {
    if (!('ResTarget' in n)) continue
    const val = n.ResTarget.val!
    const fields = 'ColumnRef' in val ? val.ColumnRef.fields ?? [] : []
    if (fields.some((f) => 'A_Star' in f)) {
      // `*` is every item's columns; `t.*` those of the item named t.
      const qual = fields.length > 1 ? nameList(fields.slice(0, -1)).pop() : undefined
      if (qual !== undefined && !cols.some((c) => c.table === qual)) throw new SqlError(SqlState.undefinedTable, `missing FROM-clause entry for table "${qual}"`)
      cols.forEach((c, i) => {
        if (!c.hidden && (qual === undefined || c.table === qual)) outs.push({ name: c.name, type: c.type, f: (env) => env.row[i]! })
      })
      continue
    }
    const c = compileExpr(val, cctx)
    const name = n.ResTarget.name ?? ('ColumnRef' in val ? nameList(val.ColumnRef.fields).pop()! : 'FuncCall' in val ? nameList(val.FuncCall.funcname).pop()! : '?column?')
    outs.push({ name, type: c.type.id === 'unknown' ? T.text : c.type, f: c.eval })
  }
  return { columns: outs.map((o) => ({ name: o.name, table: null, type: o.type })), eval: (row, tableOid, more) => {
    let r = oidOf ? [...row, tableOid ?? oidOf(row)] : row
    if (extra.length) r = [...r, ...(more ?? extra.map(() => null))]
    return outs.map((o) => o.f({ row: r, outer: null }))
  } }
}

export function execInsert(written: InsertStmt, p: PlanCtx): StatementResult {
  // A write naming an updatable view is rewritten over the view's table (view-write.ts).
  const stmt = throughViews(written, p.exec.tx, (s, v) => insertThroughView(s, v, p.exec.tx))
  const rv = stmt.relation!
  const { table, partition } = targetTable(p, rv.relname!)
  const w = new TableWriter(table, p, partition)
  const alias = rv.alias?.aliasname ?? rv.relname!
  const now = p.exec.nowMicros
  const targetCols = (stmt.cols ?? []).map((c) => ('ResTarget' in c ? c.ResTarget.name! : ''))
  // `INSERT INTO t (a[1:2])`: subscripts of each target column (empty for a plain column).
  const targetSubs = (stmt.cols ?? []).map((c) => ('ResTarget' in c ? c.ResTarget.indirection ?? [] : []))
  const idx = targetCols.length ? targetCols.map((c) => w.index(c)) : w.columns.map((c, i) => (c.hidden ? -1 : i)).filter((i) => i >= 0)
  // A column may be named more than once only with subscripts each time (`(a[1], a[3])`): the assignments compose.
  const repeated = idx.findIndex((ci, k) => idx.indexOf(ci) !== k && !(targetSubs[k]?.length && targetSubs[idx.indexOf(ci)]?.length))
  if (repeated >= 0) throw new SqlError(SqlState.duplicateColumn, `column "${targetCols[repeated]}" specified more than once`)
  // GENERATED ALWAYS AS IDENTITY takes a given value only under OVERRIDING SYSTEM VALUE;
  // OVERRIDING USER VALUE drops the values given for identity columns (they take their next id).
  const userOverride = stmt.override === 'OVERRIDING_USER_VALUE'
  const identityGiven = (ci: number): boolean => {
    const id = w.metas[ci]!.identity
    if (!id) return true
    if (userOverride) return false
    if (id === 'always' && stmt.override !== 'OVERRIDING_SYSTEM_VALUE') throw identityAlwaysError(w.columns[ci]!.name)
    return true
  }

  // Source rows: each a value per column index (undefined = DEFAULT).
  let sourceRows: GivenRow[] = []
  const sel = stmt.selectStmt && 'SelectStmt' in stmt.selectStmt ? stmt.selectStmt.SelectStmt : null
  // The SELECT ran off the main thread (insert-source.ts): its rows, converted there, are inserted here.
  const source = ownInsertSource(p, rv.relname!)
  const supplied = source?.kind === 'supply' && source.applies() ? source : null
  if (supplied !== null) {
    sourceRows = suppliedInsertRows(supplied, w.columns)
  } else if (sel && sel.valuesLists && !sel.sortClause && !sel.limitCount && !sel.withClause) {
    const cctx = makeCompileCtx(p, new Scope([]))
    // A plain literal item of a column is converted from its value, without compiling it:
    // what coerce(compileExpr(item)) would give, the conversion made once per column and
    // literal type (a bulk INSERT's VALUES rows are thousands of literals). Not for a
    // cached plan's literals, which compileExpr reads per execution.
    const plainLiterals = cctx.exec.planSlots === undefined
    const conversions: Array<{ from: SqlType; convert: ((v: RtValue) => RtValue) | null } | undefined> = []
    const literal: { type: SqlType; value: RtValue } = { type: T.unknown, value: null }
    for (const list of sel.valuesLists) {
      const items = 'List' in list ? list.List.items ?? [] : []
      if (items.length > idx.length) throw new SqlError(SqlState.syntaxError, 'INSERT has more expressions than target columns')
      if (items.length < idx.length && targetCols.length) throw new SqlError(SqlState.syntaxError, 'INSERT has more target columns than expressions')
      // Sized to the columns: an empty array grows to 17 slots on its first store.
      const m: GivenRow = new Array<RtValue | undefined>(w.columns.length)
      for (let k = 0; k < items.length; k++) {
        const item = items[k]!
        const ci = idx[k]!
        if ('SetToDefault' in item) continue
        if (w.isGenerated(ci)) throw generatedError(w.columns[ci]!.name)
        if (!identityGiven(ci)) continue
        if (targetSubs[k]?.length) {
          m[ci] = compileArrayAssignment(w.columns[ci]!, targetSubs[k]!, compileExpr(item, cctx), cctx, compileExpr)({ row: [], outer: null }, m[ci] ?? null)
          continue
        }
        if (plainLiterals && 'A_Const' in item) {
          readConst(item.A_Const, literal)
          let known = conversions[k]
          if (known === undefined || known.from !== literal.type) {
            known = { from: literal.type, convert: valueConversion(literal.type, w.columns[ci]!.type, 'assignment', now, `column "${w.columns[ci]!.name}"`) }
            conversions[k] = known
          }
          m[ci] = known.convert === null ? literal.value : known.convert(literal.value)
          continue
        }
        const c = coerce(compileExpr(item, cctx), w.columns[ci]!.type, 'assignment', now, `column "${w.columns[ci]!.name}"`)
        m[ci] = c.eval({ row: [], outer: null })
      }
      sourceRows.push(m)
    }
  } else if (sel) {
    const rel = planSelect(sel, p, null)
    if (rel.columns.length > idx.length) throw new SqlError(SqlState.syntaxError, 'INSERT has more expressions than target columns')
    const convs = rel.columns.map((c, k): ((env: Env, current: RtValue) => RtValue) | null => {
      const ci = idx[k]!
      if (w.isGenerated(ci)) throw generatedError(w.columns[ci]!.name)
      if (!identityGiven(ci)) return null
      const src: Compiled = { type: c.type, eval: (env) => env.row[k]! }
      if (targetSubs[k]?.length) {
        const assign = compileArrayAssignment(w.columns[ci]!, targetSubs[k]!, src, makeCompileCtx(p, new Scope([])), compileExpr)
        return (env, current) => assign(env, current)
      }
      return coerce(src, w.columns[ci]!.type, 'assignment', now, `column "${w.columns[ci]!.name}"`).eval
    })
    for (const row of rel.rows(null)) {
      p.exec.budget.tick()
      // On a worker, past its bound the statement fails now (it then runs whole on the event loop).
      if (source?.kind === 'collect' && sourceRows.length >= source.limit) throw new SqlError(SqlState.programLimitExceeded, `more than ${source.limit} rows to insert`)
      const m: GivenRow = []
      convs.forEach((f, k) => { if (f) m[idx[k]!] = f({ row, outer: null }, m[idx[k]!] ?? null) })
      sourceRows.push(m)
    }
    // On a worker the source rows are the answer: nothing is inserted there.
    if (source?.kind === 'collect') {
      collectInsertRows(source, sourceRows)
      return { command: 'INSERT', rowCount: sourceRows.length, columns: [], rows: [] }
    }
  } else {
    sourceRows.push([])
  }
  // What could run elsewhere (the SELECT) is done: the inserts, defaults, triggers and RETURNING are the event loop's.
  p.exec.budget.stayHere()

  const returning = planReturning(returningList(stmt), w, alias, p)
  const out: RtValue[][] = []
  const oc = stmt.onConflictClause
  let conflictCols: string[][] | null = null
  let doUpdate: ((existing: RtValue[], proposed: RtValue[]) => { next: RtValue[]; increments: Map<number, RtValue> } | null) | null = null
  let assigned = new Set<number>()
  if (oc) {
    const inferCols = (oc.infer?.indexElems ?? []).map((e) => ('IndexElem' in e ? e.IndexElem.name ?? '' : ''))
    const keys = [table.primaryKey, ...w.uniques]
    if (oc.infer?.conname) {
      conflictCols = keys
    } else if (inferCols.length) {
      // PostgreSQL infers a unique index whose columns are exactly the named ones (as a set: repeats do not count).
      const named = new Set(inferCols)
      const match = keys.find((k) => new Set(k).size === named.size && k.every((c) => named.has(c)))
      if (!match) throw new SqlError(SqlState.invalidColumnReference, 'there is no unique or exclusion constraint matching the ON CONFLICT specification')
      conflictCols = [match]
    } else {
      if (oc.action === 'ONCONFLICT_UPDATE') throw new SqlError(SqlState.syntaxError, 'ON CONFLICT DO UPDATE requires inference specification or constraint name')
      conflictCols = keys
    }
    if (oc.action === 'ONCONFLICT_UPDATE') {
      const cols = [...w.columns.map((c) => ({ ...c, table: alias })), ...w.columns.map((c) => ({ ...c, table: 'excluded' }))]
      const scope = new Scope(cols)
      const cctx = makeCompileCtx(p, scope)
      const sets = (oc.targetList ?? []).map((t) => {
        if (!('ResTarget' in t)) throw new SqlError(SqlState.syntaxError, 'bad SET')
        const ci = w.index(t.ResTarget.name!)
        if (w.isGenerated(ci)) throw new SqlError(SqlState.generatedAlways, `column "${t.ResTarget.name}" can only be updated to DEFAULT`)
        if (w.metas[ci]!.identity === 'always' && !('SetToDefault' in t.ResTarget.val!)) throw new SqlError(SqlState.generatedAlways, `column "${t.ResTarget.name}" can only be updated to DEFAULT`, { detail: `Column "${t.ResTarget.name}" is an identity column defined as GENERATED ALWAYS.` })
        const v = t.ResTarget.val!
        const subs = t.ResTarget.indirection ?? []
        if (subs.length && 'SetToDefault' in v) throw new SqlError(SqlState.featureNotSupported, 'DEFAULT cannot be assigned to an array element')
        const assign = subs.length ? compileArrayAssignment(w.columns[ci]!, subs, compileExpr(v, cctx), cctx, compileExpr) : null
        const f = 'SetToDefault' in v || assign ? null : coerce(compileExpr(v, cctx), w.columns[ci]!.type, 'assignment', now, `column "${w.columns[ci]!.name}"`).eval
        const delta = 'SetToDefault' in v || assign ? null : counterDelta(w, ci, v, [alias, table.name], cctx, now)
        return { ci, f, assign, delta }
      })
      assigned = new Set(sets.map((s) => s.ci))
      const where = oc.whereClause ? compilePredicate(oc.whereClause, cctx, 'WHERE') : null
      doUpdate = (existing, proposed) => {
        const env: Env = { row: existing.concat(proposed), outer: null }
        if (where && !where(env)) return null
        const next = existing.slice()
        const increments = new Map<number, RtValue>()
        for (const s of sets) {
          next[s.ci] = s.assign ? s.assign(env, next[s.ci]!) : s.f ? s.f(env) : w.defaultValue(s.ci)
          if (s.delta) increments.set(s.ci, s.delta(env))
        }
        w.computeGenerated(next)
        return { next, increments }
      }
    }
  }

  let count = 0
  const touched = new Set<string>()
  const triggers = StatementTriggers.of(p, p.exec.tx.table(rv.relname!), 'INSERT', w.columns)
  // ON CONFLICT DO UPDATE also fires the table's UPDATE triggers, as in PostgreSQL.
  const updateTriggers = doUpdate ? StatementTriggers.of(p, p.exec.tx.table(rv.relname!), 'UPDATE', w.columns, assigned.size ? assigned : null) : null
  triggers?.beforeStatement()
  updateTriggers?.beforeStatement()
  for (const stated of sourceRows) {
    p.exec.budget.tick()
    let given = stated
    let row = w.newRow(given)
    if (triggers) {
      // A BEFORE ROW trigger may change the row (what it sets counts as given) or skip it.
      const changed = triggers.beforeRow(row, null)
      if (changed === null) continue
      given = given.slice()
      for (let i = 0; i < row.length; i++) if (changed[i] !== row[i]) given[i] = changed[i]!
      row = changed
      w.computeGenerated(row)
    }
    if (conflictCols) {
      let existing: RtValue[] | null = null
      for (const cols of conflictCols) {
        if (cols === table.primaryKey) {
          const r = p.exec.rows.get(table.name, w.keyOf(row))
          if (r) existing = decodeExisting(w, r)
        } else {
          existing = w.findUniqueConflict(row, cols, null)
        }
        if (existing) break
      }
      if (existing) {
        const k = rowKey(w.keyOf(existing).map((v) => (typeof v === 'bigint' ? v.toString() : v)) as RtValue[])
        if (touched.has(k)) throw new SqlError(SqlState.cardinalityViolation, 'ON CONFLICT DO UPDATE command cannot affect row a second time', { hint: 'Ensure that no rows proposed for insertion within the same command have duplicate constrained values.' })
        if (!doUpdate) continue
        const upd = doUpdate(existing, row)
        if (!upd) continue
        touched.add(k)
        let next = upd.next
        if (updateTriggers) {
          const changed = updateTriggers.beforeRow(next, existing)
          if (changed === null) continue
          next = changed
          w.computeGenerated(next)
        }
        w.update(existing, next, assigned, upd.increments)
        updateTriggers?.afterRow(next, existing)
        count++
        if (returning) out.push(returning.eval(next))
        continue
      }
    }
    w.insert(row, given)
    triggers?.afterRow(row, null)
    if (doUpdate) touched.add(rowKey(w.keyOf(row).map((v) => (typeof v === 'bigint' ? v.toString() : v)) as RtValue[]))
    count++
    if (returning) out.push(returning.eval(row))
  }
  updateTriggers?.finish()
  triggers?.finish()
  return { command: 'INSERT', rowCount: count, columns: returning?.columns ?? [], rows: out }
}

/** For a counter column assigned `c ± n`: evaluates the `n` to add (PostgreSQL's value is still computed for the row). */
function counterDelta(w: TableWriter, ci: number, v: Node, qualifiers: string[], cctx: CompileCtx, now: number): ((env: Env) => RtValue) | null {
  if (!w.counters[ci]) return null
  const inc = incrementOf(v, w.columns[ci]!.name, qualifiers)
  if (!inc) return null
  const f = coerce(compileExpr(inc.delta, cctx), w.columns[ci]!.type, 'assignment', now, `column "${w.columns[ci]!.name}"`).eval
  if (!inc.negate) return f
  return (env) => {
    const d = f(env)
    return typeof d === 'bigint' ? -d : typeof d === 'number' ? -d : d
  }
}

function decodeExisting(w: TableWriter, r: Record<string, import('@concord/core').Value>): RtValue[] {
  return w.columns.map((c) => r[c.name] ?? null).map((v, i) => (v === null ? null : decodeOne(v, w.columns[i]!)))
}

function decodeOne(v: import('@concord/core').Value, c: ColumnBinding): RtValue {
  return decodeValue(v, c.type)
}

export function identityAlwaysError(name: string): SqlError {
  return new SqlError(SqlState.generatedAlways, `cannot insert a non-DEFAULT value into column "${name}"`, {
    detail: `Column "${name}" is an identity column defined as GENERATED ALWAYS.`,
    hint: 'Use OVERRIDING SYSTEM VALUE to override.',
  })
}

export function generatedError(name: string): SqlError {
  return new SqlError(SqlState.generatedAlways, `cannot insert a non-DEFAULT value into column "${name}"`, { detail: `Column "${name}" is a generated column.` })
}

/** Rows of the target table matching WHERE, read through the access-path chooser. */
/**
 * Where an UPDATE or DELETE may take its target-row plan from the session's plan cache
 * (plan/plan-cache.ts): given how to plan it over a planning context, returns the cached
 * plan or plans one. Absent: planned for this execution only.
 */
export type TargetRowPlans = <T>(plan: (p: PlanCtx) => T) => T

/**
 * The target rows of an UPDATE or DELETE, and what `also` plans over the same context and
 * columns (an UPDATE's SET list): cached with the target-row plan when that is.
 */
function matchingRows<A>(p: PlanCtx, table: TableInfo, alias: string, where: Node | undefined, extraFrom: Node[], relname = table.name, cache?: TargetRowPlans, only = false, also?: (q: PlanCtx, columns: ColumnBinding[]) => A | null): { columns: ColumnBinding[]; rows: Array<{ row: RtValue[]; env: Env }>; planned: A | null } {
  const planned = (q: PlanCtx) => {
    // Read through the named relation: UPDATE/DELETE on a partition touch only its rows;
    // an inheritance member is read ONLY (its descendants are visited on their own).
    const rv: Node = { RangeVar: { relname, ...(only ? {} : { inh: true }), relpersistence: 'p', alias: { aliasname: alias } } }
    const from = planFrom([rv, ...extraFrom], q, null, where)
    const pred = where ? compilePredicate(where, makeCompileCtx(q, new Scope(from.columns)), 'WHERE') : null
    return { from, pred, also: also ? also(q, from.columns) : null }
  }
  const { from, pred, also: alsoPlanned } = cache !== undefined && extraFrom.length === 0 ? cache(planned) : planned(p)
  const width = table.columns.length
  const out: Array<{ row: RtValue[]; env: Env }> = []
  const seen = new Set<string>()
  // The WHERE ran off the main thread first: only its matches and the rows changed since are read (target-rows.ts).
  const target = ownTarget(p, relname)
  const restricted = target?.kind === 'restrict' && target.applies() ? target : null
  const read = restricted === null ? from.rows(null) : p.exec.rows.within(restricted, () => [...from.rows(null)])
  for (const row of read) {
    p.exec.budget.tick()
    const env: Env = { row, outer: null }
    if (pred && !pred(env)) continue
    const own = row.slice(0, width)
    if (extraFrom.length) {
      // UPDATE .. FROM: a target row joined to several source rows is updated once.
      const k = own.map(groupKey).join('\u0000')
      if (seen.has(k)) continue
      seen.add(k)
    }
    out.push({ row: own, env })
  }
  return { columns: from.columns, rows: out, planned: alsoPlanned }
}

/** How the statement's own target rows are read (target-rows.ts), for `relname` at depth 0 only; null: as always. */
function ownTarget(p: PlanCtx, relname: string): TargetRows | null {
  const t = p.exec.targetRows
  return t !== undefined && p.exec.depth === 0 && t.table === relname ? t : null
}

/** Where the statement's own INSERT (into `relname`, at depth 0) takes its source rows (insert-source.ts); null: its SELECT. */
function ownInsertSource(p: PlanCtx, relname: string): InsertSource | null {
  const s = p.exec.insertSource
  return s !== undefined && p.exec.depth === 0 && s.table === relname ? s : null
}

/** Collects the target rows' keys and writes nothing (target-rows.ts); null when the statement runs as always. */
function collected(p: PlanCtx, relname: string, w: TableWriter, command: 'UPDATE' | 'DELETE', rows: Array<{ row: RtValue[] }>): StatementResult | null {
  const target = ownTarget(p, relname)
  if (target?.kind !== 'collect') return null
  for (const { row } of rows) collectTargetKey(target, w.keyOf(row))
  target.done = true
  return { command, rowCount: rows.length, columns: [], rows: [] }
}

/** Positions of the columns of an UPDATE's FROM / DELETE's USING items (after the target's own). */
function otherItems(columns: ColumnBinding[], table: TableInfo, alias: string): number[] {
  const out: number[] = []
  for (let i = table.columns.length; i < columns.length; i++) if (columns[i]!.table !== alias) out.push(i)
  return out
}

export function execUpdate(written: UpdateStmt, p: PlanCtx, given?: TargetRowPlans): StatementResult {
  const stmt = throughViews(written, p.exec.tx, (s, v) => updateThroughView(s, v, p.exec.tx))
  // The cached target-row plan belongs to the statement as written.
  const cache = stmt === written ? given : undefined
  const rv = stmt.relation!
  const set = inheritanceSet(p, rv)
  if (!set) return updateIn(stmt, p, rv.relname!, cache, null)
  return combined('UPDATE', set.members.map((m) => updateIn(stmt, p, m, undefined, set.shape)))
}

/**
 * An UPDATE of one table: the named one, or (`shape` given) one member of the named
 * inheritance parent's set, read ONLY, whose RETURNING rows take the parent's layout.
 */
function updateIn(stmt: UpdateStmt, p: PlanCtx, relname: string, cache: TargetRowPlans | undefined, shape: TableWriter | null): StatementResult {
  const rv = stmt.relation!
  const { table, partition } = targetTable(p, relname)
  const alias = rv.alias?.aliasname ?? rv.relname!
  const w = new TableWriter(table, p, partition)
  const qualifiers = [alias, rv.relname!]
  // A SET list of columns, literals, parameters and operators is planned with the target
  // rows, so a cached plan holds it too: it reads each execution's literals and parameters
  // as the WHERE does (plan/plan-cache.ts), through a writer over the plan's own context
  // (a SET list reads of its writer only what the catalog fixes: column positions, types,
  // counters, generated columns). Compiling it each run was 15% of a pgbench UPDATE. Whether
  // it may be is decided when planning, so a cached plan's run does not walk the list again.
  const planSet = (q: PlanCtx, cols: ColumnBinding[]): SetList | null =>
    cacheableSetList(stmt.targetList) ? compileSetList(stmt.targetList ?? [], q.exec === p.exec ? w : new TableWriter(table, q, partition), makeCompileCtx(q, new Scope(cols)), qualifiers) : null
  const { columns, rows, planned } = matchingRows(p, table, alias, stmt.whereClause, stmt.fromClause ?? [], relname, cache, shape !== null || rv.inh !== true, planSet)
  const keysOnly = collected(p, relname, w, 'UPDATE', rows)
  if (keysOnly !== null) return keysOnly
  // What could run elsewhere (finding the target rows) is done: SET, the writes and
  // RETURNING are the event loop's, so a run never moves once it may have written (in a
  // transaction block its writes would stay in the block).
  p.exec.budget.stayHere()
  const setList = planned ?? compileSetList(stmt.targetList ?? [], w, makeCompileCtx(p, new Scope(columns)), qualifiers)
  // A planned SET list reads its literals when it runs, where compiling folded them: with no
  // row to update, its values are computed once over a row of NULLs, so a literal that does
  // not convert or a constant that overflows fails as PostgreSQL's planning makes it fail
  // (22P02, 22003), matching rows or not. Over NULL columns the rest of a plain expression
  // is NULL, and raises nothing.
  if (planned !== null && rows.length === 0) setList.check({ row: new Array<RtValue>(columns.length).fill(null), outer: null })
  const extraIdx = otherItems(columns, table, alias)
  const returning = planReturning(returningList(stmt), shape ?? w, alias, p, extraIdx.map((i) => columns[i]!))
  const reshape = memberRow(w, shape)
  const out: RtValue[][] = []
  // Compute every new row before writing any, so SET expressions see the old state.
  const updates = rows.map(({ row, env }) => ({ row, extra: extraIdx.map((i) => env.row[i]!), ...setList.apply(row, env) }))
  const triggers = StatementTriggers.of(p, shape ? undefined : p.exec.tx.table(relname), 'UPDATE', w.columns, setList.assigned)
  triggers?.beforeStatement()
  let count = 0
  for (const u of updates) {
    p.exec.budget.tick()
    let next = u.next
    if (triggers) {
      const changed = triggers.beforeRow(next, u.row)
      if (changed === null) continue
      next = changed
      w.computeGenerated(next)
    }
    w.update(u.row, next, setList.assigned, u.increments)
    triggers?.afterRow(next, u.row)
    count++
    if (returning) out.push(returning.eval(reshape(next), shape ? objectOid('table', table.name) : undefined, u.extra))
  }
  triggers?.finish()
  return { command: 'UPDATE', rowCount: count, columns: returning?.columns ?? [], rows: out }
}

/**
 * The tables an UPDATE / DELETE without ONLY visits when it names an inheritance parent:
 * the parent, then every descendant (catalog/table-inheritance.ts); null when the
 * statement says ONLY or the table has no children (one table, the plain path).
 */
function inheritanceSet(p: PlanCtx, rv: NonNullable<UpdateStmt['relation']>): { members: string[]; shape: TableWriter } | null {
  if (rv.inh !== true) return null
  const t = p.exec.tx.table(rv.relname!)
  if (!t) return null
  const below = inheritanceDescendants(p.exec.allTables(), t.name)
  if (below.length === 0) return null
  return { members: [t.name, ...below.map((d) => d.name)], shape: new TableWriter(t, p) }
}

/** A member's row laid out as the parent's (by column name; NULL where the member lacks one). */
function memberRow(w: TableWriter, shape: TableWriter | null): (row: RtValue[]) => RtValue[] {
  if (!shape || shape.table === w.table) return (row) => row
  const at = shape.columns.map((c) => w.columns.findIndex((x) => x.name === c.name))
  return (row) => at.map((i) => (i < 0 ? null : row[i] ?? null))
}

function combined(command: 'UPDATE' | 'DELETE', parts: StatementResult[]): StatementResult {
  return {
    command,
    rowCount: parts.reduce((n, r) => n + (r.rowCount ?? 0), 0),
    columns: parts[0]?.columns ?? [],
    rows: parts.flatMap((r) => r.rows),
  }
}

/** A compiled SET list (UPDATE, MERGE .. UPDATE SET): the new row and counter increments of an old row. */
export interface SetList {
  assigned: Set<number>
  apply(row: RtValue[], env: Env): { next: RtValue[]; increments: Map<number, RtValue> }
  /** Computes every value and increment over `env` and keeps none: what they raise, they raise. */
  check(env: Env): void
}

/** Compiles `SET a = x, (b, c) = (y, z), d[1] = w` for the table `w` writes, in `cctx`'s scope. */
export function compileSetList(targetList: Node[], w: TableWriter, cctx: CompileCtx, qualifiers: string[]): SetList {
  const now = cctx.exec.nowMicros
  const sets: Array<{ ci: number; f: ((env: Env) => RtValue) | null; assign?: ArrayAssign; delta: ((env: Env) => RtValue) | null }> = []
  for (const t of targetList) {
    if (!('ResTarget' in t)) continue
    const ci = w.index(t.ResTarget.name!)
    let v = t.ResTarget.val!
    if ('MultiAssignRef' in v) {
      // SET (a, b) = (x, y): each target takes its element of the row expression.
      const src = v.MultiAssignRef.source
      const items = src && 'RowExpr' in src ? src.RowExpr.args ?? [] : null
      if (!items) throw new SqlError(SqlState.featureNotSupported, 'SET (..) = (subquery) is not supported')
      if (items.length !== (v.MultiAssignRef.ncolumns ?? 0)) throw new SqlError(SqlState.syntaxError, 'number of columns does not match number of values')
      v = items[(v.MultiAssignRef.colno ?? 1) - 1]!
    }
    if (w.isGenerated(ci) && !('SetToDefault' in v)) throw new SqlError(SqlState.generatedAlways, `column "${t.ResTarget.name}" can only be updated to DEFAULT`, { detail: `Column "${t.ResTarget.name}" is a generated column.` })
    if (w.metas[ci]!.identity === 'always' && !('SetToDefault' in v)) throw new SqlError(SqlState.generatedAlways, `column "${t.ResTarget.name}" can only be updated to DEFAULT`, { detail: `Column "${t.ResTarget.name}" is an identity column defined as GENERATED ALWAYS.` })
    const subs = t.ResTarget.indirection ?? []
    // Several subscripted assignments to one column compose (SET a[1] = x, a[2] = y).
    if (sets.some((s) => s.ci === ci && !(s.assign && subs.length))) throw new SqlError(SqlState.syntaxError, `multiple assignments to same column "${t.ResTarget.name}"`)
    if (subs.length && 'SetToDefault' in v) throw new SqlError(SqlState.featureNotSupported, 'DEFAULT cannot be assigned to an array element')
    if (subs.length) {
      sets.push({ ci, f: null, assign: compileArrayAssignment(w.columns[ci]!, subs, compileExpr(v, cctx), cctx, compileExpr), delta: null })
      continue
    }
    sets.push({
      ci,
      f: 'SetToDefault' in v ? null : coerce(compileExpr(v, cctx), w.columns[ci]!.type, 'assignment', now, `column "${w.columns[ci]!.name}"`).eval,
      delta: 'SetToDefault' in v ? null : counterDelta(w, ci, v, qualifiers, cctx, now),
    })
  }
  return {
    assigned: new Set(sets.map((s) => s.ci)),
    apply: (row, env) => {
      const next = row.slice()
      const increments = new Map<number, RtValue>()
      for (const s of sets) {
        next[s.ci] = s.assign ? s.assign(env, next[s.ci]!) : s.f ? s.f(env) : w.isGenerated(s.ci) ? null : w.defaultValue(s.ci)
        if (s.delta) increments.set(s.ci, s.delta(env))
      }
      w.computeGenerated(next)
      return { next, increments }
    },
    check: (env) => {
      for (const s of sets) {
        s.f?.(env)
        s.delta?.(env)
      }
    },
  }
}

export function execDelete(written: DeleteStmt, p: PlanCtx, given?: TargetRowPlans): StatementResult {
  const stmt = throughViews(written, p.exec.tx, (s, v) => deleteThroughView(s, v, p.exec.tx))
  const cache = stmt === written ? given : undefined
  const rv = stmt.relation!
  const set = inheritanceSet(p, rv)
  if (!set) return deleteIn(stmt, p, rv.relname!, cache, null)
  return combined('DELETE', set.members.map((m) => deleteIn(stmt, p, m, undefined, set.shape)))
}

/** A DELETE from one table (see updateIn for `shape`). */
function deleteIn(stmt: DeleteStmt, p: PlanCtx, relname: string, cache: TargetRowPlans | undefined, shape: TableWriter | null): StatementResult {
  const rv = stmt.relation!
  const { table } = targetTable(p, relname)
  const alias = rv.alias?.aliasname ?? rv.relname!
  const w = new TableWriter(table, p)
  const { columns, rows } = matchingRows(p, table, alias, stmt.whereClause, stmt.usingClause ?? [], relname, cache, shape !== null || rv.inh !== true)
  const keysOnly = collected(p, relname, w, 'DELETE', rows)
  if (keysOnly !== null) return keysOnly
  // As for UPDATE: the deletes are the event loop's, never moved once begun.
  p.exec.budget.stayHere()
  const extraIdx = otherItems(columns, table, alias)
  const returning = planReturning(returningList(stmt), shape ?? w, alias, p, extraIdx.map((i) => columns[i]!))
  const reshape = memberRow(w, shape)
  const out: RtValue[][] = []
  const triggers = StatementTriggers.of(p, shape ? undefined : p.exec.tx.table(relname), 'DELETE', w.columns)
  triggers?.beforeStatement()
  let count = 0
  for (const { row, env } of rows) {
    p.exec.budget.tick()
    if (triggers && triggers.beforeRow(null, row) === null) continue
    w.delete(row)
    triggers?.afterRow(null, row)
    count++
    if (returning) out.push(returning.eval(reshape(row), shape ? objectOid('table', table.name) : undefined, extraIdx.map((i) => env.row[i]!)))
  }
  triggers?.finish()
  return { command: 'DELETE', rowCount: count, columns: returning?.columns ?? [], rows: out }
}
