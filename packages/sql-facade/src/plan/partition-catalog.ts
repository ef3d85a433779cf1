/**
 * The catalog partition routing reads (partition-view.ts `PartitionCatalog`), as a
 * statement sees it: its transaction's tables and an expression-key compiler bound to
 * the statement's plan context (so `PARTITION BY RANGE ((b + 0))` keys evaluate as
 * PostgreSQL evaluates them, with the statement's settings).
 */
import type { Json } from '@concord/core'
import type { Node } from 'libpg-query'
import { tableMeta } from '../catalog/table-meta.js'
import { compileExpr } from '../expr/compile.js'
import { Scope, type ColumnBinding } from '../expr/scope.js'
import type { RtValue } from '../types/value.js'
import type { PartitionCatalog } from './partition-view.js'
import { makeCompileCtx, type PlanCtx } from './plan-context.js'

export function partitionCatalog(p: PlanCtx): PartitionCatalog {
  return {
    table: (name) => p.exec.tx.table(name),
    partitionsOf: (name) => p.exec.allTables().filter((t) => tableMeta(t).partitionOf === name),
    keyExpr: (expr: Json, cols: ColumnBinding[]) => {
      const c = compileExpr(expr as unknown as Node, makeCompileCtx(p, new Scope(cols)))
      return (row: RtValue[]) => c.eval({ row, outer: null })
    },
  }
}
