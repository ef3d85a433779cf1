/**
 * Binary and unary operators: type resolution at plan time (which operand types an
 * operator accepts and what it returns) and the value functions, with PostgreSQL's
 * overflow and division-by-zero errors.
 */
import { activeDateTimeStyle } from '../types/datetime-style.js'
import { builtTextTooLong, MAX_BUILT_TEXT } from '../types/text-chars.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { floatAdd, floatDiv, floatMul, floatPower, floatSub } from '../types/float-math.js'
import { numericPower } from '../functions/numeric-math.js'
import { checkDate, checkTimestamp, USEC_PER_DAY } from '../types/datetime.js'
import { Decimal } from '../types/decimal.js'
import { addInterval, Interval } from '../types/interval.js'
import { addToTimeTz, timeTzOnDate } from '../types/timetz.js'
import { formatJsonb, jsonAsText, jsonGet, parseJsonText, type JsonValue } from '../types/json.js'
import { jsonSourceGet, jsonSourceText, parseJsonSource, type JsonNode } from '../types/json-source.js'
import { arrayOf, category, commonType, isNumericType, T, typeName, type SqlType } from '../types/sql-type.js'
import type { SqlArray } from '../types/array.js'
import { checkInt, checkInt8, formatText } from '../types/text-format.js'
import type { RtValue } from '../types/value.js'
import { resolveArrayOperator } from './array-operators.js'
import { resolveJsonbOperator } from './jsonb-operators.js'
import { isGeometricOperator, resolveGeometricOperator } from './geometric-operators.js'
import { resolveMoneyOperator } from './money-operators.js'
import type { BinFn, OperatorImpl } from './operator-impl.js'

function noOperator(op: string, l: SqlType, r: SqlType): SqlError {
  return new SqlError(SqlState.undefinedFunction, `operator does not exist: ${typeName(l)} ${op} ${typeName(r)}`, {
    hint: 'No operator matches the given name and argument types. You might need to add explicit type casts.',
  })
}

function divZero(): SqlError {
  return new SqlError(SqlState.divisionByZero, 'division by zero')
}

function intArith(op: string, t: SqlType): BinFn | null {
  if (t.id === 'int8') {
    switch (op) {
      case '+': return (a, b) => checkInt8((a as bigint) + (b as bigint))
      case '-': return (a, b) => checkInt8((a as bigint) - (b as bigint))
      case '*': return (a, b) => checkInt8((a as bigint) * (b as bigint))
      case '/': return (a, b) => {
        if (b === 0n) throw divZero()
        return checkInt8((a as bigint) / (b as bigint))
      }
      case '%': return (a, b) => {
        if (b === 0n) throw divZero()
        return (a as bigint) % (b as bigint)
      }
    }
    return null
  }
  switch (op) {
    case '+': return (a, b) => checkInt((a as number) + (b as number), t)
    case '-': return (a, b) => checkInt((a as number) - (b as number), t)
    case '*': return (a, b) => {
      const r = (a as number) * (b as number)
      if (!Number.isSafeInteger(r)) throw new SqlError(SqlState.numericValueOutOfRange, `${t.id === 'int2' ? 'smallint' : 'integer'} out of range`)
      return checkInt(r, t)
    }
    case '/': return (a, b) => {
      if (b === 0) throw divZero()
      return checkInt(Math.trunc((a as number) / (b as number)), t)
    }
    case '%': return (a, b) => {
      if (b === 0) throw divZero()
      const r = (a as number) % (b as number)
      return r === 0 ? 0 : r
    }
  }
  return null
}

function floatArith(op: string, single: boolean): BinFn | null {
  switch (op) {
    case '+': return (a, b) => floatAdd(a as number, b as number, single)
    case '-': return (a, b) => floatSub(a as number, b as number, single)
    case '*': return (a, b) => floatMul(a as number, b as number, single)
    case '/': return (a, b) => floatDiv(a as number, b as number, single)
    case '%': return null
    case '^': return (a, b) => floatPower(a as number, b as number)
  }
  return null
}

function numericArith(op: string): BinFn | null {
  switch (op) {
    case '+': return (a, b) => (a as Decimal).add(b as Decimal)
    case '-': return (a, b) => (a as Decimal).sub(b as Decimal)
    case '*': return (a, b) => (a as Decimal).mul(b as Decimal)
    case '/': return (a, b) => (a as Decimal).div(b as Decimal)
    case '%': return (a, b) => (a as Decimal).mod(b as Decimal)
    case '^': return (a, b) => numericPower(a as Decimal, b as Decimal)
  }
  return null
}

function intervalOf(v: RtValue): Interval {
  return v as Interval
}

/** Resolves a binary arithmetic/string operator for the (already known) operand types. */
export function resolveOperator(op: string, l: SqlType, r: SqlType): OperatorImpl {
  if (isGeometricOperator(op, l, r)) return resolveGeometricOperator(op, l, r)
  if ((l.id === 'money' || r.id === 'money') && op !== '||') {
    const m = resolveMoneyOperator(op, l, r)
    if (m) return m
    throw noOperator(op, l, r)
  }
  if (l.id === 'jsonb') {
    const j = resolveJsonbOperator(op, r)
    if (j) return j
  }
  if (l.array || r.array) {
    const a = resolveArrayOperator(op, l, r)
    if (a) return a
  }
  // jsonb || jsonb: an unknown literal on either side is jsonb, as PostgreSQL resolves it.
  const jsonbCat = (l.id === 'jsonb' && (r.id === 'jsonb' || r.id === 'unknown')) || (r.id === 'jsonb' && l.id === 'unknown')
  if (op === '||' && !jsonbCat) {
    // textcat / anynonarray || text: an unknown side is text, and one side must be text.
    const lt = l.id === 'unknown' ? T.text : l
    const rt = r.id === 'unknown' ? T.text : r
    if (category(lt) !== 'S' && category(rt) !== 'S') throw noOperator(op, l, r)
    return resolveConcat(lt, rt)
  }
  if (['&', '|', '#', '<<', '>>'].includes(op)) return resolveBitwise(op, l, r)
  if (op === '-' && l.id === 'jsonb' && r.id !== 'jsonb') return jsonbMinus(l, r)
  // Unknown literals take the type of the other side, as PostgreSQL assumes.
  if (l.id === 'unknown' && r.id !== 'unknown') l = r
  else if (r.id === 'unknown' && l.id !== 'unknown') r = l
  else if (l.id === 'unknown' && r.id === 'unknown') {
    l = T.text
    r = T.text
  }
  if (op === '||') return resolveConcat(l, r)
  if (['->', '->>', '#>', '#>>', '@>', '<@', '?'].includes(op)) return resolveJson(op, l, r)
  const cl = category(l)
  const cr = category(r)
  if (isNumericType(l) && isNumericType(r)) {
    const t = commonType(l, r)!
    const fn = op === '^'
      ? (t.id === 'numeric' ? numericArith(op) : floatArith(op, false))
      : t.id === 'numeric' ? numericArith(op) : t.id === 'float4' || t.id === 'float8' ? floatArith(op, t.id === 'float4') : intArith(op, t)
    if (!fn) throw noOperator(op, l, r)
    const result = op === '^' ? (t.id === 'numeric' ? T.numeric : T.float8) : t
    const operand = op === '^' && t.id !== 'numeric' ? T.float8 : t
    return { left: operand, right: operand, result, fn }
  }
  // date/time arithmetic
  if (l.id === 'date' && (r.id === 'int4' || r.id === 'int2' || r.id === 'int8') && (op === '+' || op === '-')) {
    return { left: T.date, right: T.int4, result: T.date, fn: (a, b) => addDays(a as number, op === '+' ? (b as number) : -(b as number)) }
  }
  if ((l.id === 'int4' || l.id === 'int2') && r.id === 'date' && op === '+') {
    return { left: T.int4, right: T.date, result: T.date, fn: (a, b) => addDays(b as number, a as number) }
  }
  if (l.id === 'date' && r.id === 'date' && op === '-') {
    return { left: T.date, right: T.date, result: T.int4, fn: (a, b) => {
      if (!Number.isFinite(a as number) || !Number.isFinite(b as number)) throw new SqlError(SqlState.datetimeFieldOverflow, 'cannot subtract infinite dates')
      return (a as number) - (b as number)
    } }
  }
  if (l.id === 'timetz' && r.id === 'interval' && (op === '+' || op === '-')) {
    return { left: T.timetz, right: T.interval, result: T.timetz, fn: (a, b) => addToTimeTz(a as bigint, op === '+' ? intervalOf(b).micros : -intervalOf(b).micros) }
  }
  if (l.id === 'interval' && r.id === 'timetz' && op === '+') {
    return { left: T.interval, right: T.timetz, result: T.timetz, fn: (a, b) => addToTimeTz(b as bigint, intervalOf(a).micros) }
  }
  if (((l.id === 'date' && r.id === 'timetz') || (l.id === 'timetz' && r.id === 'date')) && op === '+') {
    const dateLeft = l.id === 'date'
    return { left: l, right: r, result: T.timestamptz, fn: (a, b) => (dateLeft ? timeTzOnDate(a as number, b as bigint) : timeTzOnDate(b as number, a as bigint)) }
  }
  // date + time (either order) and date - time: the timestamp at that time of day.
  if (l.id === 'date' && r.id === 'time' && (op === '+' || op === '-')) {
    return { left: T.date, right: T.time, result: T.timestamp, fn: (a, b) => dateAtTime(a as number, op === '+' ? (b as number) : -(b as number)) }
  }
  if (l.id === 'time' && r.id === 'date' && op === '+') {
    return { left: T.time, right: T.date, result: T.timestamp, fn: (a, b) => dateAtTime(b as number, a as number) }
  }
  if ((cl === 'D' && l.id !== 'time' && l.id !== 'timetz') && r.id === 'interval' && (op === '+' || op === '-')) {
    const resT = l.id === 'date' ? T.timestamp : l
    return { left: resT, right: T.interval, result: resT, fn: (a, b) => addInterval(a as number, op === '+' ? intervalOf(b) : intervalOf(b).neg()) }
  }
  if (l.id === 'interval' && cr === 'D' && r.id !== 'time' && r.id !== 'timetz' && op === '+') {
    const resT = r.id === 'date' ? T.timestamp : r
    return { left: T.interval, right: resT, result: resT, fn: (a, b) => addInterval(b as number, intervalOf(a)) }
  }
  if (cl === 'D' && cr === 'D' && op === '-' && l.id !== 'time' && r.id !== 'time' && l.id !== 'timetz' && r.id !== 'timetz') {
    const t = commonType(l, r) ?? T.timestamp
    return { left: t, right: t, result: T.interval, fn: (a, b) => timestampDiff(a as number, b as number) }
  }
  if (l.id === 'time' && r.id === 'interval' && (op === '+' || op === '-')) {
    return { left: T.time, right: T.interval, result: T.time, fn: (a, b) => {
      const d = op === '+' ? intervalOf(b).micros : -intervalOf(b).micros
      const v = ((a as number) + d) % USEC_PER_DAY
      return v < 0 ? v + USEC_PER_DAY : v
    } }
  }
  if (l.id === 'interval' && r.id === 'interval' && (op === '+' || op === '-')) {
    return { left: T.interval, right: T.interval, result: T.interval, fn: (a, b) => (op === '+' ? intervalOf(a).add(intervalOf(b)) : intervalOf(a).sub(intervalOf(b))) }
  }
  if (l.id === 'interval' && isNumericType(r) && (op === '*' || op === '/')) {
    return { left: T.interval, right: T.float8, result: T.interval, fn: (a, b) => {
      if (op === '/' && b === 0) throw divZero()
      return op === '*' ? intervalOf(a).scale(b as number) : intervalOf(a).divide(b as number)
    } }
  }
  if (isNumericType(l) && r.id === 'interval' && op === '*') {
    return { left: T.float8, right: T.interval, result: T.interval, fn: (a, b) => intervalOf(b).scale(a as number) }
  }
  throw noOperator(op, l, r)
}

/** date + n days: infinite dates stay infinite, a result past the date range is 22008. */
function addDays(date: number, n: number): number {
  if (!Number.isFinite(date)) return date
  return checkDate(date + n)
}

/** timestamp - timestamp: days and time, as PostgreSQL's justify_hours result. */
export function timestampDiff(a: number, b: number): Interval {
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new SqlError(SqlState.datetimeFieldOverflow, 'cannot subtract infinite timestamps')
  const d = a - b
  const days = Math.trunc(d / USEC_PER_DAY)
  return Interval.checked(0, days, d - days * USEC_PER_DAY)
}

function resolveBitwise(op: string, l: SqlType, r: SqlType): OperatorImpl {
  if (l.id === 'unknown') l = r.id === 'unknown' ? T.int4 : r
  if (r.id === 'unknown') r = l
  const shift = op === '<<' || op === '>>'
  const ints = ['int2', 'int4', 'int8']
  if (!ints.includes(l.id) || !ints.includes(r.id)) throw noOperator(op, l, r)
  const t = shift ? l : commonType(l, r)!
  if (t.id === 'int8') {
    const fn: BinFn = (a, b) => {
      const x = a as bigint
      // As in C on the hardware PostgreSQL runs on, a shift count is taken modulo 64.
      const y = shift ? BigInt(Number(b) & 63) : (b as bigint)
      const v = op === '&' ? x & y : op === '|' ? x | y : op === '#' ? x ^ y : op === '<<' ? BigInt.asIntN(64, x << y) : x >> y
      return v
    }
    return { left: t, right: shift ? T.int4 : t, result: t, fn }
  }
  const fn: BinFn = (a, b) => {
    const x = a as number
    const y = b as number
    const v = op === '&' ? x & y : op === '|' ? x | y : op === '#' ? x ^ y : op === '<<' ? x << y : x >> y
    return t.id === 'int2' ? (v << 16) >> 16 : v
  }
  return { left: t, right: shift ? T.int4 : t, result: t, fn }
}

/** Midnight of `days` moved by `us` microseconds: a timestamp (infinite dates stay infinite). */
function dateAtTime(days: number, us: number): number {
  if (!Number.isFinite(days)) return days
  return checkTimestamp(days * USEC_PER_DAY + us)
}

/**
 * An operand of `||` as text: non-text operands are cast to text (bool reads 'true';
 * character(n) drops its padding; dates and intervals print in the session's styles).
 */
function catText(v: RtValue, t: SqlType): string {
  if (t.id === 'bpchar') return (v as string).replace(/ +$/, '')
  return t.id === 'bool' ? (v ? 'true' : 'false') : formatText(v, t, activeDateTimeStyle())!
}

function resolveConcat(l: SqlType, r: SqlType): OperatorImpl {
  if (l.id === 'jsonb' && r.id === 'jsonb') {
    return { left: T.jsonb, right: T.jsonb, result: T.jsonb, fn: (a, b) => {
      const x = parseJsonText(a as string)
      const y = parseJsonText(b as string)
      if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x) && !Array.isArray(y)) return formatJsonb({ ...x, ...y })
      const xa = Array.isArray(x) ? x : [x]
      const ya = Array.isArray(y) ? y : [y]
      return formatJsonb([...xa, ...ya])
    } }
  }
  if (l.array || r.array) throw noOperator('||', l, r)
  const lt = l
  const rt = r
  return {
    left: lt,
    right: rt,
    result: T.text,
    fn: (a, b) => {
      const s = catText(a, lt) + catText(b, rt)
      if (s.length > MAX_BUILT_TEXT) throw builtTextTooLong(s.length)
      return s
    },
  }
}

/** jsonb - text (drop a key, or string elements of an array) and jsonb - int (an index). */
function jsonbMinus(l: SqlType, r: SqlType): OperatorImpl {
  const byIndex = r.id === 'int2' || r.id === 'int4' || r.id === 'int8'
  if (!byIndex && category(r) !== 'S' && r.id !== 'unknown') throw noOperator('-', l, r)
  return { left: T.jsonb, right: byIndex ? T.int4 : T.text, result: T.jsonb, fn: (a, b) => {
    const v = parseJsonText(a as string)
    if (byIndex) {
      if (!Array.isArray(v)) throw new SqlError(SqlState.invalidParameterValue, 'cannot delete from object using integer index')
      const i = (b as number) < 0 ? v.length + (b as number) : (b as number)
      return formatJsonb(v.filter((_x, k) => k !== i))
    }
    if (Array.isArray(v)) return formatJsonb(v.filter((x) => x !== b))
    if (v !== null && typeof v === 'object') {
      const o = { ...v }
      delete o[b as string]
      return formatJsonb(o)
    }
    throw new SqlError(SqlState.invalidParameterValue, 'cannot delete from scalar')
  } }
}

function resolveJson(op: string, l: SqlType, r: SqlType): OperatorImpl {
  if (l.id !== 'jsonb' && l.id !== 'json') throw noOperator(op, l, r)
  const jt = l
  if (op === '->' || op === '->>') {
    const keyT = r.id === 'int4' || r.id === 'int8' || r.id === 'int2' ? T.int4 : T.text
    if (jt.id === 'json') {
      return { left: jt, right: keyT, result: op === '->' ? jt : T.text, fn: (a, b) => {
        const v = jsonSourceGet(parseJsonSource(a as string), typeof b === 'number' ? b : (b as string))
        return op === '->>' ? jsonSourceText(v) : v?.text ?? null
      } }
    }
    return { left: jt, right: keyT, result: op === '->' ? jt : T.text, fn: (a, b) => {
      const doc = parseJsonText(a as string)
      // A jsonb scalar answers `-> 0` and `-> -1` with itself, as PostgreSQL reads it as a one-element array (NULL before).
      const scalar = typeof b === 'number' && (b === 0 || b === -1) && (doc === null || typeof doc !== 'object')
      const v = scalar ? doc : jsonGet(doc, typeof b === 'number' ? b : (b as string))
      if (op === '->>') return jsonAsText(v)
      return v === undefined ? null : formatJsonb(v)
    } }
  }
  if (op === '#>' || op === '#>>') {
    // The path is a text[] (`'{a,0}'`, `array['a', '0']`), as in PostgreSQL; a NULL step yields NULL.
    return { left: jt, right: arrayOf(T.text), result: op === '#>' ? jt : T.text, fn: (a, b) => {
      const path = (b as SqlArray).items
      if (path.includes(null)) return null
      if (jt.id === 'json') {
        let n: JsonNode | undefined = parseJsonSource(a as string)
        for (const p of path as string[]) {
          if (n === undefined) break
          n = jsonSourceGet(n, n.kind === 'array' ? (/^\s*-?\d+\s*$/.test(p) ? Number(p) : -Infinity) : p)
        }
        return op === '#>>' ? jsonSourceText(n) : n?.text ?? null
      }
      let v: JsonValue | undefined = parseJsonText(a as string)
      for (const p of path as string[]) {
        if (v === undefined) break
        v = jsonGet(v, Array.isArray(v) && /^-?\d+$/.test(p) ? Number(p) : p)
      }
      if (op === '#>>') return jsonAsText(v)
      return v === undefined ? null : formatJsonb(v)
    } }
  }
  if (op === '?') {
    return { left: jt, right: T.text, result: T.bool, fn: (a, b) => {
      const v = parseJsonText(a as string)
      if (Array.isArray(v)) return v.includes(b as string)
      return v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, b as string)
    } }
  }
  const rt: SqlType = T.jsonb
  return { left: T.jsonb, right: rt, result: T.bool, fn: (a, b) => {
    const x = parseJsonText(a as string)
    const y = parseJsonText(b as string)
    return op === '@>' ? jsonContains(x, y) : jsonContains(y, x)
  } }
}

function jsonContains(a: JsonValue, b: JsonValue): boolean {
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return b.every((y) => a.some((x) => jsonContains(x, y)))
    return a.some((x) => jsonContains(x, b))
  }
  if (a !== null && typeof a === 'object') {
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return false
    return Object.keys(b).every((k) => Object.prototype.hasOwnProperty.call(a, k) && jsonContains(a[k]!, b[k]!))
  }
  return a === b
}

/** Unary minus for a numeric or interval operand. */
export function negate(t: SqlType): (v: RtValue) => RtValue {
  switch (t.id) {
    case 'int2': case 'int4': return (v) => checkInt(-(v as number), t)
    case 'int8': return (v) => checkInt8(-(v as bigint))
    case 'float4': case 'float8': return (v) => -(v as number)
    case 'numeric': return (v) => (v as Decimal).neg()
    case 'interval': return (v) => (v as Interval).neg()
  }
  throw new SqlError(SqlState.undefinedFunction, `operator does not exist: - ${typeName(t)}`)
}
