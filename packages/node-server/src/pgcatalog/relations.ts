/**
 * The relations a PostgreSQL client sees in pg_class, built from the replica's catalog:
 * tables (relkind 'r'), partitioned tables ('p'), their indexes ('i': the primary key
 * and every catalog index object), with the columns, defaults and constraints psql's
 * `\d` shows.
 *
 * Invariants: an OID is a pure function of the relation's kind and name, so every node
 * and every connection reports the same OID for the same table, and the OID psql reads
 * in one query finds the same relation in the next; hidden columns (`_rowid`) and
 * hidden primary keys never appear.
 */
import type { Json, TableInfo } from '@concord/core'
import { exprText } from './expr-text.js'

export interface CatalogSource {
  tables(): TableInfo[]
  listCatalog(kind: string): Array<[string, Json]>
}

export interface Attribute {
  name: string
  /** format_type() text: 'integer', 'numeric(10,2)', 'character varying(20)'. */
  type: string
  notNull: boolean
  /** Default or generation expression text, or null. */
  default: string | null
  generated: boolean
}

export interface IndexRelation {
  oid: number
  name: string
  columns: string[]
  primary: boolean
  unique: boolean
  /** 'p' or 'u' when the index backs a constraint. */
  constraint: 'p' | 'u' | null
}

export interface TableRelation {
  oid: number
  name: string
  kind: 'r' | 'p'
  attributes: Attribute[]
  indexes: IndexRelation[]
  checks: Array<{ name: string; def: string }>
  /** 'HASH (customer_id)' for a partitioned table. */
  partitionKey: string | null
  partitionOf: string | null
  /** 'FOR VALUES WITH (modulus 2, remainder 0)' for a partition. */
  partitionBound: string | null
  regions: string[] | null
}

const FIRST_USER_OID = 16384
const OID_SPAN = 2 ** 31 - FIRST_USER_OID

/** FNV-1a of the kind and name, mapped into the user OID range. */
export function relationOid(kind: 'table' | 'index', name: string): number {
  let h = 0x811c9dc5
  const s = `${kind}\u0000${name}`
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return FIRST_USER_OID + (h % OID_SPAN)
}

function record(v: Json | undefined): Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : {}
}

function boundText(bound: Json | undefined): string | null {
  const b = record(bound)
  if (typeof b['modulus'] === 'number') return `FOR VALUES WITH (modulus ${b['modulus']}, remainder ${String(b['remainder'] ?? 0)})`
  const lit = (v: Json): string => (v === null ? 'NULL' : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v))
  const list = (v: Json | undefined): string => (Array.isArray(v) ? v.map(lit).join(', ') : lit(v ?? null))
  if (b['values'] !== undefined) return `FOR VALUES IN (${list(b['values'])})`
  if (b['from'] !== undefined || b['to'] !== undefined) return `FOR VALUES FROM (${list(b['from'])}) TO (${list(b['to'])})`
  if (b['default'] === true) return 'DEFAULT'
  return null
}

/** Every table the replica knows, in name order. */
export function tableRelations(source: CatalogSource): TableRelation[] {
  const indexObjects = source.listCatalog('index').map(([, v]) => record(v))
  return source
    .tables()
    .map((t) => tableRelation(t, indexObjects))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

function tableRelation(t: TableInfo, indexObjects: Array<Record<string, Json>>): TableRelation {
  const meta = record(t.meta)
  const attributes: Attribute[] = []
  for (const c of t.columns) {
    const m = record(c.meta)
    if (m['hidden'] === true) continue
    const generated = m['generated'] !== undefined && m['generated'] !== null
    const def = generated ? exprText(m['generated']) : m['default'] !== undefined && m['default'] !== null ? exprText(m['default']) : m['serial'] === true ? 'concord_next_id()' : null
    attributes.push({ name: c.name, type: c.type, notNull: m['notNull'] === true || t.primaryKey.includes(c.name), default: def, generated })
  }
  const visible = new Set(attributes.map((a) => a.name))
  const indexes: IndexRelation[] = []
  if (t.primaryKey.length > 0 && t.primaryKey.every((k) => visible.has(k))) {
    const name = `${t.name}_pkey`
    indexes.push({ oid: relationOid('index', name), name, columns: [...t.primaryKey], primary: true, unique: true, constraint: 'p' })
  }
  const uniques = Array.isArray(meta['uniques']) ? (meta['uniques'] as Json[]).filter(Array.isArray).map((u) => (u as Json[]).map(String)) : []
  const seen = new Set<string>()
  for (const ix of indexObjects) {
    if (ix['table'] !== t.name || typeof ix['name'] !== 'string') continue
    const columns = Array.isArray(ix['columns']) ? ix['columns'].map(String) : []
    const unique = ix['unique'] === true
    const isConstraint = unique && uniques.some((u) => u.join('\u0000') === columns.join('\u0000'))
    if (isConstraint) seen.add(columns.join('\u0000'))
    indexes.push({ oid: relationOid('index', ix['name']), name: ix['name'], columns, primary: false, unique, constraint: isConstraint ? 'u' : null })
  }
  for (const u of uniques) {
    if (seen.has(u.join('\u0000'))) continue
    const name = `${t.name}_${u.join('_')}_key`
    indexes.push({ oid: relationOid('index', name), name, columns: u, primary: false, unique: true, constraint: 'u' })
  }
  const checks = Array.isArray(meta['checks'])
    ? (meta['checks'] as Json[]).map(record).map((c) => ({ name: String(c['name'] ?? `${t.name}_check`), def: `CHECK (${exprText(c['expr'])})` }))
    : []
  const p = t.partitioning
  return {
    oid: relationOid('table', t.name),
    name: t.name,
    kind: p ? 'p' : 'r',
    attributes,
    indexes,
    checks,
    partitionKey: p ? `${p.method.toUpperCase()} (${p.columns.join(', ')})` : null,
    partitionOf: typeof meta['partitionOf'] === 'string' ? meta['partitionOf'] : null,
    partitionBound: boundText(meta['bound']),
    regions: t.regions,
  }
}

/** `CREATE [UNIQUE] INDEX name ON public.table USING btree (cols)`, as pg_get_indexdef prints it. */
export function indexDef(table: TableRelation, ix: IndexRelation): string {
  return `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${ix.name} ON public.${table.name} USING btree (${ix.columns.join(', ')})`
}

/** `PRIMARY KEY (id)` / `UNIQUE (sku)`, as pg_get_constraintdef prints it. */
export function constraintDef(ix: IndexRelation): string | null {
  if (ix.constraint === 'p') return `PRIMARY KEY (${ix.columns.join(', ')})`
  if (ix.constraint === 'u') return `UNIQUE (${ix.columns.join(', ')})`
  return null
}
