/**
 * The relation a privilege applies to, by name: a table (its current incarnation), a
 * view or a sequence (incarnation 0: they have no rows of their own, and DROP VIEW / DROP
 * SEQUENCE remove their grants).
 * Undefined for names that are neither (system views, CTEs, missing tables), which
 * privilege checks leave to the planner to resolve or reject.
 */
import type { Json, TableInfo } from '@concord/core'
import { VIEW_KIND } from './view-def.js'
import { SEQUENCE_KIND } from '../sequences/sequence-definition.js'
import type { GrantTarget } from './role-directory.js'

export interface GrantTargetSource {
  table(name: string): TableInfo | undefined
  getCatalog(kind: string, name: string): Json | undefined
}

export function grantTarget(source: GrantTargetSource, name: string): GrantTarget | undefined {
  const t = source.table(name)
  if (t) return { name: t.name, incarnation: t.incarnation }
  const v = source.getCatalog(VIEW_KIND, name)
  if (typeof v === 'object' && v !== null) return { name, incarnation: 0 }
  const s = source.getCatalog(SEQUENCE_KIND, name)
  return typeof s === 'object' && s !== null ? { name, incarnation: 0 } : undefined
}

/** Whether `name` is a sequence (its privileges are USAGE, SELECT and UPDATE). */
export function isSequence(source: GrantTargetSource, name: string): boolean {
  if (source.table(name) !== undefined) return false
  const s = source.getCatalog(SEQUENCE_KIND, name)
  return typeof s === 'object' && s !== null
}
