/**
 * Catalog probes: a SELECT naming a pg_catalog relation or function (`pg_catalog.pg_x`).
 * GUIs send many at start-up, some for catalogs Concord does not have; a session opened
 * with `lenientCatalogProbes` (the wire server's) answers one that fails for a missing
 * relation, function or object with no rows, so the GUI's connection survives. Inside a
 * transaction block the error stands: it has aborted the block, and hiding it would lie.
 */
import type { Node } from 'libpg-query'
import { nameList } from '../parser/name-list.js'
import type { Statement } from '../parser/statement.js'
import { SqlState } from '../errors/sql-error.js'
import { asSqlError } from '../errors/runtime-error.js'

const MISSING: ReadonlySet<string> = new Set([SqlState.undefinedTable, SqlState.undefinedFunction, SqlState.undefinedObject])

/** Whether `error` from running `statement` is a failed catalog probe. */
export function isFailedCatalogProbe(statement: Statement, error: unknown): boolean {
  const code = (asSqlError(error) as { code?: unknown }).code
  return typeof code === 'string' && MISSING.has(code) && statement.kind === 'pg' && 'SelectStmt' in statement.node && namesPgCatalog(statement.node)
}

function namesPgCatalog(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some(namesPgCatalog)
  const o = node as Record<string, unknown>
  const rv = o['RangeVar'] as { schemaname?: string; relname?: string } | undefined
  if (rv?.schemaname === 'pg_catalog' && rv.relname?.startsWith('pg_')) return true
  const call = o['FuncCall'] as { funcname?: Node[] } | undefined
  if (call) {
    const names = nameList(call.funcname)
    if (names.length === 2 && names[0] === 'pg_catalog' && names[1]!.startsWith('pg_')) return true
  }
  return Object.values(o).some(namesPgCatalog)
}
