/**
 * Domains (CREATE DOMAIN name AS base [DEFAULT ..] [NOT NULL] [CHECK (..)]): a base type
 * with constraints. A domain's `SqlType` is its base type's with `domain` attached, so
 * every operator, function and comparison treats a value as the base type; the name is
 * what format_type and pg_type show. The constraints are checked where a value becomes
 * of the domain: a cast to it (`'x'::d`) and a write into a column of it
 * (expr/domain-check.ts compiles them).
 *
 * A domain is catalog object `('domain', name)` holding its base type (as resolved at
 * CREATE DOMAIN, a domain over a domain inheriting that one's constraints), NOT NULL,
 * DEFAULT and CHECK expressions (parse trees, `VALUE` naming the value).
 *
 * Invariants: check names are distinct; decoding trusts nothing, a malformed object
 * reads as no domain.
 */
import type { Json } from '@concord/core'
import type { DomainInfo, SqlType } from './sql-type.js'

export type { DomainInfo }

export const DOMAIN_KIND = 'domain'


function isRecord(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A domain's constraints as stored (in the catalog object or a column type's copy); null when malformed. */
export function decodeDomainInfo(v: Json | undefined): DomainInfo | null {
  if (!isRecord(v) || typeof v['name'] !== 'string' || !Array.isArray(v['checks'])) return null
  const checks: DomainInfo['checks'] = []
  for (const c of v['checks']) {
    if (!isRecord(c) || typeof c['name'] !== 'string' || c['expr'] === undefined) return null
    checks.push({ name: c['name'], expr: c['expr'] })
  }
  return { name: v['name'], notNull: v['notNull'] === true, default: v['default'] ?? null, checks }
}

/** The domain `name` as a type: its base type with the domain's constraints; undefined when there is none. */
export function decodeDomain(v: Json | undefined): SqlType | undefined {
  if (!isRecord(v) || !isRecord(v['base']) || typeof v['base']['id'] !== 'string') return undefined
  const info = decodeDomainInfo(v['info'])
  if (!info) return undefined
  return { ...(v['base'] as unknown as SqlType), domain: info }
}

export function encodeDomain(base: SqlType, info: DomainInfo): Json {
  const plain: SqlType = { ...base }
  delete plain.domain
  return { base: plain as unknown as Json, info: info as unknown as Json }
}
