/**
 * Name resolution for expressions: a scope lists the columns visible at one query level
 * (with the table alias each came from) and links to the enclosing query's scope, so
 * correlated subqueries resolve outer columns. At run time an `Env` mirrors the chain.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

export interface ColumnBinding {
  name: string
  /** Alias or table name the column is qualified by; null for computed columns. */
  table: string | null
  type: SqlType
  /** Hidden columns (the implicit `_rowid`) are not expanded by `*`. */
  hidden?: boolean
  /** The right-hand copy of a JOIN .. USING column: reachable only qualified. */
  usingDup?: boolean
  /** For a base table column: what a stored NULL reads as (catalog/column-read.ts). */
  fill?: RtValue
}

export interface Env {
  row: RtValue[]
  outer: Env | null
  /** Aggregate results of the current group, when evaluating a grouped query's outputs. */
  aggs?: RtValue[]
  /** Window-function results of the current row (see expr/window). */
  wins?: RtValue[]
  /** Values of the select list's set-returning calls for this output row (see expr/project-set). */
  srfs?: RtValue[]
}

export interface Resolved {
  depth: number
  index: number
  binding: ColumnBinding
}

export class Scope {
  readonly columns: ColumnBinding[]
  readonly parent: Scope | null
  readonly probe: { correlated: boolean } | null

  constructor(
    columns: ColumnBinding[],
    parent: Scope | null = null,
    /** Set on the enclosing scope of a subquery: records that the subquery looked outside itself. */
    probe: { correlated: boolean } | null = null,
  ) {
    this.columns = columns
    this.parent = parent
    this.probe = probe
  }

  /** Finds `[table.]column` here or in an enclosing scope; null when absent everywhere. */
  resolve(names: string[]): Resolved | null {
    let scope: Scope | null = this
    let depth = 0
    const probes: Array<{ correlated: boolean }> = []
    while (scope) {
      if (scope.probe) probes.push(scope.probe)
      const found = scope.find(names)
      if (found !== null) {
        for (const p of probes) p.correlated = true
        return { depth, index: found, binding: scope.columns[found]! }
      }
      scope = scope.parent
      depth++
    }
    return null
  }

  private find(names: string[]): number | null {
    const col = names[names.length - 1]!
    const table = names.length >= 2 ? names[names.length - 2]! : null
    let hit: number | null = null
    for (let i = 0; i < this.columns.length; i++) {
      const c = this.columns[i]!
      if (c.name !== col) continue
      if (table !== null && c.table !== table) continue
      if (table === null && c.usingDup) continue
      if (hit !== null) throw new SqlError(SqlState.ambiguousColumn, `column reference "${col}" is ambiguous`)
      hit = i
    }
    return hit
  }

  /**
   * A whole-row reference: the visible columns of FROM item `table`, here or in an
   * enclosing scope (the nearest), with their depth; null when no item has that name.
   */
  wholeRow(table: string): { depth: number; indexes: number[]; columns: ColumnBinding[] } | null {
    let scope: Scope | null = this
    for (let depth = 0; scope; depth++, scope = scope.parent) {
      const indexes: number[] = []
      scope.columns.forEach((c, i) => { if (c.table === table && !c.hidden) indexes.push(i) })
      if (indexes.length > 0 || scope.hasTable(table)) return { depth, indexes, columns: indexes.map((i) => scope!.columns[i]!) }
    }
    return null
  }

  /** Whether a table alias is visible at this level. */
  hasTable(name: string): boolean {
    return this.columns.some((c) => c.table === name)
  }
}

export function envAt(env: Env, depth: number): Env {
  let e = env
  for (let i = 0; i < depth; i++) e = e.outer!
  return e
}
