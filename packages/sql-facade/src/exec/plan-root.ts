/**
 * Where a plan starts: the planning context of one statement (or of an expression the
 * executor compiles on its own, a DEFAULT or a SQL function body), with the subplanner
 * that lets plan/ recurse into inner SELECTs and run data-modifying CTEs without
 * importing the executor.
 */
import { planSelect } from '../plan/select.js'
import type { CteEntry, PlanCtx, Subplanner } from '../plan/plan-context.js'
import type { ExecCtx } from '../runtime/context.js'
import { execDelete, execInsert, execUpdate } from './dml.js'

const SUBPLANNER: Subplanner = {
  select: planSelect,
  modify: (stmt, p) => ('InsertStmt' in stmt ? execInsert(stmt.InsertStmt, p) : 'UpdateStmt' in stmt ? execUpdate(stmt.UpdateStmt, p) : execDelete(stmt.DeleteStmt, p)),
}

/** A fresh planning context over `exec`: no CTEs yet. */
export function rootPlanCtx(exec: ExecCtx, shardLocation = false, tableOid = false): PlanCtx {
  return { exec, ctes: exec.transitionTables === undefined ? NO_CTES : transitionCtes(exec.transitionTables), shardLocation, tableOid, sub: SUBPLANNER }
}

/** The CTEs of a statement outside a trigger: none (shared; CteMap is never changed in place). */
const NO_CTES: PlanCtx['ctes'] = new Map()

function transitionCtes(tables: NonNullable<ExecCtx['transitionTables']>): PlanCtx['ctes'] {
  const ctes = new Map<string, CteEntry>()
  for (const [name, relation] of tables) ctes.set(name, { relation })
  return ctes
}
