/**
 * What compiling an expression needs: the executor context, the scope names resolve in,
 * and the collectors of the query level being planned (aggregates, window functions,
 * set-returning calls), which compiled expressions read their values from at run time.
 */
import type { SelectStmt } from 'libpg-query'
import type { ExecCtx } from '../runtime/context.js'
import type { AggregateImpl } from '../functions/aggregate.js'
import type { SrfCollector } from './project-set.js'
import type { Relation } from '../relation/relation.js'
import type { WindowCollector } from './window.js'
import type { Compiled } from './compiled.js'
import type { Scope } from '../relation/scope.js'

export interface AggSlot {
  impl: AggregateImpl
  name: string
  args: Compiled[]
  distinct: boolean
  filter: Compiled | null
  seesNulls: boolean
  /** ORDER BY inside the call (string_agg(x, ',' ORDER BY y)): inputs are sorted first. */
  order: Array<{ key: Compiled; desc: boolean; nullsFirst: boolean }>
}

/** Collects the aggregate calls of a grouped query level. */
export class AggCollector {
  readonly slots: AggSlot[] = []
  /** Fingerprints of GROUP BY expressions: matching subexpressions may reference ungrouped columns. */
  readonly groupFingerprints = new Set<string>()
  /** Tables whose primary key is fully grouped (functional dependency). */
  readonly groupedTables = new Set<string>()
  readonly inputScope: Scope

  constructor(inputScope: Scope) {
    this.inputScope = inputScope
  }
}

export interface CompileCtx {
  exec: ExecCtx
  scope: Scope
  agg: AggCollector | null
  /** Plans a subquery whose outer scope is `parent`. */
  planSubquery(stmt: SelectStmt, parent: Scope): Relation
  /** Window-function calls of this query level; absent where they are not allowed (WHERE, ...). */
  win?: WindowCollector | null
  /** Set while compiling an aggregate's own arguments. */
  inAggregate?: boolean
  /** Set inside a GROUP BY-matched subexpression. */
  grouped?: boolean
  /** Set-returning calls of a select list; absent where they are not allowed (WHERE, CASE, ...). */
  srf?: SrfCollector | null
}
