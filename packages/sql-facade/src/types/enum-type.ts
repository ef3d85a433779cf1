/**
 * Enum types (CREATE TYPE .. AS ENUM): their labels, how a type is kept in the
 * replicated catalog, and the runtime value of an enum.
 *
 * A type is catalog object `('enum', name)` holding its labels, each with a sort order
 * (a float, as pg_enum.enumsortorder: 1, 2, 3 .. at creation; ADD VALUE takes max + 1 at
 * the end or the midpoint between its neighbours) and a stable id (what rows store, so
 * RENAME VALUE changes no row). The `SqlType` of an enum carries the type's name and a
 * copy of its labels, so every conversion and comparison is a pure function of the type;
 * ALTER TYPE rewrites the copies in the columns that use the type (exec/enum-ddl.ts).
 *
 * Invariants: labels are distinct, 1..63 bytes, in ascending sort order; ids are
 * distinct within a type. Decoding trusts nothing: a malformed object reads as no type.
 * An `EnumValue` orders by its sort order and groups by its label.
 */
import type { Json } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'

export const ENUM_KIND = 'enum'

/** Bytes of a label, as PostgreSQL's NAMEDATALEN - 1. */
export const MAX_LABEL_BYTES = 63

export interface EnumLabel {
  label: string
  order: number
  /** Stable for the label's life (RENAME VALUE keeps it): what rows store. */
  id: number
}

/** One value of an enum type at run time: prints as its label, orders by its sort order. */
export class EnumValue {
  readonly label: string
  readonly order: number
  readonly id: number

  constructor(l: EnumLabel) {
    this.label = l.label
    this.order = l.order
    this.id = l.id
  }

  toString(): string {
    return this.label
  }

  compare(o: EnumValue): number {
    return this.order < o.order ? -1 : this.order > o.order ? 1 : 0
  }
}

/** What resolving type names needs from the catalog: the enum types it holds. */
export interface UserTypeSource {
  getCatalog(kind: string, name: string): Json | undefined
}

function labelId(type: string, label: string, taken: Set<number>): number {
  let h = 0x811c9dc5
  const s = `${type}\u0000${label}`
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  // Distinct within the type: a collision takes the next free id.
  let id = h % 2147483647
  while (taken.has(id)) id = (id + 1) % 2147483647
  return id
}

export function checkLabel(label: string): void {
  const bytes = new TextEncoder().encode(label).length
  if (bytes === 0 || bytes > MAX_LABEL_BYTES) {
    throw new SqlError(SqlState.invalidName, `invalid enum label "${label}"`, { detail: `Labels must be ${MAX_LABEL_BYTES} bytes or less.` })
  }
}

/** The labels of a new type, in the order given. */
export function newLabels(type: string, labels: string[]): EnumLabel[] {
  const seen = new Set<string>()
  const ids = new Set<number>()
  return labels.map((label, i) => {
    checkLabel(label)
    if (seen.has(label)) throw new SqlError(SqlState.invalidParameterValue, `enum label "${label}" used more than once`)
    seen.add(label)
    const id = labelId(type, label, ids)
    ids.add(id)
    return { label, order: i + 1, id }
  })
}

/**
 * `labels` with `label` added at the end, or just before or after `neighbor`: the sort
 * order is the midpoint of its neighbours, as PostgreSQL's (one below the first, one above the last); when float precision runs
 * out every label is renumbered 1, 2, 3 .. (rows store ids, so none changes).
 */
export function addLabel(type: string, labels: EnumLabel[], label: string, neighbor: string | null, after: boolean): EnumLabel[] {
  checkLabel(label)
  const ids = new Set(labels.map((l) => l.id))
  const id = labelId(type, label, ids)
  if (neighbor === null) {
    const last = labels.length ? labels[labels.length - 1]!.order : 0
    return [...labels, { label, order: last + 1, id }]
  }
  const at = labels.findIndex((l) => l.label === neighbor)
  if (at < 0) throw new SqlError(SqlState.invalidParameterValue, `"${neighbor}" is not an existing enum label`)
  const pos = after ? at + 1 : at
  // Before the first or after the last: one below or above it; else the midpoint.
  if (pos === 0) return [{ label, order: labels[0]!.order - 1, id }, ...labels]
  if (pos === labels.length) return [...labels, { label, order: labels[pos - 1]!.order + 1, id }]
  const lo = labels[pos - 1]!.order
  const hi = labels[pos]!.order
  const mid = Math.fround((lo + hi) / 2)
  const out = [...labels.slice(0, pos), { label, order: mid, id }, ...labels.slice(pos)]
  // pg_enum.enumsortorder is a float4: renumber when the midpoint is not strictly between.
  if (!(mid > lo && mid < hi)) return out.map((l, i) => ({ ...l, order: i + 1 }))
  return out
}

export function encodeEnum(labels: EnumLabel[]): Json {
  return { labels: labels.map((l) => ({ label: l.label, order: l.order, id: l.id })) }
}

/** The labels of a stored type object or a column type's copy; null when malformed. */
export function decodeLabels(v: Json | undefined): EnumLabel[] | null {
  const list = typeof v === 'object' && v !== null && !Array.isArray(v) ? v['labels'] : Array.isArray(v) ? v : undefined
  if (!Array.isArray(list)) return null
  const out: EnumLabel[] = []
  const seen = new Set<string>()
  for (const x of list) {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return null
    const { label, order, id } = x
    if (typeof label !== 'string' || typeof order !== 'number' || typeof id !== 'number' || seen.has(label)) return null
    if (out.length && out[out.length - 1]!.order >= order) return null
    seen.add(label)
    out.push({ label, order, id })
  }
  return out
}

/** The value of `text` in an enum type with `labels` (22P02 for a label it does not have). */
export function parseEnum(text: string, type: string, labels: readonly EnumLabel[]): EnumValue {
  const l = labels.find((x) => x.label === text)
  if (!l) throw new SqlError(SqlState.invalidTextRepresentation, `invalid input value for enum ${type}: "${text}"`)
  return new EnumValue(l)
}

/** A stored enum's value (by id, so renamed labels read under their new name). */
export function enumById(id: number, label: string, labels: readonly EnumLabel[]): EnumValue {
  const l = labels.find((x) => x.id === id) ?? labels.find((x) => x.label === label)
  // A label dropped with its type under a concurrent ALTER elsewhere: keep the stored text.
  return new EnumValue(l ?? { label, order: Number.NaN, id })
}
