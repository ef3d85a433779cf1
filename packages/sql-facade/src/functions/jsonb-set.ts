/**
 * jsonb_set(target, path, value [, create_if_missing]) and jsonb_insert(target, path,
 * value [, insert_after]): a copy of `target` with `value` placed at the text[] `path`,
 * as PostgreSQL's setPath. Path elements name object keys, or array positions (integers,
 * negative from the end; 22P02 for anything else). A missing intermediate step leaves
 * the target unchanged; only the last step is created. jsonb_set replaces, or adds when
 * allowed (an array position past either end appends or prepends); jsonb_insert adds
 * before (or after) an array position, and refuses an existing object key (22023).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { SqlArray } from '../types/array.js'
import { formatJsonb, parseJsonText, type JsonValue } from '../types/json.js'
import { arrayOf, T } from '../types/sql-type.js'
import type { ScalarResolver } from './scalar-impl.js'

type Mode = { kind: 'set'; create: boolean } | { kind: 'insert'; after: boolean }

function position(step: string, at: number, length: number): number {
  if (!/^\s*[+-]?\d+\s*$/.test(step)) {
    throw new SqlError(SqlState.invalidTextRepresentation, `path element at position ${at + 1} is not an integer: "${step}"`)
  }
  const i = Number(step)
  return i < 0 ? length + i : i
}

function setPath(v: JsonValue, path: string[], at: number, value: JsonValue, mode: Mode): JsonValue {
  const step = path[at]!
  const last = at === path.length - 1
  if (Array.isArray(v)) {
    let i = position(step, at, v.length)
    const out = v.slice()
    if (!last) {
      if (i < 0 || i >= v.length) return v
      out[i] = setPath(v[i]!, path, at + 1, value, mode)
      return out
    }
    if (mode.kind === 'insert') {
      if (mode.after) i++
      out.splice(Math.max(0, Math.min(i, v.length)), 0, value)
      return out
    }
    if (i >= 0 && i < v.length) out[i] = value
    else if (mode.create) {
      if (i < 0) out.unshift(value)
      else out.push(value)
    }
    return out
  }
  if (v !== null && typeof v === 'object') {
    const has = Object.prototype.hasOwnProperty.call(v, step)
    if (!last) return has ? { ...v, [step]: setPath(v[step]!, path, at + 1, value, mode) } : v
    if (mode.kind === 'insert' && has) {
      throw new SqlError(SqlState.invalidParameterValue, 'cannot replace existing key', { hint: 'Try using the function jsonb_set to replace key value.' })
    }
    if (has || mode.kind === 'insert' || mode.create) return { ...v, [step]: value }
    return v
  }
  throw new SqlError(SqlState.invalidParameterValue, 'cannot set path in scalar')
}

function resolver(name: 'jsonb_set' | 'jsonb_insert'): ScalarResolver {
  return (ts) => {
    if (ts.length !== 3 && ts.length !== 4) return null
    const args = [T.jsonb, arrayOf(T.text), T.jsonb, ...(ts.length === 4 ? [T.bool] : [])]
    return { args, result: T.jsonb, fn: (a) => {
      const path = (a[1] as SqlArray).items
      if (path.includes(null)) {
        throw new SqlError(SqlState.nullValueNotAllowed, `path element at position ${path.indexOf(null) + 1} is null`)
      }
      const target = parseJsonText(a[0] as string, 'jsonb')
      if (path.length === 0) return a[0]!
      const flag = a.length === 4 ? (a[3] as boolean) : name === 'jsonb_set'
      const mode: Mode = name === 'jsonb_set' ? { kind: 'set', create: flag } : { kind: 'insert', after: flag }
      if (target === null || typeof target !== 'object') throw new SqlError(SqlState.invalidParameterValue, 'cannot set path in scalar')
      return formatJsonb(setPath(target, path as string[], 0, parseJsonText(a[2] as string, 'jsonb'), mode))
    } }
  }
}

export const JSONB_SET_FUNCTIONS: Record<string, ScalarResolver> = {
  jsonb_set: resolver('jsonb_set'),
  jsonb_insert: resolver('jsonb_insert'),
}
