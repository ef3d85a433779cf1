/**
 * A user function as the replicated catalog stores it (kind `function`, keyed by name):
 * read defensively, since any node may have written it.
 */
import type { Json } from '@concord/core'
import type { SqlType, TypeId } from '../types/sql-type.js'

export interface UserFunction {
  name: string
  args: Array<{ name: string | null; type: SqlType }>
  returns: SqlType
  body: string
  language: string
}

export function functionFromCatalog(v: Json): UserFunction | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  const o = v as { name?: string; args?: Array<{ name: string | null; type: { id: TypeId } }>; returns?: { id: TypeId }; body?: string; language?: string }
  if (typeof o.name !== 'string' || typeof o.body !== 'string') return undefined
  return {
    name: o.name,
    args: (o.args ?? []).map((a) => ({ name: a.name, type: a.type as SqlType })),
    returns: (o.returns ?? { id: 'void' }) as SqlType,
    body: o.body,
    language: o.language ?? 'sql',
  }
}
