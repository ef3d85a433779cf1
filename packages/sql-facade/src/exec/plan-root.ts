/**
 * Where a plan starts: the planning context of one statement (or of an expression the
 * executor compiles on its own, a DEFAULT or a SQL function body), with the subplanner
 * that lets plan/ recurse into inner SELECTs and run data-modifying CTEs without
 * importing the executor.
 */
import { planSelect } from '../plan/select.js'
import type { PlanCtx, Subplanner } from '../plan/plan-context.js'
import type { ExecCtx } from '../runtime/context.js'
import { execDelete, execInsert, execUpdate } from './dml.js'

const SUBPLANNER: Subplanner = {
  select: planSelect,
  modify: (stmt, p) => ('InsertStmt' in stmt ? execInsert(stmt.InsertStmt, p) : 'UpdateStmt' in stmt ? execUpdate(stmt.UpdateStmt, p) : execDelete(stmt.DeleteStmt, p)),
}

/** A fresh planning context over `exec`: no CTEs yet. */
export function rootPlanCtx(exec: ExecCtx, shardLocation = false, tableOid = false): PlanCtx {
  const ctes: PlanCtx['ctes'] = new Map()
  for (const [name, relation] of exec.transitionTables ?? []) ctes.set(name, { relation })
  return { exec, ctes, shardLocation, tableOid, sub: SUBPLANNER }
}
