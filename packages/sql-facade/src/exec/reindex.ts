/**
 * REINDEX { INDEX | TABLE | SCHEMA | DATABASE | SYSTEM } [CONCURRENTLY] name.
 *
 * Concord keeps no index structure that could go stale or bloat: a secondary index is a
 * catalog record the planner reads, and a unique index is checked against the table's
 * rows on every write. Rebuilding one therefore has nothing to redo, and REINDEX succeeds
 * once its target is checked the way PostgreSQL checks it: the index or table must exist
 * and be of the named kind (42P01, 42809), a schema must exist (3F000), and DATABASE /
 * SYSTEM name the current database (0A000). CONCURRENTLY inside a transaction block is
 * refused by the session (25001), as PostgreSQL refuses it.
 */
import { schemaExists } from '../catalog/schema-def.js'
import type { ReindexStmt } from 'libpg-query'
import type { IndexDef } from '../catalog/secondary-index.js'
import { readView } from '../catalog/view-def.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { PlanCtx } from '../plan/plan-context.js'
import { utility, type StatementResult } from '../runtime/result.js'

/** Whether the statement asks for CONCURRENTLY (`REINDEX (CONCURRENTLY) ..` or `REINDEX .. CONCURRENTLY ..`). */
export function reindexConcurrently(stmt: ReindexStmt): boolean {
  return (stmt.params ?? []).some((o) => 'DefElem' in o && o.DefElem.defname === 'concurrently' && !(o.DefElem.arg && 'Boolean' in o.DefElem.arg && o.DefElem.arg.Boolean.boolval === false))
}

export function execReindex(stmt: ReindexStmt, p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const name = stmt.relation?.relname ?? stmt.name ?? ''
  const isIndex = (tx.getCatalog('index', name) ?? null) !== null
  const isRelation = tx.table(name) !== undefined || readView(tx, name) !== undefined
  switch (stmt.kind) {
    case 'REINDEX_OBJECT_INDEX': {
      if (isIndex) {
        const def = tx.getCatalog('index', name) as unknown as IndexDef
        if (!tx.table(def.table)) throw new SqlError(SqlState.undefinedTable, `relation "${def.table}" does not exist`)
        break
      }
      if (isRelation) throw new SqlError(SqlState.wrongObjectType, `"${name}" is not an index`)
      throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
    }
    case 'REINDEX_OBJECT_TABLE': {
      if (tx.table(name)) break
      if (isIndex || isRelation) throw new SqlError(SqlState.wrongObjectType, `"${name}" is not a table or materialized view`)
      throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
    }
    case 'REINDEX_OBJECT_SCHEMA': {
      if (!schemaExists(p.exec.tx, name)) throw new SqlError(SqlState.invalidSchemaName, `schema "${name}" does not exist`)
      break
    }
    default: {
      // DATABASE / SYSTEM: only the database of this session.
      if (stmt.name && stmt.name !== p.exec.database) {
        throw new SqlError(SqlState.featureNotSupported, 'can only reindex the currently open database')
      }
      if (reindexConcurrently(stmt) && stmt.kind === 'REINDEX_OBJECT_SYSTEM') {
        throw new SqlError(SqlState.featureNotSupported, 'cannot reindex system catalogs concurrently')
      }
    }
  }
  return utility('REINDEX')
}
