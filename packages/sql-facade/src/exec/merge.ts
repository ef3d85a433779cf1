/**
 * MERGE INTO target USING source ON cond WHEN [NOT] MATCHED [AND cond] THEN
 * UPDATE SET .. | DELETE | INSERT .. | DO NOTHING, with PostgreSQL 15's semantics.
 *
 * The source is joined to the target (source LEFT JOIN target ON cond) once, before any
 * write, so every WHEN clause sees the rows as they were when the statement began. Each
 * joined row takes the first WHEN clause of its kind whose condition holds: a matched
 * row's clauses see source and target columns, a not-matched row's the source's only.
 *
 * Invariants: a target row is updated or deleted at most once (a second source row
 * reaching it is 21000, as in PostgreSQL); the row count is the rows inserted, updated
 * and deleted; every write goes through `TableWriter`, so constraints, defaults, foreign
 * keys and partitions hold as for INSERT / UPDATE / DELETE.
 */
import { hasChildren } from '../catalog/table-inheritance.js'
import { encodeRowKey } from '@concord/core'
import type { MergeStmt, MergeWhenClause, Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from '../expr/coerce.js'
import { compileExpr, compilePredicate } from '../expr/compile.js'
import { Scope, type Env } from '../relation/scope.js'
import { planFrom } from '../plan/from.js'
import { makeCompileCtx, type PlanCtx } from '../plan/plan-context.js'
import type { RtValue } from '../types/value.js'
import { compileSetList, generatedError, targetTable, type SetList } from './dml.js'
import type { StatementResult } from '../runtime/result.js'
import { TableWriter, type GivenRow } from './table-writer.js'
import { StatementTriggers } from './triggers.js'

type Action =
  | { kind: 'update'; when: ((env: Env) => boolean) | null; set: SetList }
  | { kind: 'delete' | 'nothing'; when: ((env: Env) => boolean) | null }
  | { kind: 'insert'; when: ((env: Env) => boolean) | null; values: (env: Env) => GivenRow }

function sourceAlias(n: Node): string | null {
  if ('RangeVar' in n) return n.RangeVar.alias?.aliasname ?? n.RangeVar.relname ?? null
  if ('RangeSubselect' in n) return n.RangeSubselect.alias?.aliasname ?? null
  if ('RangeFunction' in n) return n.RangeFunction.alias?.aliasname ?? null
  return null
}

export function execMerge(stmt: MergeStmt, p: PlanCtx): StatementResult {
  const rv = stmt.relation!
  const name = rv.relname!
  const { table, partition } = targetTable(p, name)
  const alias = rv.alias?.aliasname ?? name
  if (stmt.withClause) throw new SqlError(SqlState.featureNotSupported, 'WITH in MERGE is not supported')
  const src = stmt.sourceRelation!
  if (sourceAlias(src) === alias) throw new SqlError(SqlState.duplicateAlias, `table name "${alias}" specified more than once`)
  // MERGE into an inheritance parent would have to route each matched row to the table holding it: not built.
  if (rv.inh === true && hasChildren(p.exec.allTables(), table.name)) {
    throw new SqlError(SqlState.featureNotSupported, `MERGE into inheritance parent "${name}" is not supported`, { hint: 'Use MERGE INTO ONLY, or UPDATE / DELETE / INSERT, which visit the children.' })
  }
  const w = new TableWriter(table, p, partition)
  const target: Node = { RangeVar: { relname: name, relpersistence: 'p', alias: { aliasname: alias } } }
  const join: Node = { JoinExpr: { jointype: 'JOIN_LEFT', larg: src, rarg: target, quals: stmt.joinCondition } }
  const from = planFrom([join], p, null, undefined)
  // The target's columns come last: the join's right side.
  const width = table.columns.length
  const offset = from.columns.length - width
  const sourceColumns = from.columns.slice(0, offset)
  const keyAt = w.pkIdx.map((i) => offset + i)
  const matchedCtx = makeCompileCtx(p, new Scope(from.columns))
  const sourceCtx = makeCompileCtx(p, new Scope(sourceColumns))
  const now = p.exec.nowMicros
  const matched: Action[] = []
  const notMatched: Action[] = []
  for (const c of stmt.mergeWhenClauses ?? []) {
    if (!('MergeWhenClause' in c)) continue
    const m: MergeWhenClause = c.MergeWhenClause
    const isMatched = m.matchKind === 'MERGE_WHEN_MATCHED'
    if (m.matchKind !== 'MERGE_WHEN_MATCHED' && m.matchKind !== 'MERGE_WHEN_NOT_MATCHED_BY_TARGET') {
      throw new SqlError(SqlState.featureNotSupported, 'WHEN NOT MATCHED BY SOURCE is not supported')
    }
    const cctx = isMatched ? matchedCtx : sourceCtx
    const when = m.condition ? compilePredicate(m.condition, cctx, 'WHEN') : null
    const list = isMatched ? matched : notMatched
    if (list.some((x) => x.when === null)) throw new SqlError(SqlState.syntaxError, 'unreachable WHEN clause specified after unconditional WHEN clause')
    switch (m.commandType) {
      case 'CMD_UPDATE':
        list.push({ kind: 'update', when, set: compileSetList(m.targetList ?? [], w, cctx, [alias, name]) })
        break
      case 'CMD_DELETE':
        list.push({ kind: 'delete', when })
        break
      case 'CMD_NOTHING':
        list.push({ kind: 'nothing', when })
        break
      case 'CMD_INSERT': {
        const cols = (m.targetList ?? []).map((t) => ('ResTarget' in t ? w.index(t.ResTarget.name!) : -1))
        const idx = cols.length ? cols : w.columns.map((col, i) => (col.hidden ? -1 : i)).filter((i) => i >= 0)
        const values = m.values ?? []
        if (values.length > idx.length) throw new SqlError(SqlState.syntaxError, 'INSERT has more expressions than target columns')
        if (values.length < idx.length && cols.length) throw new SqlError(SqlState.syntaxError, 'INSERT has more target columns than expressions')
        const fs = values.map((v, k) => {
          const ci = idx[k]!
          if ('SetToDefault' in v) return null
          if (w.isGenerated(ci) && m.override !== 'OVERRIDING_USER_VALUE') throw generatedError(w.columns[ci]!.name)
          return { ci, f: coerce(compileExpr(v, cctx), w.columns[ci]!.type, 'assignment', now, `column "${w.columns[ci]!.name}"`).eval }
        })
        list.push({ kind: 'insert', when, values: (env) => {
          const given: GivenRow = []
          for (const x of fs) if (x) given[x.ci] = x.f(env)
          return given
        } })
        break
      }
      default:
        throw new SqlError(SqlState.featureNotSupported, `MERGE action ${m.commandType ?? ''} is not supported`)
    }
  }
  // Every joined row first: the clauses see the state before the statement's writes.
  const joined: RtValue[][] = []
  for (const row of from.rows(null)) {
    p.exec.budget.tick()
    joined.push(row)
  }
  const touched = new Set<string>()
  let count = 0
  // Each kind of action the MERGE has fires that event's triggers (statement triggers even when no row is acted on).
  const actions = [...matched, ...notMatched]
  const named = p.exec.tx.table(name)
  const fires = (kind: 'insert' | 'update' | 'delete', op: 'INSERT' | 'UPDATE' | 'DELETE'): StatementTriggers | null => (actions.some((a) => a.kind === kind) ? StatementTriggers.of(p, named, op, w.columns) : null)
  const triggers = { insert: fires('insert', 'INSERT'), update: fires('update', 'UPDATE'), delete: fires('delete', 'DELETE') }
  for (const t of [triggers.insert, triggers.update, triggers.delete]) t?.beforeStatement()
  for (const row of joined) {
    p.exec.budget.tick()
    const isMatched = keyAt.every((i) => row[i] !== null && row[i] !== undefined)
    const env: Env = { row: isMatched ? row : row.slice(0, offset), outer: null }
    const action = (isMatched ? matched : notMatched).find((a) => a.when === null || a.when(env))
    if (!action || action.kind === 'nothing') continue
    if (action.kind === 'insert') {
      let given = action.values(env)
      let fresh = w.newRow(given)
      if (triggers.insert) {
        const changed = triggers.insert.beforeRow(fresh, null)
        if (changed === null) continue
        given = given.slice()
        for (let i = 0; i < fresh.length; i++) if (changed[i] !== fresh[i]) given[i] = changed[i]!
        fresh = changed
        w.computeGenerated(fresh)
      }
      w.insert(fresh, given)
      triggers.insert?.afterRow(fresh, null)
      count++
      continue
    }
    const old = row.slice(offset)
    const key = encodeRowKey(w.keyOf(old))
    if (touched.has(key)) {
      throw new SqlError(SqlState.cardinalityViolation, 'MERGE command cannot affect row a second time', {
        hint: 'Ensure that not more than one source row matches any one target row.',
      })
    }
    touched.add(key)
    if (action.kind === 'delete') {
      if (triggers.delete && triggers.delete.beforeRow(null, old) === null) continue
      w.delete(old)
      triggers.delete?.afterRow(null, old)
    } else if (action.kind === 'update') {
      const applied = action.set.apply(old, env)
      let next = applied.next
      if (triggers.update) {
        const changed = triggers.update.beforeRow(next, old)
        if (changed === null) continue
        next = changed
        w.computeGenerated(next)
      }
      w.update(old, next, action.set.assigned, applied.increments)
      triggers.update?.afterRow(next, old)
    }
    count++
  }
  for (const t of [triggers.update, triggers.delete, triggers.insert]) t?.finish()
  return { command: 'MERGE', rowCount: count, columns: [], rows: [] }
}
