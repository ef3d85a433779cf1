/**
 * A user function as the replicated catalog stores it (kind `function`, keyed by name):
 * read defensively, since any node may have written it.
 */
import type { Json } from '@concord/core'
import type { RowField, SqlType, TypeId } from '../types/sql-type.js'
import type { RowValue } from '../types/scalar-value.js'
import type { RtValue } from '../types/value.js'

export interface UserFunction {
  name: string
  args: Array<{ name: string | null; type: SqlType }>
  returns: SqlType
  body: string
  language: string
  /** LANGUAGE plpgsql: the CREATE FUNCTION text PL/pgSQL's parser reads (exec/plpgsql.ts). */
  source?: string
  /** RETURNS trigger: callable only as a trigger (exec/triggers.ts). */
  trigger?: boolean
  /** STRICT (RETURNS NULL ON NULL INPUT): a NULL argument gives NULL without running the body. */
  strict?: boolean
  /** RETURNS SETOF / TABLE: called in FROM, it yields a row per value (`returns` is one value's type). */
  setof?: boolean
  /** A SQL-standard body (RETURN expr, BEGIN ATOMIC): the SELECT it runs, as a parse tree (exec/function-ddl.ts). */
  bodyTree?: Json
  /**
   * IMMUTABLE or STABLE as declared; absent: VOLATILE (PostgreSQL's default, and what a
   * function stored before volatility was kept is taken as). Nothing is planned by it: it
   * decides whether a statement calling the function may move off the main thread
   * (session/offload-eligibility.ts).
   */
  volatility?: Volatility
}

/** A declared volatility other than VOLATILE. */
export type Volatility = 'immutable' | 'stable'

/** The volatility a CREATE / ALTER FUNCTION option names ('immutable', 'stable', 'volatile'); undefined for VOLATILE. */
export function volatilityOf(option: string): Volatility | undefined {
  const v = option.toLowerCase()
  return v === 'immutable' || v === 'stable' ? v : undefined
}

/** What a trigger function sees of the event that fired it (NEW, OLD, TG_*). */
export interface TriggerCall {
  name: string
  table: string
  relid: number
  when: 'BEFORE' | 'AFTER'
  level: 'ROW' | 'STATEMENT'
  op: 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE'
  args: string[]
  /** The table's visible columns, the fields of NEW and OLD. */
  fields: RowField[]
  newRow: RowValue | null
  oldRow: RowValue | null
  /** Transition tables (REFERENCING): the statement's old or new rows under the name the trigger gave them. */
  transition?: Array<{ name: string; rows: RtValue[][] }>
}

export function functionFromCatalog(v: Json): UserFunction | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  const o = v as { name?: string; args?: Array<{ name: string | null; type: { id: TypeId } }>; returns?: { id: TypeId }; body?: string; language?: string; source?: string; trigger?: boolean; strict?: boolean; bodyTree?: Json; setof?: boolean; volatility?: unknown }
  if (typeof o.name !== 'string' || typeof o.body !== 'string') return undefined
  return {
    name: o.name,
    args: (o.args ?? []).map((a) => ({ name: a.name, type: a.type as SqlType })),
    returns: (o.returns ?? { id: 'void' }) as SqlType,
    body: o.body,
    language: o.language ?? 'sql',
    ...(typeof o.source === 'string' ? { source: o.source } : {}),
    ...(o.trigger === true ? { trigger: true } : {}),
    ...(o.strict === true ? { strict: true } : {}),
    ...(o.setof === true ? { setof: true } : {}),
    ...(o.bodyTree !== undefined && o.bodyTree !== null ? { bodyTree: o.bodyTree } : {}),
    ...(o.volatility === 'immutable' || o.volatility === 'stable' ? { volatility: o.volatility } : {}),
  }
}
