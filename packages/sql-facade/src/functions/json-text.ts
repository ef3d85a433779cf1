/**
 * SQL values as `json` text, exactly as PostgreSQL writes them (to_json, json_build_array,
 * json_build_object, json_agg): numbers keep their text (9.50 stays 9.50), dates and
 * timestamps are ISO 8601 (`2020-01-02T03:04:05.5`, `..+00:00`), json values go in as
 * written, arrays nest without spaces (`[[1,2],[3,4]]`), and the builders separate
 * items with ", " and keys with " : ". `json` is text: unlike jsonb it keeps all of this.
 */
import { SqlArray } from '../types/array.js'
import { RowValue, rowItems } from '../types/row-type.js'
import { elementType, isNumericType, T, type SqlType } from '../types/sql-type.js'
import { formatText } from '../types/text-format.js'
import type { RtValue } from '../types/value.js'

/** A JSON string literal of `s`. */
export function jsonString(s: string): string {
  return JSON.stringify(s)
}

/** One SQL value as json text. */
export function jsonText(v: RtValue, t: SqlType): string {
  if (v === null) return 'null'
  if (v instanceof SqlArray) return arrayText(v, elementType(t))
  // A row is an object of its fields in field order, written as row_to_json writes it.
  if (v instanceof RowValue) {
    return `{${rowItems(v).map((x, i) => `${jsonString(t.fields?.[i]?.name ?? `f${i + 1}`)}:${jsonText(x, t.fields?.[i]?.type ?? T.text)}`).join(',')}}`
  }
  if (t.id === 'json' || t.id === 'jsonb') return formatText(v, t)!
  if (t.id === 'bool') return v === true ? 'true' : 'false'
  const text = formatText(v, t)!
  if (isNumericType(t)) return Number.isFinite(Number(text)) ? text : jsonString(text)
  if (t.id === 'timestamp' || t.id === 'timestamptz') return jsonString(isoTimestamp(text, t.id === 'timestamptz'))
  return jsonString(text)
}

/** `2020-01-02 03:04:05.5+00` as `2020-01-02T03:04:05.5+00:00`. */
export function isoTimestamp(text: string, zoned: boolean): string {
  const iso = text.replace(' ', 'T')
  return zoned ? iso.replace(/([+-]\d\d)$/, '$1:00') : iso
}

function arrayText(a: SqlArray, el: SqlType): string {
  if (a.ndims === 0) return '[]'
  let k = 0
  const build = (d: number): string => {
    const out: string[] = []
    for (let i = 0; i < a.dims[d]!; i++) out.push(d === a.ndims - 1 ? jsonText(a.items[k++]!, el) : build(d + 1))
    return `[${out.join(',')}]`
  }
  return build(0)
}

/** json_build_array's and json_agg's text. */
export function jsonArrayText(items: string[]): string {
  return `[${items.join(', ')}]`
}

/** json_build_object's text. */
export function jsonObjectText(pairs: Array<[string, string]>): string {
  return `{${pairs.map(([k, v]) => `${jsonString(k)} : ${v}`).join(', ')}}`
}
