/**
 * The catalog partition routing reads (placement/partition-view.ts `PartitionCatalog`), as a
 * statement sees it: its transaction's tables and an expression-key compiler bound to
 * the statement's plan context (so `PARTITION BY RANGE ((b + 0))` keys evaluate as
 * PostgreSQL evaluates them, with the statement's settings).
 */
import type { Json, TableInfo } from '@concord/core'
import { objectOid } from '../catalog/catalog-model.js'
import type { Node } from 'libpg-query'
import { tableMeta } from '../catalog/table-meta.js'
import { compileExpr } from '../expr/compile.js'
import { Scope, type ColumnBinding } from '../relation/scope.js'
import type { RtValue } from '../types/value.js'
import { routeToLeaf, type PartitionCatalog } from '../placement/partition-view.js'
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

/**
 * The `tableoid` of rows laid out as `cols` read through `read`: its own OID, or for a
 * partitioned table the OID of the leaf partition each row routes to.
 */
export function tableOidReader(p: PlanCtx, read: TableInfo, cols: ColumnBinding[]): (row: RtValue[]) => number {
  const own = objectOid('table', read.name)
  if (!read.partitioning) return () => own
  const route = routeToLeaf(read, cols, partitionCatalog(p))
  return (row) => {
    const leaf = route(row).leaf
    return leaf ? objectOid('table', leaf.name) : own
  }
}
