/**
 * Whether a new relation would take a system view's name. Relations share one namespace
 * here and a user's relation resolves before a system view (plan/from.ts), so a table
 * named like a PostgreSQL catalog view would hide what psql and drivers read: those names
 * are refused (42P07). `query_result_cache` is Concord's own view and a name an
 * application may well have given a table of its own (the seed's read-scaling example
 * does): it may be taken, and the user's relation then shadows the view
 * (docs/placement.md).
 */
import { RESULT_CACHE_VIEW } from '../placement/result-cache.js'
import type { ExecCtx } from '../runtime/context.js'

export function takesSystemViewName(exec: ExecCtx, name: string): boolean {
  return name !== RESULT_CACHE_VIEW && exec.systemView('pg_catalog', name) !== null
}
