/**
 * jsonb's key and path operators over a text[] right side: `?|` (any key exists), `?&`
 * (all keys exist), `-` (remove keys) and `#-` (remove the element at a path); and the
 * jsonpath operators `@?` / `@@` (functions/jsonpath.ts), whose path is text. The
 * semantics live with their function forms (jsonb_exists_any, jsonb_delete_path, ..)
 * in functions/json-functions.ts; this file only resolves the operator spelling.
 */
import type { SqlArray } from '../types/array.js'
import { formatJsonb, parseJsonText } from '../types/json.js'
import { arrayOf, category, elementType, T, type SqlType } from '../types/sql-type.js'
import { jsonbDeleteKeys, jsonbDeletePath, jsonbExistsKeys } from '../functions/json-functions.js'
import { jsonPathExists, jsonPathMatch } from '../functions/jsonpath.js'
import type { OperatorImpl } from './operator-impl.js'

const textArray = (r: SqlType): boolean => r.id === 'unknown' || (!!r.array && category(elementType(r)) === 'S')

/** The operator for `jsonb op r`, or null when `op` is not one of these for `r`. */
export function resolveJsonbOperator(op: string, r: SqlType): OperatorImpl | null {
  if (op === '?|' || op === '?&') {
    if (!textArray(r)) return null
    const all = op === '?&'
    return { left: T.jsonb, right: arrayOf(T.text), result: T.bool, fn: (a, b) => jsonbExistsKeys(parseJsonText(a as string, 'jsonb'), b as SqlArray, all) }
  }
  if (op === '@?' || op === '@@') {
    // The path comes as text (there is no jsonpath type here): an untyped literal or a text value.
    if (r.id !== 'unknown' && !(category(r) === 'S' && !r.array)) return null
    const exists = op === '@?'
    return { left: T.jsonb, right: T.text, result: T.bool, fn: (a, b) => {
      const j = parseJsonText(a as string, 'jsonb')
      return exists ? jsonPathExists(j, b as string) : jsonPathMatch(j, b as string)
    } }
  }
  if (op === '#-') {
    if (!textArray(r)) return null
    return { left: T.jsonb, right: arrayOf(T.text), result: T.jsonb, fn: (a, b) => formatJsonb(jsonbDeletePath(parseJsonText(a as string, 'jsonb'), b as SqlArray)) }
  }
  if (op === '-' && r.array && category(elementType(r)) === 'S') {
    return { left: T.jsonb, right: arrayOf(T.text), result: T.jsonb, fn: (a, b) => formatJsonb(jsonbDeleteKeys(parseJsonText(a as string, 'jsonb'), (b as SqlArray).items)) }
  }
  return null
}
