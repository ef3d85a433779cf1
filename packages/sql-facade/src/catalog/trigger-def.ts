/**
 * A trigger as its table's meta stores it (CREATE TRIGGER, exec/triggers.ts): replicated
 * with the table's definition, so every node holds it; it fires on the node that runs
 * a statement, never when a peer's changes are applied (docs/compatibility.md).
 */
import type { Json } from '@concord/core'

export type TriggerEvent = 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE'

export interface TriggerDef {
  name: string
  timing: 'BEFORE' | 'AFTER'
  level: 'ROW' | 'STATEMENT'
  events: TriggerEvent[]
  /** UPDATE OF these columns only (empty: any UPDATE). */
  columns: string[]
  /** The trigger function's name (a user function returning trigger). */
  fn: string
  args: string[]
  /** The WHEN condition's parse tree, or null. */
  when: Json | null
  /** REFERENCING OLD TABLE AS / NEW TABLE AS: the names the statement's old and new rows go by in the function. */
  oldTable?: string
  newTable?: string
  /** ALTER TABLE .. DISABLE TRIGGER. */
  disabled?: boolean
}

/** Triggers read from a table's meta, defensively (any node may have written it). */
export function decodeTriggers(v: Json | undefined): TriggerDef[] {
  if (!Array.isArray(v)) return []
  return v.filter((t): t is Json & object => typeof t === 'object' && t !== null && !Array.isArray(t) && typeof (t as { name?: unknown }).name === 'string')
    .map((t) => t as unknown as TriggerDef)
}
