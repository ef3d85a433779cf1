/**
 * What planning one statement carries: the executor context, the statement's CTEs, and
 * the ways planning recurses into statements inside the statement. Those are injected by
 * whoever starts a plan (`exec/plan-root.ts`), so the files of plan/ never import each
 * other in a loop (SELECT plans FROM and WITH, which plan SELECTs again) and never
 * import the executor (a data-modifying CTE runs executor code).
 */
import type { DeleteStmt, InsertStmt, SelectStmt, UpdateStmt } from 'libpg-query'
import type { ExecCtx } from '../runtime/context.js'
import type { CompileCtx } from '../expr/compile-context.js'
import type { ColumnBinding, Scope } from '../relation/scope.js'
import type { RtValue } from '../types/value.js'
import type { Relation } from '../relation/relation.js'
import type { ColumnUse } from '../parser/column-use.js'

export interface CteEntry {
  relation: Relation
  /** A data-modifying CTE without RETURNING: it cannot be read. */
  noReturning?: boolean
  /** The working table of a recursive CTE, read from inside its recursive term (new rows every round). */
  recursiveSelf?: boolean
  /**
   * The scope enclosing the WITH: the CTE's own outer references resolve from there, so a
   * read from a deeper subquery passes the enclosing row of that level (plan/from.ts).
   */
  home?: { scope: Scope | null }
}

/** CTEs by name; a plan context never changes its own: a WITH plans over a copy with its names added. */
export type CteMap = ReadonlyMap<string, CteEntry>

/** INSERT, UPDATE or DELETE inside WITH. */
export type ModifyingStatement = { InsertStmt: InsertStmt } | { UpdateStmt: UpdateStmt } | { DeleteStmt: DeleteStmt }

/** The statements inside a statement: planned (SELECT) or run (INSERT, UPDATE, DELETE). */
export interface Subplanner {
  /** Plans a SELECT whose enclosing query's scope is `parent` (subqueries, CTE bodies). */
  select(stmt: SelectStmt, p: PlanCtx, parent: Scope | null): Relation
  /** Runs a data-modifying CTE; its RETURNING columns and rows. */
  modify(stmt: ModifyingStatement, p: PlanCtx): { columns: ColumnBinding[]; rows: RtValue[][] }
}

export interface PlanCtx {
  exec: ExecCtx
  ctes: CteMap
  /** The statement names `shard_location`: base tables expose it as a hidden column. */
  shardLocation?: boolean
  /** The statement names `tableoid`: base tables expose it as a hidden column. */
  tableOid?: boolean
  /**
   * Which columns scans of the statement's own FROM items decode (parser/column-use.ts);
   * absent: every column. Set only for a top-level SELECT.
   */
  columnUse?: ColumnUse | null
  /** How many views deep this plan is (plan/view-scan.ts bounds it). */
  viewDepth?: number
  sub: Subplanner
}

export function makeCompileCtx(p: PlanCtx, scope: Scope): CompileCtx {
  return {
    exec: p.exec,
    scope,
    agg: null,
    planSubquery: (stmt, parent) => p.sub.select(stmt, p, parent),
  }
}
