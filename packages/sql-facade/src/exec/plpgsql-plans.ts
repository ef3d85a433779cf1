/**
 * What one PL/pgSQL call keeps of its expressions and SQL statements between two runs of
 * them: the parse tree with the body's variables replaced by parameters (bound once, not
 * at every evaluation), and for a simple expression (a SELECT of expressions alone: no
 * FROM, no subquery, no aggregate) its plan, run again with the variables' new values, as
 * PostgreSQL's PL/pgSQL keeps a plan per expression. A loop of `x := x + 1` then costs an
 * evaluation, not a parse, a bind and a plan (docs/decisions/0039-pausable-plpgsql.md).
 *
 * Invariants:
 * - A bound tree is used again only when its variables have the types they had when it
 *   was bound (the same count of parameters, the same types): else it is bound afresh.
 * - A plan is used again only under the catalog it was planned against (the
 *   transaction's catalog writes and the role and search_path the same), never after the
 *   run paused (another session or a peer may have changed the catalog meanwhile:
 *   `forgetPlans`), and never while that same plan is running (a recursive call plans
 *   afresh). Its function calls are evaluated at every run, never folded
 *   (`PlanSlots.callsPerRun`): current_setting after set_config, currval after nextval.
 * - A transaction whose catalog writes are not counted (`catalogWrites` absent) keeps no plan.
 */
import type { Node } from 'libpg-query'
import type { ExecCtx } from '../runtime/context.js'
import type { Relation } from '../relation/relation.js'
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { PlNode } from './plpgsql-compile.js'

/** Bound trees one call keeps; past it (a body of EXECUTEs of ever new text), none more are kept. */
const MAX_BOUND = 512

/** A simple expression's plan, over a context whose parameters each evaluation sets. */
export interface ExprPlan {
  rel: Relation
  live: ExecCtx & { params: RtValue[]; paramTypes: SqlType[] }
  /** The catalog it was planned under (`planCatalog`). */
  catalog: PlanCatalog
  running: boolean
}

export interface BoundText {
  /** The parse tree, its variables replaced by parameters $1 ..: never changed once bound. */
  readonly tree: PlNode
  /** The variable references replaced, in parameter order (a record.* stands for several). */
  readonly refs: readonly PlNode[]
  /** The parameters' types when bound. */
  readonly types: readonly SqlType[]
  /** Undefined: not planned yet; null: not a simple expression (planned at every evaluation). */
  plan: ExprPlan | null | undefined
}

export class BodyPlans {
  private readonly bound = new Map<string, BoundText>()

  get(text: string): BoundText | undefined {
    return this.bound.get(text)
  }

  set(text: string, b: BoundText): void {
    if (this.bound.size < MAX_BOUND || this.bound.has(text)) this.bound.set(text, b)
  }

  /** The run paused: the catalog may have changed meanwhile, so no plan is used again. */
  forgetPlans(): void {
    for (const b of this.bound.values()) if (b.plan) b.plan = undefined
  }
}

/** What a plan was made under: the transaction's catalog writes, the role, search_path. */
export interface PlanCatalog {
  writes: number
  roleOid: number
  searchPath: string
}

/** The catalog a plan made now is valid under; null: unknown (keep no plan). */
export function planCatalog(ctx: ExecCtx): PlanCatalog | null {
  const writes = ctx.tx.catalogWrites
  if (writes === undefined) return null
  return { writes, roleOid: ctx.role.oid, searchPath: ctx.settings.show('search_path') ?? '' }
}

/** Whether `ctx` still sees the catalog `c` describes. */
export function sameCatalog(c: PlanCatalog, ctx: ExecCtx): boolean {
  return ctx.tx.catalogWrites === c.writes && ctx.role.oid === c.roleOid && (ctx.settings.show('search_path') ?? '') === c.searchPath
}

/** Whether two parameter type lists are the same types (by value: types are rebuilt by casts and reads). */
export function sameTypes(a: readonly SqlType[], b: readonly SqlType[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && JSON.stringify(a[i]) !== JSON.stringify(b[i])) return false
  return true
}

const SIMPLE_SELECT_KEYS = new Set(['targetList', 'op', 'limitOption'])

/**
 * Whether a bound `SELECT <expr>` is a simple expression whose plan may run again: a
 * target list alone, with no subquery, aggregate, window or set-returning call in it.
 */
export function simpleExpression(tree: PlNode, isSetOrAggregate: (name: string) => boolean): boolean {
  const select = tree.SelectStmt as Record<string, unknown> | undefined
  if (select === undefined) return false
  for (const [k, v] of Object.entries(select)) {
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue
    if (!SIMPLE_SELECT_KEYS.has(k)) return false
  }
  if ((select.op ?? 'SETOP_NONE') !== 'SETOP_NONE' || (select.limitOption ?? 'LIMIT_OPTION_DEFAULT') !== 'LIMIT_OPTION_DEFAULT') return false
  const ok = (n: unknown): boolean => {
    if (Array.isArray(n)) return n.every(ok)
    if (n === null || typeof n !== 'object') return true
    const node = n as Record<string, unknown>
    if ('SubLink' in node || 'GroupingFunc' in node) return false
    const call = (node as Node & { FuncCall?: { funcname?: Node[]; over?: unknown; agg_star?: boolean; agg_order?: unknown; agg_filter?: unknown } }).FuncCall
    if (call !== undefined) {
      if (call.over !== undefined || call.agg_star === true || call.agg_order !== undefined || call.agg_filter !== undefined) return false
      const names = call.funcname ?? []
      const last = names[names.length - 1]
      const name = last !== undefined && 'String' in last ? (last.String.sval ?? '') : ''
      if (isSetOrAggregate(name.toLowerCase())) return false
    }
    return Object.values(node).every(ok)
  }
  return ok(select.targetList)
}
