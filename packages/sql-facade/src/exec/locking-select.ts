/**
 * SELECT .. FOR UPDATE / FOR NO KEY UPDATE / FOR SHARE / FOR KEY SHARE [NOWAIT | SKIP
 * LOCKED] over one table: locks the rows it returns for the transaction
 * (runtime/row-locks.ts).
 *
 * The query runs once without its LIMIT / OFFSET and with the table's primary key
 * appended to its output; its rows are locked in the query's order, as PostgreSQL's
 * LockRows does below the Limit, so a row skipped (SKIP LOCKED) does not count against
 * the LIMIT. A row another transaction holds stops the statement (`RowLockWait`); the
 * session runs it again once the row is released, on the row's new version.
 *
 * Invariants: every returned row is locked in the requested mode; rows past the LIMIT
 * are not locked. FOR UPDATE over a join, a view, a subquery or a set operation fails
 * with 0A000 rather than locking less.
 */
import { hasChildren } from '../catalog/table-inheritance.js'
import type { Node, SelectStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from '../expr/coerce.js'
import { compileExpr } from '../expr/compile.js'
import { makeCompileCtx, type PlanCtx } from '../plan/plan-context.js'
import { planSelect } from '../plan/select.js'
import { Scope } from '../relation/scope.js'
import type { StatementResult } from '../runtime/result.js'
import type { RowLockMode } from '../runtime/row-locks.js'
import { encodeValue } from '../types/storage-codec.js'
import { T } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { targetTable } from './dml.js'

const MODES: Record<string, RowLockMode> = {
  LCS_FORKEYSHARE: 'keyShare',
  LCS_FORSHARE: 'share',
  LCS_FORNOKEYUPDATE: 'noKeyUpdate',
  LCS_FORUPDATE: 'update',
}
const STRENGTH: RowLockMode[] = ['keyShare', 'share', 'noKeyUpdate', 'update']

function refuse(what: string): SqlError {
  return new SqlError(SqlState.featureNotSupported, `SELECT .. FOR UPDATE / FOR SHARE ${what} is not supported`, {
    hint: 'Lock the rows of one table: SELECT .. FROM t WHERE .. FOR UPDATE.',
  })
}

export function execLockingSelect(stmt: SelectStmt, p: PlanCtx): StatementResult {
  const clauses = (stmt.lockingClause ?? []).flatMap((n) => ('LockingClause' in n ? [n.LockingClause] : []))
  if (stmt.op && stmt.op !== 'SETOP_NONE') throw refuse('with UNION, INTERSECT or EXCEPT')
  if (stmt.distinctClause) throw new SqlError(SqlState.featureNotSupported, 'FOR UPDATE is not allowed with DISTINCT clause')
  if (stmt.groupClause || stmt.havingClause) throw new SqlError(SqlState.featureNotSupported, 'FOR UPDATE is not allowed with GROUP BY clause')
  const from = stmt.fromClause ?? []
  const rv = from.length === 1 && 'RangeVar' in from[0]! ? from[0].RangeVar : null
  if (rv === null) throw refuse(from.length === 0 ? 'without a table' : 'over a join, a subquery or several tables')
  const alias = rv.alias?.aliasname ?? rv.relname!
  const unlocked: SelectStmt = { ...stmt }
  delete unlocked.lockingClause
  const named = clauses.filter((c) => (c.lockedRels ?? []).length === 0 || (c.lockedRels ?? []).some((r) => 'RangeVar' in r && r.RangeVar.relname === alias))
  if (named.length === 0) {
    for (const c of clauses) {
      for (const r of c.lockedRels ?? []) {
        const n = 'RangeVar' in r ? r.RangeVar.relname : '?'
        throw new SqlError(SqlState.undefinedTable, `relation "${n}" in FOR UPDATE clause not found in FROM clause`)
      }
    }
  }
  if (rv.schemaname !== undefined && rv.schemaname !== 'public' && rv.schemaname !== 'pg_temp') throw refuse('of a system view')
  if (p.exec.tx.table(rv.relname!) === undefined) {
    planSelect(unlocked, p, null) // a missing relation fails as in any SELECT (42P01)
    throw refuse('of a view or a common table expression')
  }
  const { table } = targetTable(p, rv.relname!)
  // Each row would have to be locked in the table holding it (its own or a child's).
  if (rv.inh === true && hasChildren(p.exec.allTables(), table.name)) throw refuse(`of inheritance parent "${table.name}" (use FROM ONLY)`)
  const mode = named.map((c) => MODES[c.strength ?? 'LCS_FORUPDATE'] ?? 'update').reduce((a, b) => (STRENGTH.indexOf(a) >= STRENGTH.indexOf(b) ? a : b))
  const policy = named.some((c) => c.waitPolicy === 'LockWaitError') ? 'nowait' : named.some((c) => c.waitPolicy === 'LockWaitSkip') ? 'skip' : 'wait'

  // The query with the key appended, in its order, without LIMIT / OFFSET.
  const keyTargets: Node[] = table.primaryKey.map((c, i) => ({
    ResTarget: { name: `?concord_lock_${i}?`, val: { ColumnRef: { fields: [{ String: { sval: alias } }, { String: { sval: c } }] } } },
  }))
  const keyed: SelectStmt = { ...unlocked, targetList: [...(stmt.targetList ?? []), ...keyTargets] }
  delete keyed.limitCount
  delete keyed.limitOffset
  const rel = planSelect(keyed, p, null)
  const width = rel.columns.length - keyTargets.length
  const { offset, count } = limits(stmt, p)
  const out: RtValue[][] = []
  let kept = 0
  for (const row of rel.rows(null)) {
    if (count !== null && kept >= offset + count) break
    p.exec.budget.tick()
    const key = row.slice(width).map((v) => encodeValue(v))
    if (!p.exec.rows.lock(table.name, key, mode, policy)) continue
    if (kept++ >= offset) out.push(row.slice(0, width))
  }
  return { command: 'SELECT', rowCount: out.length, columns: rel.columns.slice(0, width), rows: out }
}

/** OFFSET and LIMIT of the statement (null count: no LIMIT). */
function limits(stmt: SelectStmt, p: PlanCtx): { offset: number; count: number | null } {
  const cctx = makeCompileCtx(p, new Scope([]))
  const value = (n: Node | undefined): bigint | null => {
    if (n === undefined || ('A_Const' in n && n.A_Const.isnull)) return null
    const v = coerce(compileExpr(n, cctx), T.int8, 'implicit', p.exec.nowMicros).eval({ row: [], outer: null })
    return v === null ? null : BigInt(v as bigint)
  }
  const off = value(stmt.limitOffset)
  if (off !== null && off < 0n) throw new SqlError(SqlState.invalidRowCountInOffset, 'OFFSET must not be negative')
  const count = value(stmt.limitCount)
  if (count !== null && count < 0n) throw new SqlError(SqlState.invalidRowCountInLimit, 'LIMIT must not be negative')
  return { offset: off === null ? 0 : Number(off), count: count === null ? null : Number(count) }
}
