/**
 * Casts between SQL types, with PostgreSQL's three contexts: implicit (operators and
 * function arguments), assignment (INSERT/UPDATE targets) and explicit (CAST, ::).
 * `castKind` decides at plan time whether a cast is allowed; `castValue` performs it.
 */
import { activeDateTimeStyle } from './datetime-style.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { toFloat4 } from './float-math.js'
import { TIMESTAMP_END_MICROS, USEC_PER_DAY } from './datetime.js'
import { Decimal } from './decimal.js'
import { Interval } from './interval.js'
import { formatJsonb, jsonbValue, jsonKind, parseJsonText } from './json.js'
import { SqlArray } from './array.js'
import { rowItems, RowValue } from './row-type.js'
import { category, elementType, isIntegerType, isNumericType, isRegType, typeName, type SqlType } from './sql-type.js'
import { applyTypmod, checkInt, checkInt8, formatText, parseText } from './text-format.js'
import type { RtValue } from './value.js'
import { packTimeTz, timeTzOfInstant, unpackTimeTz } from './timetz.js'
import { checkMoney, moneyFromDecimal, moneyToDecimal } from './money.js'
import { inetToCidrKey } from './inet.js'

export type CastContext = 'implicit' | 'assignment' | 'explicit'

const NUM_RANK: Record<string, number> = {
  int2: 1, int4: 2, oid: 2, regclass: 2, regtype: 2, regnamespace: 2, regproc: 2, regrole: 2, int8: 3, numeric: 4, float4: 5, float8: 6,
}

/** Whether `from` can be cast to `to` in `ctx`. */
export function canCast(from: SqlType, to: SqlType, ctx: CastContext): boolean {
  // Two enum types never convert into each other; one converts to itself.
  if (from.id === 'enum' && to.id === 'enum') return from.name === to.name || from.name === undefined || to.name === undefined
  // A row converts to a row type of as many fields, field by field (ROW(1, 'a')::pair); the pseudo-type takes any row.
  if (from.id === 'record' && to.id === 'record' && !!from.array === !!to.array) {
    if (to.fields === undefined || from.name === to.name) return true
    return from.fields !== undefined && (from.name === undefined || ctx === 'explicit')
  }
  if (from.id === to.id && !!from.array === !!to.array) return true
  if (from.id === 'unknown' || to.id === 'anyelement') return true
  if (from.array && to.array) return canCast(elementType(from), elementType(to), ctx)
  // Arrays convert to and from strings through their text form, as PostgreSQL's I/O casts.
  if (to.array) return category(from) === 'S' && ctx === 'explicit'
  if (from.array) return category(to) === 'S' && ctx !== 'implicit'
  const cf = category(from)
  const ct = category(to)
  // money: from integers and numeric, to numeric (assignment casts in PostgreSQL).
  if (to.id === 'money') return cf === 'S' ? ctx === 'explicit' : (from.id === 'int4' || from.id === 'int8' || from.id === 'numeric') && ctx !== 'implicit'
  if (from.id === 'money') return to.id === 'numeric' ? ctx !== 'implicit' : ct === 'S' && ctx !== 'implicit'
  if (isNumericType(from) && isNumericType(to)) {
    if (NUM_RANK[from.id]! <= NUM_RANK[to.id]!) return true
    return ctx !== 'implicit'
  }
  if (ct === 'S') {
    if (cf === 'S') return true
    return ctx !== 'implicit'
  }
  if (cf === 'S') return ctx === 'explicit'
  if (from.id === 'date' && (to.id === 'timestamp' || to.id === 'timestamptz')) return true
  if (from.id === 'timestamp' && to.id === 'timestamptz') return true
  if (from.id === 'timestamptz' && to.id === 'timestamp') return ctx !== 'implicit'
  if ((from.id === 'timestamp' || from.id === 'timestamptz') && (to.id === 'date' || to.id === 'time')) return ctx !== 'implicit'
  if (from.id === 'time' && to.id === 'timetz') return true
  if (from.id === 'cidr' && to.id === 'inet') return true
  if (from.id === 'inet' && to.id === 'cidr') return ctx !== 'implicit'
  if ((from.id === 'timetz' && to.id === 'time') || (from.id === 'timestamptz' && to.id === 'timetz')) return ctx !== 'implicit'
  if ((from.id === 'json' && to.id === 'jsonb') || (from.id === 'jsonb' && to.id === 'json')) return ctx !== 'implicit'
  if (from.id === 'jsonb' && !to.array && (isNumericType(to) || to.id === 'bool')) return ctx === 'explicit'
  if (from.id === 'bool' && to.id === 'int4') return ctx === 'explicit'
  if (isIntegerType(from) && to.id === 'bool') return ctx === 'explicit' && from.id === 'int4'
  return false
}

export function cannotCast(from: SqlType, to: SqlType): SqlError {
  return new SqlError(SqlState.cannotCoerce, `cannot cast type ${typeName(from)} to ${typeName(to)}`)
}

/** A row as another row type: field by field, as many fields on both sides (42804 otherwise). */
function castRow(v: RowValue, from: SqlType, to: SqlType, nowMicros: number, explicit: boolean): RowValue {
  const fields = to.fields!
  if (v.items.length !== fields.length) {
    throw new SqlError(SqlState.cannotCoerce, `cannot cast type ${typeName(from)} to ${typeName(to)}`, {
      detail: `Input has too ${v.items.length < fields.length ? 'few' : 'many'} columns.`,
    })
  }
  return new RowValue(rowItems(v).map((x, i) => castValue(x, from.fields?.[i]?.type ?? { id: 'unknown' }, fields[i]!.type, nowMicros, explicit)))
}

function floatToInt(v: number, to: SqlType): number | bigint {
  if (!Number.isFinite(v)) throw new SqlError(SqlState.numericValueOutOfRange, `${to.id === 'int8' ? 'bigint' : to.id === 'int2' ? 'smallint' : 'integer'} out of range`)
  // PostgreSQL rounds float to integer with rint(): half to even.
  const r = Math.round(v)
  const rounded = Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r
  if (to.id === 'int8') return checkInt8(BigInt(rounded))
  return checkInt(rounded, to)
}

function decimalToInt(d: Decimal, to: SqlType): number | bigint {
  const b = d.toBigInt(to.id === 'int8' ? 'bigint' : to.id === 'int2' ? 'smallint' : 'integer')
  if (to.id === 'int8') return checkInt8(b)
  if (b > 2147483647n || b < -2147483648n) throw new SqlError(SqlState.numericValueOutOfRange, `${to.id === 'int2' ? 'smallint' : 'integer'} out of range`)
  return checkInt(Number(b), to)
}

/**
 * A float as NUMERIC the way PostgreSQL converts it: printed with FLT_DIG / DBL_DIG
 * significant digits (6 / 15, C's %g, trailing zeros dropped), so 0.1 + 0.2 becomes 0.3.
 */
function floatToNumeric(v: number, digits: number): Decimal {
  if (!Number.isFinite(v)) return Decimal.fromNumber(v)
  const [mant, exp] = v.toPrecision(digits).split('e') as [string, string | undefined]
  const trimmed = mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant
  return Decimal.parse(exp === undefined ? trimmed : `${trimmed}e${exp}`)
}

const OID_MAX = 4294967295

/** An integer as OID: int4 reinterprets negatives as unsigned (as PostgreSQL), others must fit. */
function toOid(v: RtValue, from: SqlType): number {
  if (typeof v === 'number' && (from.id === 'int4' || from.id === 'int2' || from.id === 'oid' || isRegType(from))) return v < 0 ? v + OID_MAX + 1 : v
  const n = typeof v === 'bigint' ? v : v instanceof Decimal ? v.toBigInt() : typeof v === 'number' && Number.isFinite(v) ? BigInt(Math.round(v)) : -1n
  if (n < 0n || n > BigInt(OID_MAX)) throw new SqlError(SqlState.numericValueOutOfRange, 'OID out of range')
  return Number(n)
}

/** A jsonb number as a numeric type, or a jsonb boolean as bool (22023 for any other JSON value), as PostgreSQL's jsonb casts. */
function jsonbScalar(text: string, to: SqlType, nowMicros: number): RtValue {
  const v = parseJsonText(text, 'jsonb')
  const kind = jsonKind(v)
  const want = to.id === 'bool' ? 'boolean' : 'number'
  if (kind !== want) throw new SqlError(SqlState.invalidParameterValue, `cannot cast jsonb ${kind} to type ${typeName(to)}`)
  if (to.id === 'bool') return v as boolean
  return castValue(Decimal.parse(formatJsonb(v)), { id: 'numeric' }, to, nowMicros, true)
}

/** Converts a value of type `from` to type `to` (the cast is assumed allowed). */
export function castValue(v: RtValue, from: SqlType, to: SqlType, nowMicros: number, explicit = false): RtValue {
  if (v === null) return null
  if (to.id === 'anyelement') return v
  if (v instanceof RowValue && to.id === 'record' && !to.array && to.fields && from.name !== to.name) return castRow(v, from, to, nowMicros, explicit)
  if (from.id === to.id && !from.array && !to.array) return applyTypmod(v, to, explicit)
  if (from.array && to.array && v instanceof SqlArray) {
    const fe = elementType(from)
    const te = elementType(to)
    return v.map((x) => castValue(x, fe, te, nowMicros, explicit))
  }
  // Text in and out follows the running statement's DateStyle and IntervalStyle.
  if (from.array) return applyTypmod(formatText(v, from, activeDateTimeStyle()), to, explicit)
  if (from.id === 'unknown' || category(from) === 'S') {
    // character(n) pads with blanks that are not part of the value: they go when it becomes text.
    if (from.id === 'bpchar' && to.id !== 'bpchar' && category(to) === 'S') return applyTypmod((v as string).replace(/ +$/, ''), to, explicit)
    if (category(to) === 'S') return applyTypmod(v as string, to, explicit)
    return applyTypmod(parseText(v as string, to, nowMicros, activeDateTimeStyle()), to, explicit)
  }
  if (from.id === 'jsonb' && !to.array && (isNumericType(to) || to.id === 'bool')) return jsonbScalar(v as string, to, nowMicros)
  if (category(to) === 'S') {
    // bool's text cast spells the word out (booltext), unlike its output function's 't'/'f'.
    const text = from.id === 'json' || from.id === 'jsonb' ? (v as string) : from.id === 'bool' ? (v ? 'true' : 'false') : formatText(v, from, activeDateTimeStyle())
    return applyTypmod(text, to, explicit)
  }
  switch (to.id) {
    case 'inet':
      if (from.id === 'cidr') return v
      break
    case 'cidr':
      if (from.id === 'inet') return inetToCidrKey(v as string)
      break
    case 'money':
      if (typeof v === 'number') return checkMoney(BigInt(v) * 100n)
      if (typeof v === 'bigint') return checkMoney(v * 100n)
      if (v instanceof Decimal) return moneyFromDecimal(v)
      break
    case 'oid': case 'regclass': case 'regtype': case 'regnamespace': case 'regproc': case 'regrole': return toOid(v, from)
    case 'int2': case 'int4': case 'int8': {
      const target = to
      if (typeof v === 'number') {
        if (from.id === 'float4' || from.id === 'float8') return floatToInt(v, target)
        return target.id === 'int8' ? BigInt(v) : checkInt(v, target)
      }
      if (typeof v === 'bigint') return target.id === 'int8' ? v : decimalToInt(new Decimal(v, 0), target)
      if (v instanceof Decimal) return decimalToInt(v, target)
      if (typeof v === 'boolean') return v ? 1 : 0
      break
    }
    case 'numeric': {
      if (from.id === 'money') return applyTypmod(moneyToDecimal(v as bigint), to, explicit)
      let d: Decimal
      if (typeof v === 'number') {
        d = from.id === 'float4' || from.id === 'float8' ? floatToNumeric(v, from.id === 'float4' ? 6 : 15) : Number.isInteger(v) ? new Decimal(BigInt(v), 0) : Decimal.fromNumber(v)
      } else if (typeof v === 'bigint') d = new Decimal(v, 0)
      else if (v instanceof Decimal) d = v
      else break
      return applyTypmod(d, to, explicit)
    }
    case 'float4': case 'float8': {
      let n: number
      if (typeof v === 'number') n = v
      else if (typeof v === 'bigint') n = Number(v)
      else if (v instanceof Decimal) n = v.toNumber()
      else break
      if (to.id === 'float4' && typeof v === 'number' && from.id === 'float8') return toFloat4(n)
      const f = to.id === 'float4' ? Math.fround(n) : n
      if (!Number.isFinite(f) && (typeof v === 'bigint' || (v instanceof Decimal && v.isFinite()))) throw new SqlError(SqlState.numericValueOutOfRange, `value out of range: overflow`)
      return f
    }
    case 'bool':
      if (typeof v === 'number') return v !== 0
      break
    case 'timestamp': case 'timestamptz':
      if (from.id === 'date') {
        const us = (v as number) * USEC_PER_DAY
        if (Number.isFinite(us) && us >= TIMESTAMP_END_MICROS) throw new SqlError(SqlState.datetimeFieldOverflow, 'date out of range for timestamp')
        return us
      }
      return v
    case 'date':
      return Math.floor((v as number) / USEC_PER_DAY)
    case 'timetz':
      // time and timestamptz take the session's zone, which is UTC.
      if (from.id === 'time') return packTimeTz(v as number, 0)
      if (from.id === 'timestamptz') return Number.isFinite(v as number) ? timeTzOfInstant(v as number) : null
      break
    case 'time': {
      if (from.id === 'timetz') return unpackTimeTz(v as bigint).ofDay
      const us = v as number
      // PostgreSQL's timestamp_time answers NULL for an infinite timestamp.
      if (!Number.isFinite(us)) return null
      return us - Math.floor(us / USEC_PER_DAY) * USEC_PER_DAY
    }
    case 'jsonb':
      return formatJsonb(jsonbValue(v as string))
    case 'json':
      return v
    case 'interval':
      if (v instanceof Interval) return v
      break
  }
  throw cannotCast(from, to)
}
