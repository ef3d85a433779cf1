/**
 * DDL merge: how concurrent definitions of one table or column (catalog values no write
 * has superseded) resolve to the one every replica uses. The catalog's `value` column
 * resolves with this function; it is pure, and folded over the concurrent values in
 * (HLC, node id) order, so every replica computes the same definition.
 *
 * - Different origins (two CREATE TABLEs of one name, or two ADD COLUMNs of one name,
 *   made without seeing each other): the definition whose origin is earliest (`created`
 *   / `pos`, its CREATE's HLC) wins whole. A later, concurrent CREATE never changes
 *   what the earlier one defined: types, defaults, NOT NULL, constraints, options,
 *   primary key, column order. Columns only the later CREATE had are separate catalog
 *   rows with later positions: they are added after the existing ones.
 * - Same origin (concurrent ALTERs of one table or column): attribute by attribute
 *   (`type`, `policy`, `options` .., and each top-level key of `meta`), the most recent
 *   change wins, so changes to different attributes all apply; top-level arrays in
 *   `meta` (the SQL layer's CHECK and UNIQUE lists) are unions, so constraints added
 *   on both sides all hold.
 * - Anything else in the catalog (settings, functions, untagged older definitions):
 *   last write wins, as before.
 *
 * Invariants: the result is one of the inputs or a merge of two inputs of the same
 * origin; never throws (a malformed value loses to a well-formed one).
 */
import type { Json, Value } from '../types.js'
import { DEFINITION_TAG } from './catalog-schema.js'

/** The resolver name the catalog's value column uses (not a SQL identifier a user can register). */
export const CATALOG_MERGE = '$catalog-definitions'

type Definition = { [key: string]: Json }

function parseDefinition(v: Value): Definition | null {
  if (typeof v !== 'string' || !v.startsWith(`{"${DEFINITION_TAG}"`)) return null
  try {
    const o = JSON.parse(v) as unknown
    return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Definition) : null
  } catch {
    return null
  }
}

/** The origin of a definition: its CREATE's HLC (tables) or creation position (columns). */
function origin(d: Definition): number[] {
  if (d[DEFINITION_TAG] === 'table') return [typeof d.created === 'number' ? d.created : 0]
  const pos = d.pos
  return Array.isArray(pos) ? pos.map((x) => (typeof x === 'number' ? x : 0)) : [0, 0]
}

function compareOrigins(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Fields that are not attributes: the tag, the origin and the stamps themselves. */
const NOT_ATTRIBUTES = new Set([DEFINITION_TAG, 'created', 'pos', 'changed'])

/** A definition's attributes: top-level fields, with `meta` split into `meta.<key>` when both sides' meta are objects. */
function attributes(d: Definition, splitMeta: boolean): Map<string, Json | undefined> {
  const out = new Map<string, Json | undefined>()
  for (const [k, v] of Object.entries(d)) {
    if (NOT_ATTRIBUTES.has(k)) continue
    if (k === 'meta' && splitMeta && isObject(v)) for (const [mk, mv] of Object.entries(v)) out.set(`meta.${mk}`, mv)
    else out.set(k, v)
  }
  return out
}

function sameElement(a: Json, b: Json): boolean {
  if (isObject(a) && isObject(b) && typeof a.name === 'string') return a.name === b.name
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Set union keeping `a`'s order and `a`'s version of an element both hold (by `name` if any). */
function union(a: Json[], b: Json[]): Json[] {
  const out = [...a]
  for (const x of b) if (!out.some((y) => sameElement(x, y))) out.push(x)
  return out
}

function stamps(d: Definition): Record<string, number> {
  return isObject(d.changed) ? (d.changed as Record<string, number>) : {}
}

/** Concurrent ALTERs of one object: the latest change per attribute, unions for meta arrays. */
function mergeSameOrigin(x: Definition, y: Definition): Definition {
  const splitMeta = (isObject(x.meta) || x.meta === undefined) && (isObject(y.meta) || y.meta === undefined)
  const ax = attributes(x, splitMeta)
  const ay = attributes(y, splitMeta)
  const sx = stamps(x)
  const sy = stamps(y)
  const out: Definition = {}
  for (const k of NOT_ATTRIBUTES) if (x[k] !== undefined) out[k] = x[k]!
  const meta: { [key: string]: Json } = {}
  const changed: Record<string, number> = {}
  for (const k of new Set([...ax.keys(), ...ay.keys()])) {
    const vx = ax.get(k)
    const vy = ay.get(k)
    const tx = sx[k] ?? 0
    const ty = sy[k] ?? 0
    let v: Json | undefined
    if (k.startsWith('meta.') && Array.isArray(vx) && Array.isArray(vy)) v = union(vx, vy)
    else v = ty > tx ? vy : vx
    if (Math.max(tx, ty) > 0) changed[k] = Math.max(tx, ty)
    if (v === undefined) continue
    if (k.startsWith('meta.')) meta[k.slice(5)] = v
    else out[k] = v
  }
  if (splitMeta && (isObject(x.meta) || isObject(y.meta))) out.meta = meta
  out.changed = changed
  return out
}

/**
 * Resolves two concurrent catalog values, `a` written before `b` (HLC, node id). Used as
 * a fold over all concurrent values of one catalog row.
 */
export function mergeCatalogValues(a: Value, b: Value): Value {
  const x = parseDefinition(a)
  const y = parseDefinition(b)
  if (x === null || y === null || x[DEFINITION_TAG] !== y[DEFINITION_TAG]) return b
  const order = compareOrigins(origin(x), origin(y))
  if (order < 0) return a
  if (order > 0) return b
  return JSON.stringify(mergeSameOrigin(x, y))
}

/** The attributes in which `after` differs from `before`, for change stamps (same split as the merge). */
export function changedAttributes(beforeDef: object, afterDef: object): string[] {
  const before = beforeDef as Definition
  const after = afterDef as Definition
  const splitMeta = (isObject(before.meta) || before.meta === undefined) && (isObject(after.meta) || after.meta === undefined)
  const a = attributes(before, splitMeta)
  const b = attributes(after, splitMeta)
  const out: string[] = []
  for (const k of new Set([...a.keys(), ...b.keys()])) if (JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))) out.push(k)
  return out
}
