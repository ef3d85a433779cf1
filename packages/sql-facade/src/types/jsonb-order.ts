/**
 * PostgreSQL's ordering of jsonb values (compareJsonbContainers), used by `<`, `>`, `=`
 * and friends on jsonb:
 *
 *   Object > Array > Boolean > Number > String > Null;
 *   an object with more pairs is greater, then pairs compare key, value, key, .. in
 *   jsonb's key order (shorter keys first); an array with more elements is greater, then
 *   elements compare in order; strings compare by code point (the C collation), numbers
 *   numerically, false < true.
 *
 * A top-level scalar is stored by PostgreSQL as a one-element "raw scalar" array, and
 * compares as one: it sorts before a one-element array, after an empty array (so `[]`
 * sorts below `null`, the quirk PostgreSQL documents), and below any object.
 */
import { formatJsonb, jsonKind, parseJsonText, type JsonValue } from './json.js'

const RANK: Record<string, number> = { null: 0, string: 1, number: 2, boolean: 3, array: 4, object: 5 }

function kind(v: JsonValue): string {
  return jsonKind(v)
}

function compareScalars(a: JsonValue, b: JsonValue): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  // A bigint (an integer past 2^53) and a number compare exactly with < and >.
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1
  return 0
}

/** Keys of an object in jsonb's stored order. */
function storedKeys(o: { [k: string]: JsonValue }): string[] {
  return Object.keys(JSON.parse(formatJsonb(o)) as object)
}

function compareItems(a: JsonValue[], b: JsonValue[], aRaw: boolean, bRaw: boolean): number {
  let res = aRaw !== bRaw ? (aRaw ? -1 : 1) : 0
  if (a.length !== b.length) res = a.length > b.length ? 1 : -1
  if (res !== 0) return res
  for (let i = 0; i < a.length; i++) {
    const c = compareNested(a[i]!, b[i]!)
    if (c !== 0) return c
  }
  return 0
}

function compareNested(a: JsonValue, b: JsonValue): number {
  const ka = kind(a)
  const kb = kind(b)
  if (ka !== kb) return RANK[ka]! > RANK[kb]! ? 1 : -1
  if (ka === 'array') return compareItems(a as JsonValue[], b as JsonValue[], false, false)
  if (ka === 'object') {
    const oa = a as { [k: string]: JsonValue }
    const ob = b as { [k: string]: JsonValue }
    const ka2 = storedKeys(oa)
    const kb2 = storedKeys(ob)
    if (ka2.length !== kb2.length) return ka2.length > kb2.length ? 1 : -1
    for (let i = 0; i < ka2.length; i++) {
      const k = compareScalars(ka2[i]!, kb2[i]!)
      if (k !== 0) return k
      const v = compareNested(oa[ka2[i]!]!, ob[kb2[i]!]!)
      if (v !== 0) return v
    }
    return 0
  }
  return compareScalars(a, b)
}

/** Orders two jsonb texts as PostgreSQL orders the values. */
export function compareJsonb(x: string, y: string): number {
  const a = parseJsonText(x, 'jsonb')
  const b = parseJsonText(y, 'jsonb')
  const aScalar = a === null || typeof a !== 'object'
  const bScalar = b === null || typeof b !== 'object'
  if (!aScalar && !Array.isArray(a)) return bScalar || Array.isArray(b) ? 1 : compareNested(a, b)
  if (!bScalar && !Array.isArray(b)) return -1
  return compareItems(aScalar ? [a] : (a as JsonValue[]), bScalar ? [b] : (b as JsonValue[]), aScalar, bScalar)
}
