/**
 * The relation a privilege applies to, by name: a table (its current incarnation) or a
 * view (incarnation 0: a view has no data of its own, and DROP VIEW removes its grants).
 * Undefined for names that are neither (system views, CTEs, missing tables), which
 * privilege checks leave to the planner to resolve or reject.
 */
import type { Json, TableInfo } from '@concord/core'
import { VIEW_KIND } from './view-def.js'
import type { GrantTarget } from './role-directory.js'

export interface GrantTargetSource {
  table(name: string): TableInfo | undefined
  getCatalog(kind: string, name: string): Json | undefined
}

export function grantTarget(source: GrantTargetSource, name: string): GrantTarget | undefined {
  const t = source.table(name)
  if (t) return { name: t.name, incarnation: t.incarnation }
  const v = source.getCatalog(VIEW_KIND, name)
  return typeof v === 'object' && v !== null ? { name, incarnation: 0 } : undefined
}
