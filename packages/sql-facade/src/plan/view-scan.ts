/**
 * Reading a user view in FROM: its stored query is planned afresh inside the statement
 * (so it reads what the statement's transaction sees), with no CTE of the enclosing
 * statement in sight, and its columns take the view's names.
 *
 * Invariants: a view yields exactly the columns it was created with (`*` added columns
 * of its tables later do not appear); expansion is bounded in depth, so views that came
 * to read each other (concurrent CREATE OR REPLACE on two nodes) fail with 42P17 rather
 * than recurse.
 */
import type { SelectStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ViewDef } from '../catalog/view-def.js'
import type { PlanCtx } from './plan-context.js'
import type { Relation } from '../relation/relation.js'

/** Views within views, at most. */
const MAX_VIEW_DEPTH = 64

export function planView(def: ViewDef, p: PlanCtx): Relation {
  const depth = (p.viewDepth ?? 0) + 1
  if (depth > MAX_VIEW_DEPTH) throw new SqlError(SqlState.invalidObjectDefinition, `infinite recursion detected in rules for relation "${def.name}"`)
  const rel = p.sub.select(def.query as unknown as SelectStmt, { ...p, ctes: new Map(), viewDepth: depth }, null)
  if (rel.columns.length < def.columns.length) {
    throw new SqlError(SqlState.objectNotInPrerequisiteState, `view "${def.name}" no longer matches the tables it reads`, { detail: `It has ${def.columns.length} columns; its query now yields ${rel.columns.length}.` })
  }
  const n = def.columns.length
  const columns = def.columns.map((c, i) => ({ ...rel.columns[i]!, name: c.name }))
  return { columns, rows: (outer) => (rel.columns.length === n ? rel.rows(outer) : rel.rows(outer).map((r) => r.slice(0, n))) }
}
