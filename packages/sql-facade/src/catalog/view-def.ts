/**
 * A user view as the replicated catalog stores it: catalog kind `view`, keyed by name,
 * written through the core transaction like every other catalog object, so every node
 * that has the catalog has the view. Views and tables share one name space (a view may
 * not take a table's name), as PostgreSQL's relations do.
 *
 * Invariants: `columns` are the view's output columns, fixed when it was created (or
 * replaced): `SELECT *` in the query is expanded then, as in PostgreSQL; `relations`
 * are the user relations the query reads, what DROP .. RESTRICT/CASCADE consults.
 */
import type { Json } from '@concord/core'
import type { SqlType } from '../types/sql-type.js'

export const VIEW_KIND = 'view'

export interface ViewDef {
  name: string
  /** Output columns with the types the query had when the view was created. */
  columns: Array<{ name: string; type: SqlType }>
  /** The SELECT's parse tree (libpg-query JSON). */
  query: Json
  /** The SELECT's text as written, what pg_get_viewdef returns. */
  definition: string
  /** Names of the tables and views the query reads. */
  relations: string[]
  /** A session's temporary view (session/temp-schema.ts): never in the replicated catalog. */
  temporary?: boolean
  /** `WITH [LOCAL | CASCADED] CHECK OPTION` (exec/view-write.ts refuses writes through it). */
  checkOption?: 'local' | 'cascaded'
}

/** Where views are read from: a transaction or the replica. */
export interface ViewSource {
  getCatalog(kind: string, name: string): Json | undefined
  listCatalog(kind: string): Array<[string, Json]>
}

function asView(v: Json | undefined): ViewDef | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof v['name'] !== 'string') return undefined
  return v as unknown as ViewDef
}

export function readView(source: ViewSource, name: string): ViewDef | undefined {
  return asView(source.getCatalog(VIEW_KIND, name))
}

export function listViews(source: Pick<ViewSource, 'listCatalog'>): ViewDef[] {
  return source.listCatalog(VIEW_KIND).flatMap(([, v]) => asView(v) ?? [])
}

/**
 * The relation names a query reads: every unqualified (or `public.`) RangeVar, less the
 * names its own WITH clauses define.
 */
export function relationsRead(query: unknown): string[] {
  const found = new Set<string>()
  const ctes = new Set<string>()
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return
    if (Array.isArray(node)) {
      for (const x of node) walk(x)
      return
    }
    const o = node as Record<string, unknown>
    // A literal names no relation (a bulk INSERT's VALUES rows are thousands of them).
    if (o['A_Const'] !== undefined) return
    const rv = o['RangeVar'] as { relname?: string; schemaname?: string } | undefined
    if (rv?.relname && (rv.schemaname === undefined || rv.schemaname === 'public')) found.add(rv.relname)
    const cte = o['CommonTableExpr'] as { ctename?: string } | undefined
    if (cte?.ctename) ctes.add(cte.ctename)
    for (const k in o) walk(o[k])
  }
  walk(query)
  return [...found].filter((n) => !ctes.has(n)).sort()
}
