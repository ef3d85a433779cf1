/**
 * Built-in scalar functions. Each entry resolves argument types to an implementation at
 * plan time: the types arguments are coerced to, the result type, and the value function.
 * Functions are strict (NULL in, NULL out) unless marked otherwise.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx } from '../runtime/context.js'
import { checkTimestamp, partsFromMicros, truncTimestamp, USEC_PER_DAY, USEC_PER_SEC } from '../types/datetime.js'
import { utcToZone, zoneToUtc } from '../types/datetime-input.js'
import { toDate, toTimestamp } from './to-timestamp.js'
import { Decimal } from '../types/decimal.js'
import { Interval } from '../types/interval.js'
import { formatJsonb, jsonKind, parseJsonText, stringifyJson, type JsonValue } from '../types/json.js'
import { SqlArray } from '../types/array.js'
import { RowValue, rowItems } from '../types/row-type.js'
import { commonType, elementType, isIntegerType, isNumericType, T, typeName, type SqlType } from '../types/sql-type.js'
import { checkInt, checkInt8, formatText } from '../types/text-format.js'
import type { RtValue } from '../types/value.js'
import { formatSql, quoteIdent, quoteLiteral, toCharInterval, toCharTimestamp } from './formatting.js'
import { toCharNumeric, toNumber } from './number-template.js'
import { ARRAY_FUNCTIONS } from './array-functions.js'
import { ENUM_FUNCTIONS } from './enum-functions.js'
import { BINARY_ENCODING_FUNCTIONS } from './binary-encoding-functions.js'
import { JSON_POPULATE_FUNCTIONS } from './json-populate.js'
import { JSONB_SET_FUNCTIONS } from './jsonb-set.js'
import { JSON_FUNCTIONS } from './json-functions.js'
import { CATALOG_FUNCTIONS } from './catalog-functions.js'
import { SEQUENCE_FUNCTIONS } from './sequence-functions.js'
import { TABLE_CHANGE_FUNCTIONS } from './table-changes.js'
import { BROWSER_TOKEN_FUNCTIONS } from './browser-token.js'
import { extractField } from './extract.js'
import { makeDate, makeInterval, makeTime, makeTimestamp, timestampFromEpoch } from './make-datetime.js'
import { md5Hex } from './md5.js'
import { compilePattern, regexOptions, similarToEscape } from './regex.js'
import { likeEscape } from './like-escape.js'
import { activeDateTimeStyle } from '../types/datetime-style.js'
import { REGEXP_FUNCTIONS } from './regexp-functions.js'
import { TIMETZ_FUNCTIONS } from './timetz-functions.js'
import { GEOMETRIC_FUNCTIONS } from './geometric-functions.js'
import { overlapsResolver } from './overlaps.js'
import { dateBin, makeTimestamptzIn, truncInZone } from './zoned-datetime.js'
import { padText, regexpReplaceText, repeatText, replaceText } from './text-size.js'
import { bmpOnly, codePointLength, sliceChars, textChars } from '../types/text-chars.js'
import { floatDiv, floatExp, floatMul, floatPower, trigonometric } from '../types/float-math.js'
import { numericExp, numericFactorial, numericLn, numericLog, numericPower, numericSqrt } from './numeric-math.js'
import { formatLsn, parseLsn } from '../replication/lsn.js'
import { promoteStandby } from './pg-promote.js'
import type { ScalarImpl, ScalarResolver as Resolver } from './scalar-impl.js'
import { isoTimestamp, jsonArrayText, jsonObjectText, jsonText } from './json-text.js'
import { sessionSearchPath } from '../catalog/search-path.js'
import { inheritedName, ownEntry, setOwn } from '../parser/own-entry.js'


const num = (t: SqlType) => isNumericType(t) || t.id === 'unknown'
const str = (v: RtValue) => v as string
const int = (v: RtValue) => Number(v)

function same(n: number, t: SqlType): SqlType[] {
  return Array.from({ length: n }, () => t)
}

function textFn(arity: number[], fn: (a: RtValue[]) => RtValue, result: SqlType = T.text): Resolver {
  return (ts) => (arity.includes(ts.length) ? { args: same(ts.length, T.text), result, fn } : null)
}

/**
 * The longest text a function that goes through the engine's own global replace takes
 * (UTF-16 units): 64 Mi. That replace keeps every match until the end; past about 134
 * million matches (or tens of millions with groups) it ends the process instead of
 * throwing (`initcap(repeat('a ', 150000000))` did). 54000 past it.
 */
const MAX_TEXT_ARGUMENT = 2 ** 26

/** textFn for such a function: its text arguments bounded by MAX_TEXT_ARGUMENT. */
function boundedTextFn(arity: number[], fn: (a: RtValue[]) => RtValue, result: SqlType = T.text): Resolver {
  const bounded = (a: RtValue[]): RtValue => {
    for (const v of a) {
      if (typeof v === 'string' && v.length > MAX_TEXT_ARGUMENT) {
        throw new SqlError(SqlState.programLimitExceeded, `text argument of ${v.length} characters exceeds the maximum of ${MAX_TEXT_ARGUMENT} for this function`)
      }
    }
    return fn(a)
  }
  return (ts) => (arity.includes(ts.length) ? { args: same(ts.length, T.text), result, fn: bounded } : null)
}

/** Picks numeric vs float8 variants the way PostgreSQL's preferred-type rules do. */
function numericOrFloat(t: SqlType): SqlType {
  // An integer goes to float8, numeric's preferred type (round(7) / 2 is 3.5, as PostgreSQL; it was numeric's 3.5000000000000000).
  return t.id === 'float4' || t.id === 'float8' || t.id === 'int2' || t.id === 'int4' || t.id === 'int8' ? T.float8 : T.numeric
}

function floorDecimal(d: Decimal): Decimal {
  const t = d.truncToBigInt()
  return new Decimal(d.sign() < 0 && !d.equals(new Decimal(t, 0)) ? t - 1n : t, 0)
}

function roundDecimal(d: Decimal, s: number): Decimal {
  if (!d.isFinite()) return d
  if (s >= 0) return d.withScale(s)
  const f = 10n ** BigInt(-s)
  const r = d.withScale(0)
  const q = r.coef >= 0n ? (r.coef + f / 2n) / f : -((-r.coef + f / 2n) / f)
  return new Decimal(q * f, 0)
}

function truncDecimal(d: Decimal, s: number): Decimal {
  if (!d.isFinite()) return d
  if (s >= d.scale) return d.withScale(s)
  if (s < 0) {
    // Truncate to a multiple of 10^-s, shown with no fractional digits.
    const f = 10n ** BigInt(-s)
    return new Decimal((d.truncToBigInt() / f) * f, 0)
  }
  const f = 10n ** BigInt(d.scale - s)
  return new Decimal(d.coef / f, s)
}

function randomUuid(ctx: ExecCtx): string {
  let s = ''
  for (let i = 0; i < 32; i++) {
    let d = Math.floor(ctx.random() * 16)
    if (i === 12) d = 4
    if (i === 16) d = (d & 3) | 8
    s += d.toString(16)
  }
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
}

/** A SQL value as JSON, as to_json renders it (arrays nest by dimension). */
export function sqlToJson(v: RtValue, t: SqlType): JsonValue {
  if (v === null) return null
  if (t.id === 'json' || t.id === 'jsonb') return parseJsonText(v as string)
  if (t.id === 'bool') return v as boolean
  if (isNumericType(t)) {
    // NaN and infinities have no JSON number: PostgreSQL writes them as strings.
    const text = formatText(v, t)!
    const n = Number(text)
    // An integer a double cannot hold exactly keeps its digits (a bigint id read 9007199254740992).
    if (Number.isFinite(n) && !Number.isSafeInteger(n) && /^-?\d+$/.test(text)) return BigInt(text)
    return Number.isFinite(n) ? n : text
  }
  if (v instanceof SqlArray) return nestedJson(v, elementType(t))
  if (t.id === 'timestamp' || t.id === 'timestamptz') return isoTimestamp(formatText(v, t)!, t.id === 'timestamptz')
  // A row is an object of its fields, in field order.
  if (v instanceof RowValue) {
    const items = rowItems(v)
    const out: { [k: string]: JsonValue } = {}
    items.forEach((x, i) => { out[t.fields?.[i]?.name ?? `f${i + 1}`] = sqlToJson(x, t.fields?.[i]?.type ?? T.text) })
    return out
  }
  return formatText(v, t)
}

/** PostgreSQL's pretty form of row_to_json / array_to_json: a line break after each top-level comma. */
function prettyTop(v: JsonValue): string {
  if (Array.isArray(v)) return '[' + v.map((x) => stringifyJson(x)).join(',\n ') + ']'
  if (v !== null && typeof v === 'object') return '{' + Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${stringifyJson(x)}`).join(',\n ') + '}'
  return stringifyJson(v)
}

/** A (multidimensional) array as nested JSON arrays, as to_json renders it. */
function nestedJson(a: SqlArray, el: SqlType): JsonValue {
  if (a.ndims === 0) return []
  let k = 0
  const build = (d: number): JsonValue[] => {
    const out: JsonValue[] = []
    for (let i = 0; i < a.dims[d]!; i++) out.push(d === a.ndims - 1 ? sqlToJson(a.items[k++]!, el) : build(d + 1))
    return out
  }
  return build(0)
}

const FUNCTIONS: Record<string, Resolver> = {
  // strings
  // length(character) ignores the padding, as bpchar's semantics do.
  length: (ts) => (ts.length === 1 ? { args: [T.text], result: T.int4, fn: (a) => codePointLength(ts[0]!.id === 'bpchar' ? str(a[0]!).replace(/ +$/, '') : str(a[0]!)) } : null),
  char_length: textFn([1], (a) => codePointLength(str(a[0]!)), T.int4),
  character_length: textFn([1], (a) => codePointLength(str(a[0]!)), T.int4),
  octet_length: (ts) => utf8Length(ts, 1),
  bit_length: (ts) => utf8Length(ts, 8),
  lower: textFn([1], (a) => mapCase(str(a[0]!), false)),
  upper: textFn([1], (a) => mapCase(str(a[0]!), true)),
  // The first letter or digit of each run of them in upper case, the rest in lower case.
  initcap: boundedTextFn([1], (a) => str(a[0]!).replace(/[\p{L}\p{N}]+/gu, (word) => {
    const first = String.fromCodePoint(word.codePointAt(0)!)
    return mapCase(first, true) + mapCase(word.slice(first.length), false)
  })),
  btrim: textFn([1, 2], (a) => trimChars(str(a[0]!), a[1] === undefined ? ' ' : str(a[1]), true, true)),
  ltrim: textFn([1, 2], (a) => trimChars(str(a[0]!), a[1] === undefined ? ' ' : str(a[1]), true, false)),
  rtrim: textFn([1, 2], (a) => trimChars(str(a[0]!), a[1] === undefined ? ' ' : str(a[1]), false, true)),
  // An empty search string matches nothing, as in PostgreSQL (splitting on '' put the replacement between every character).
  // overlay(s PLACING r FROM start [FOR count]): s's first start-1 characters (bytes), r, then s from start+count (missing until 2026-12-03).
  overlay: (ts) => {
    if (ts.length !== 3 && ts.length !== 4) return null
    const binary = ts[0]!.id === 'bytea'
    const t = binary ? T.bytea : T.text
    return { args: [t, t, T.int4, T.int4].slice(0, ts.length), result: t, fn: (a) => {
      const start = int(a[2]!)
      if (start <= 0) throw new SqlError(SqlState.substringError, 'negative substring length not allowed')
      if (binary) {
        const src = a[0] as Uint8Array
        const put = a[1] as Uint8Array
        const count = a.length > 3 ? int(a[3]!) : put.length
        const tail = src.subarray(Math.max(0, start + count - 1))
        const head = src.subarray(0, Math.min(src.length, start - 1))
        const out = new Uint8Array(head.length + put.length + tail.length)
        out.set(head, 0)
        out.set(put, head.length)
        out.set(tail, head.length + put.length)
        return out
      }
      const src = str(a[0]!)
      const put = str(a[1]!)
      const count = a.length > 3 ? int(a[3]!) : codePointLength(put)
      return sliceChars(src, 0, start - 1) + put + sliceChars(src, Math.max(0, start + count - 1))
    } }
  },
  // What `SIMILAR TO` compiles to (expr/compile.ts): the pattern as a regular expression.
  similar_to_escape: boundedTextFn([1, 2], (a) => similarToEscape(str(a[0]!), a.length === 2 ? str(a[1]!) : '\\')),
  replace: textFn([3], (a) => replaceText(str(a[0]!), str(a[1]!), str(a[2]!))),
  reverse: textFn([1], (a) => textChars(str(a[0]!)).reverse().join('')),
  md5: (ts) => (ts.length === 1 ? { args: [ts[0]!.id === 'bytea' ? T.bytea : T.text], result: T.text, fn: (a) => md5Hex(a[0] as string | Uint8Array) } : null),
  format: (ts) => (ts.length >= 1 ? { args: ts.map((t) => (t.id === 'unknown' ? T.text : t)), result: T.text, nonStrict: true, fn: (a) => (a[0] === null ? null : formatSql(str(a[0]!), a.slice(1), ts.slice(1).map((t) => (t.id === 'unknown' ? T.text : t)))) } : null),
  to_number: (ts) => (ts.length === 2 ? { args: [T.text, T.text], result: T.numeric, fn: (a) => toNumber(str(a[0]!), str(a[1]!)) } : null),
  to_char: (ts) => {
    if (ts.length !== 2) return null
    const t = ts[0]!
    if (t.id === 'timestamp' || t.id === 'timestamptz' || t.id === 'date') {
      return { args: [t.id === 'date' ? T.timestamp : t, T.text], result: T.text, fn: (a) => toCharTimestamp(a[0] as number, str(a[1]!), t.id === 'timestamptz') }
    }
    if (t.id === 'interval') return { args: [T.interval, T.text], result: T.text, fn: (a) => toCharInterval(a[0] as Interval, str(a[1]!)) }
    if (num(t)) {
      return { args: [t.id === 'unknown' ? T.numeric : t, T.text], result: T.text, fn: (a) => {
        const v = a[0]!
        const digits = t.id === 'float4' ? 6 : 15
        if (typeof v === 'number' && (t.id === 'float4' || t.id === 'float8')) return toCharNumeric(v, str(a[1]!), digits)
        return toCharNumeric(v instanceof Decimal ? v : typeof v === 'number' ? Decimal.fromNumber(v) : new Decimal(BigInt(v as bigint), 0), str(a[1]!))
      } }
    }
    return null
  },
  width_bucket: (ts) => (ts.length === 4 ? (ts.slice(0, 3).some((t) => t.id === 'float4' || t.id === 'float8') ? { args: [T.float8, T.float8, T.float8, T.int4], result: T.int4, fn: (a) => widthBucket(a[0] as number, a[1] as number, a[2] as number, a[3] as number) } : { args: [T.numeric, T.numeric, T.numeric, T.int4], result: T.int4, fn: (a) => widthBucket((a[0] as Decimal).toNumber(), (a[1] as Decimal).toNumber(), (a[2] as Decimal).toNumber(), a[3] as number) }) : null),
  make_timestamp: (ts) => (ts.length === 6 ? { args: [T.int4, T.int4, T.int4, T.int4, T.int4, T.float8], result: T.timestamp, fn: (a) => makeTimestamp(int(a[0]!), int(a[1]!), int(a[2]!), int(a[3]!), int(a[4]!), a[5] as number) } : null),
  make_timestamptz: (ts) => (ts.length === 6 ? { args: [T.int4, T.int4, T.int4, T.int4, T.int4, T.float8], result: T.timestamptz, fn: (a) => makeTimestamp(int(a[0]!), int(a[1]!), int(a[2]!), int(a[3]!), int(a[4]!), a[5] as number) }
    : ts.length === 7 ? { args: [T.int4, T.int4, T.int4, T.int4, T.int4, T.float8, T.text], result: T.timestamptz, fn: (a) => makeTimestamptzIn(int(a[0]!), int(a[1]!), int(a[2]!), int(a[3]!), int(a[4]!), a[5] as number, str(a[6]!)) }
    : null),
  date_bin: (ts) => {
    if (ts.length !== 3) return null
    const t = ts[1]!.id === 'timestamptz' || ts[2]!.id === 'timestamptz' ? T.timestamptz : T.timestamp
    return { args: [T.interval, t, t], result: t, fn: (a) => dateBin(a[0] as Interval, a[1] as number, a[2] as number) }
  },
  make_time: (ts) => (ts.length === 3 ? { args: [T.int4, T.int4, T.float8], result: T.time, fn: (a) => makeTime(int(a[0]!), int(a[1]!), a[2] as number) } : null),
  make_interval: (ts) => (ts.length <= 7 ? { args: ts.map((_t, i) => (i === 6 ? T.float8 : T.int4)), result: T.interval, fn: (a) => {
    const n = (i: number) => (a[i] === undefined ? 0 : Number(a[i]))
    return makeInterval(n(0), n(1), n(2), n(3), n(4), n(5), n(6))
  } } : null),
  ascii: textFn([1], (a) => str(a[0]!).codePointAt(0) ?? 0, T.int4),
  chr: (ts) => (ts.length === 1 ? { args: [T.int4], result: T.text, fn: (a) => chr(int(a[0]!)) } : null),
  translate: textFn([3], (a) => {
    const from = textChars(str(a[1]!))
    const to = textChars(str(a[2]!))
    return textChars(str(a[0]!)).map((c) => {
      const i = from.indexOf(c)
      return i < 0 ? c : (to[i] ?? '')
    }).join('')
  }),
  starts_with: textFn([2], (a) => str(a[0]!).startsWith(str(a[1]!)), T.bool),
  strpos: textFn([2], (a) => position(str(a[0]!), str(a[1]!)), T.int4),
  position: textFn([2], (a) => position(str(a[0]!), str(a[1]!)), T.int4),
  substring: (ts) => substrResolver(ts, true),
  // substr takes positions only (substr('abc', '2') is from the second character).
  substr: (ts) => substrResolver(ts, false),
  left: (ts) => (ts.length === 2 ? { args: [T.text, T.int4], result: T.text, fn: (a) => {
    const c = str(a[0]!)
    const n = int(a[1]!)
    return n >= 0 ? sliceChars(c, 0, n) : sliceChars(c, 0, Math.max(0, codePointLength(c) + n))
  } } : null),
  right: (ts) => (ts.length === 2 ? { args: [T.text, T.int4], result: T.text, fn: (a) => {
    const c = str(a[0]!)
    const n = int(a[1]!)
    return n >= 0 ? sliceChars(c, Math.max(0, codePointLength(c) - n)) : sliceChars(c, -n)
  } } : null),
  lpad: (ts) => padResolver(ts, true),
  rpad: (ts) => padResolver(ts, false),
  repeat: (ts) => (ts.length === 2 ? { args: [T.text, T.int4], result: T.text, fn: (a) => repeatText(str(a[0]!), int(a[1]!)) } : null),
  split_part: (ts) => (ts.length === 3 ? { args: [T.text, T.text, T.int4], result: T.text, fn: (a) => {
    const n = int(a[2]!)
    if (n === 0) throw new SqlError(SqlState.invalidParameterValue, 'field position must not be zero')
    return splitPart(str(a[0]!), str(a[1]!), n)
  } } : null),
  // num_nulls / num_nonnulls(VARIADIC "any"): how many arguments are NULL or not (missing until 2026-12-03).
  num_nulls: (ts) => countNulls(ts, true),
  num_nonnulls: (ts) => countNulls(ts, false),
  concat: (ts) => ({ args: ts.map((t) => (t.id === 'unknown' ? T.text : t)), result: T.text, nonStrict: true, fn: (a) => a.map((v, i) => (v === null ? '' : formatText(v, ts[i]!.id === 'unknown' ? T.text : ts[i]!, activeDateTimeStyle()))).join('') }),
  concat_ws: (ts) => (ts.length >= 1 ? { args: ts.map((t) => (t.id === 'unknown' ? T.text : t)), result: T.text, nonStrict: true, fn: (a) => {
    if (a[0] === null) return null
    // Types by argument position: NULLs are skipped only after each value is paired with its type.
    const parts = a.slice(1).map((v, i) => (v === null ? null : formatText(v, ts[i + 1]!.id === 'unknown' ? T.text : ts[i + 1]!, activeDateTimeStyle())))
    return parts.filter((p) => p !== null).join(str(a[0]!))
  } } : null),
  // With an integer 4th argument (start), regexp-functions.ts's form.
  regexp_replace: (ts) => (ts.length === 3 || (ts.length === 4 && !isIntegerType(ts[3]!)) ? { args: same(ts.length, T.text), result: T.text, fn: (a) => {
    const re = compilePattern(str(a[1]!), regexOptions(a[3] === undefined ? '' : str(a[3])))
    return regexpReplaceText(str(a[0]!), re, str(a[2]!))
  } } : null),
  like_escape: boundedTextFn([2], (a) => likeEscape(str(a[0]!), str(a[1]!))),
  to_hex: (ts) => (ts.length === 1 ? { args: [ts[0]!.id === 'int8' ? T.int8 : T.int4], result: T.text, fn: (a) => {
    const v = BigInt(a[0] as number | bigint)
    return (v < 0n ? BigInt.asUintN(ts[0]!.id === 'int8' ? 64 : 32, v) : v).toString(16)
  } } : null),
  quote_literal: textFn([1], (a) => quoteLiteral(str(a[0]!))),
  quote_ident: textFn([1], (a) => quoteIdent(str(a[0]!))),
  // quote_nullable(x): quote_literal, with NULL as the text NULL (missing until 2026-12-03).
  quote_nullable: (ts) => (ts.length === 1 ? { args: [ts[0]!.id === 'unknown' ? T.text : ts[0]!], result: T.text, nonStrict: true, fn: (a) => (a[0] === null ? 'NULL' : quoteLiteral(formatText(a[0]!, ts[0]!.id === 'unknown' ? T.text : ts[0]!, activeDateTimeStyle())!)) } : null),
  lcm: (ts) => gcdResolver(ts, true),
  // scale, min_scale and trim_scale: NULL for NaN and infinities, as in PostgreSQL.
  scale: (ts) => (ts.length === 1 ? { args: [T.numeric], result: T.int4, fn: (a) => ((a[0] as Decimal).isFinite() ? (a[0] as Decimal).scale : null) } : null),
  min_scale: (ts) => (ts.length === 1 ? { args: [T.numeric], result: T.int4, fn: (a) => ((a[0] as Decimal).isFinite() ? (a[0] as Decimal).normalized().scale : null) } : null),
  trim_scale: (ts) => (ts.length === 1 ? { args: [T.numeric], result: T.numeric, fn: (a) => (a[0] as Decimal).normalized() } : null),
  factorial: (ts) => (ts.length === 1 ? { args: [T.int8], result: T.numeric, fn: (a) => numericFactorial(a[0] as bigint) } : null),
  // math
  abs: (ts) => (ts.length === 1 && num(ts[0]!) ? mathSame(ts[0]!, (v, t) => {
    if (v instanceof Decimal) return v.abs()
    if (typeof v === 'bigint') return checkInt8(v < 0n ? -v : v)
    return t.id === 'int4' || t.id === 'int2' ? checkInt(Math.abs(v as number), t) : Math.abs(v as number)
  }) : null),
  ceil: (ts) => roundingResolver(ts, (d) => floorDecimal(d.neg()).neg(), Math.ceil),
  ceiling: (ts) => FUNCTIONS.ceil!(ts),
  floor: (ts) => roundingResolver(ts, floorDecimal, Math.floor),
  round: (ts) => {
    if (ts.length === 1) return roundingResolver(ts, (d) => d.withScale(0), (x) => {
      const r = Math.round(x)
      return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r
    })
    if (ts.length === 2) return { args: [T.numeric, T.int4], result: T.numeric, fn: (a) => roundDecimal(a[0] as Decimal, clampRoundingScale(int(a[1]!))) }
    return null
  },
  trunc: (ts) => {
    if (ts.length === 1) return roundingResolver(ts, (d) => new Decimal(d.truncToBigInt(), 0), Math.trunc)
    if (ts.length === 2) return { args: [T.numeric, T.int4], result: T.numeric, fn: (a) => truncDecimal(a[0] as Decimal, clampRoundingScale(int(a[1]!))) }
    return null
  },
  sign: (ts) => (ts.length === 1 ? (numericOrFloat(ts[0]!).id === 'numeric' ? { args: [T.numeric], result: T.numeric, fn: (a) => ((a[0] as Decimal).isNaN() ? a[0]! : new Decimal(BigInt((a[0] as Decimal).sign()), 0)) } : { args: [T.float8], result: T.float8, fn: (a) => Math.sign(a[0] as number) }) : null),
  mod: (ts) => {
    if (ts.length !== 2) return null
    const t = commonType(ts[0]!, ts[1]!)
    if (!t || !isNumericType(t)) return null
    if (isIntegerType(t)) return { args: [t, t], result: t, fn: (a) => {
      if (a[1] === 0 || a[1] === 0n) throw new SqlError(SqlState.divisionByZero, 'division by zero')
      return t.id === 'int8' ? (a[0] as bigint) % (a[1] as bigint) : (a[0] as number) % (a[1] as number)
    } }
    return { args: [T.numeric, T.numeric], result: T.numeric, fn: (a) => (a[0] as Decimal).mod(a[1] as Decimal) }
  },
  div: (ts) => (ts.length === 2 ? { args: [T.numeric, T.numeric], result: T.numeric, fn: (a) => {
    const x = a[0] as Decimal
    const y = a[1] as Decimal
    // div() of NaN or infinities: the quotient's special value (Infinity / 2 is Infinity).
    if (!x.isFinite() || !y.isFinite()) return x.div(y)
    if (y.isZero()) throw new SqlError(SqlState.divisionByZero, 'division by zero')
    // The quotient truncated toward zero: x/y = (cx * 10^sy) / (cy * 10^sx).
    return new Decimal((x.coef * 10n ** BigInt(y.scale)) / (y.coef * 10n ** BigInt(x.scale)), 0)
  } } : null),
  power: (ts) => (ts.length === 2 ? (numericArgs(ts) ? { args: [T.numeric, T.numeric], result: T.numeric, fn: (a) => numericPower(a[0] as Decimal, a[1] as Decimal) } : floatFn(2, (a, b) => floatPower(a, b!))) : null),
  pow: (ts) => FUNCTIONS.power!(ts),
  sqrt: (ts) => (ts.length === 1 && ts[0]!.id === 'numeric' ? { args: [T.numeric], result: T.numeric, fn: (a) => numericSqrt(a[0] as Decimal) } : ts.length === 1 ? floatFn(1, (a) => {
    if (a < 0) throw new SqlError(SqlState.invalidArgumentForPowerFunction, 'cannot take square root of a negative number')
    return Math.sqrt(a)
  }) : null),
  cbrt: (ts) => (ts.length === 1 ? floatFn(1, Math.cbrt) : null),
  exp: (ts) => (ts.length === 1 && ts[0]!.id === 'numeric' ? { args: [T.numeric], result: T.numeric, fn: (a) => numericExp(a[0] as Decimal) } : ts.length === 1 ? floatFn(1, floatExp) : null),
  ln: (ts) => (ts.length === 1 && ts[0]!.id === 'numeric' ? { args: [T.numeric], result: T.numeric, fn: (a) => numericLn(a[0] as Decimal) } : ts.length === 1 ? floatFn(1, (a) => floatLog(a, Math.log)) : null),
  log: (ts) => (ts.length === 1 && ts[0]!.id === 'numeric' ? { args: [T.numeric], result: T.numeric, fn: (a) => numericLog(new Decimal(10n, 0), a[0] as Decimal) } : ts.length === 1 ? floatFn(1, (a) => floatLog(a, Math.log10)) : ts.length === 2 ? { args: [T.numeric, T.numeric], result: T.numeric, fn: (a) => numericLog(a[0] as Decimal, a[1] as Decimal) } : null),
  log10: (ts) => (ts.length === 1 && ts[0]!.id === 'numeric' ? { args: [T.numeric], result: T.numeric, fn: (a) => numericLog(new Decimal(10n, 0), a[0] as Decimal) } : ts.length === 1 ? floatFn(1, (a) => floatLog(a, Math.log10)) : null),
  pi: (ts) => (ts.length === 0 ? { args: [], result: T.float8, fn: () => Math.PI } : null),
  degrees: (ts) => (ts.length === 1 ? floatFn(1, (a) => floatDiv(a, Math.PI / 180, false)) : null),
  radians: (ts) => (ts.length === 1 ? floatFn(1, (a) => floatMul(a, Math.PI / 180, false)) : null),
  sin: (ts) => (ts.length === 1 ? floatFn(1, trigonometric(Math.sin)) : null),
  cos: (ts) => (ts.length === 1 ? floatFn(1, trigonometric(Math.cos)) : null),
  tan: (ts) => (ts.length === 1 ? floatFn(1, trigonometric(Math.tan)) : null),
  // The inverse and hyperbolic functions (missing until 2026-12-03: 42883), with PostgreSQL's domains.
  asin: (ts) => (ts.length === 1 ? floatFn(1, inDomain(Math.asin, (x) => x >= -1 && x <= 1)) : null),
  acos: (ts) => (ts.length === 1 ? floatFn(1, inDomain(Math.acos, (x) => x >= -1 && x <= 1)) : null),
  atan: (ts) => (ts.length === 1 ? floatFn(1, Math.atan) : null),
  atan2: (ts) => (ts.length === 2 ? floatFn(2, (y, x) => Math.atan2(y, x!)) : null),
  // cot(0) is Infinity, not an overflow (as PostgreSQL's dcot).
  cot: (ts) => (ts.length === 1 ? floatFn(1, (x) => (Number.isNaN(x) ? x : 1 / trigonometric(Math.tan)(x))) : null),
  sinh: (ts) => (ts.length === 1 ? floatFn(1, Math.sinh) : null),
  cosh: (ts) => (ts.length === 1 ? floatFn(1, Math.cosh) : null),
  tanh: (ts) => (ts.length === 1 ? floatFn(1, Math.tanh) : null),
  asinh: (ts) => (ts.length === 1 ? floatFn(1, Math.asinh) : null),
  acosh: (ts) => (ts.length === 1 ? floatFn(1, inDomain(Math.acosh, (x) => x >= 1)) : null),
  atanh: (ts) => (ts.length === 1 ? floatFn(1, inDomain(Math.atanh, (x) => x >= -1 && x <= 1)) : null),
  random: (ts) => (ts.length === 0 ? { args: [], result: T.float8, volatile: true, fn: (_a, ctx) => ctx.random() } : null),
  gcd: (ts) => gcdResolver(ts, false),
  // date/time
  now: (ts) => (ts.length === 0 ? { args: [], result: T.timestamptz, fn: (_a, ctx) => ctx.nowMicros } : null),
  transaction_timestamp: (ts) => FUNCTIONS.now!(ts),
  statement_timestamp: (ts) => FUNCTIONS.now!(ts),
  clock_timestamp: (ts) => (ts.length === 0 ? { args: [], result: T.timestamptz, volatile: true, fn: (_a, ctx) => ctx.clockMicros() } : null),
  timeofday: (ts) => (ts.length === 0 ? { args: [], result: T.text, volatile: true, fn: (_a, ctx) => formatText(ctx.clockMicros(), T.timestamptz) } : null),
  date_trunc: (ts) => {
    if (ts.length === 3) return { args: [T.text, T.timestamptz, T.text], result: T.timestamptz, fn: (a) => truncInZone(str(a[0]!).toLowerCase(), a[1] as number, str(a[2]!)) }
    if (ts.length !== 2) return null
    // A date goes through timestamptz, as PostgreSQL resolves date_trunc(text, date).
    const t = ts[1]!.id === 'timestamptz' || ts[1]!.id === 'date' ? T.timestamptz : ts[1]!.id === 'interval' ? T.interval : T.timestamp
    if (t.id === 'interval') return { args: [T.text, T.interval], result: T.interval, fn: (a) => {
      const iv = a[1] as Interval
      const f = str(a[0]!).toLowerCase()
      const us = truncTimestamp(f === 'year' || f === 'month' ? 'day' : f, iv.micros)
      if (f === 'year') return new Interval(Math.trunc(iv.months / 12) * 12, 0, 0)
      if (f === 'month') return new Interval(iv.months, 0, 0)
      return new Interval(iv.months, iv.days, f === 'day' ? 0 : us)
    } }
    return { args: [T.text, t], result: t, fn: (a) => truncTimestamp(str(a[0]!).toLowerCase(), a[1] as number) }
  },
  // timestamptz(date, time): the date at that time of day (the session zone is UTC).
  timestamptz: (ts) => dateAndTime(ts, T.timestamptz),
  isfinite: (ts) => (ts.length === 1 && ['date', 'timestamp', 'timestamptz', 'interval'].includes(ts[0]!.id) ? {
    args: [ts[0]!], result: T.bool, fn: (a) => (a[0] instanceof Interval ? true : Number.isFinite(a[0] as number)),
  } : null),
  extract: (ts) => {
    if (ts.length !== 2) return null
    const t = ts[1]!.id === 'unknown' ? T.timestamptz : ts[1]!
    if (!['date', 'time', 'timestamp', 'timestamptz', 'interval'].includes(t.id)) return null
    return { args: [T.text, t], result: T.numeric, fn: (a) => {
      const r = extractField(str(a[0]!), t, a[1]!)
      return typeof r === 'number' ? Decimal.fromNumber(r) : r
    } }
  },
  date_part: (ts) => {
    if (ts.length !== 2) return null
    const t = ts[1]!.id === 'unknown' ? T.timestamptz : ts[1]!
    if (!['date', 'time', 'timestamp', 'timestamptz', 'interval'].includes(t.id)) return null
    return { args: [T.text, t], result: T.float8, fn: (a) => {
      const r = extractField(str(a[0]!), t, a[1]!)
      return r instanceof Decimal ? r.toNumber() : r
    } }
  },
  to_timestamp: (ts) => (ts.length === 1 ? { args: [T.float8], result: T.timestamptz, fn: (a) => timestampFromEpoch(a[0] as number) }
    : ts.length === 2 ? { args: [T.text, T.text], result: T.timestamptz, fn: (a) => toTimestamp(str(a[0]!), str(a[1]!)) } : null),
  overlaps: overlapsResolver,
  to_date: (ts) => (ts.length === 2 ? { args: [T.text, T.text], result: T.date, fn: (a) => toDate(str(a[0]!), str(a[1]!)) } : null),
  make_date: (ts) => (ts.length === 3 ? { args: [T.int4, T.int4, T.int4], result: T.date, fn: (a) => makeDate(int(a[0]!), int(a[1]!), int(a[2]!)) } : null),
  age: (ts) => (ts.length === 2 ? { args: [T.timestamptz, T.timestamptz], result: T.interval, fn: (a) => age(a[0] as number, a[1] as number) } : ts.length === 1 ? { args: [T.timestamptz], result: T.interval, fn: (a, ctx) => age(Math.floor(ctx.nowMicros / USEC_PER_DAY) * USEC_PER_DAY, a[0] as number) } : null),
  // AT TIME ZONE: a timestamptz as local time in the zone, or a local time there as a timestamptz.
  timezone: (ts) => (ts.length === 2 ? { args: [T.text, ts[1]!.id === 'timestamp' ? T.timestamp : T.timestamptz], result: ts[1]!.id === 'timestamp' ? T.timestamptz : T.timestamp, fn: (a) => {
    return ts[1]!.id === 'timestamp' ? zoneToUtc(str(a[0]!), a[1] as number) : utcToZone(str(a[0]!), a[1] as number)
  } } : null),
  // As PostgreSQL: whole months (30 days) and days (24 hours) move up, the signs of the
  // parts are made to agree, and a part that leaves its 32-bit range is 22008.
  justify_days: (ts) => (ts.length === 1 ? { args: [T.interval], result: T.interval, fn: (a) => {
    const iv = a[0] as Interval
    let months = iv.months + Math.trunc(iv.days / 30)
    let days = iv.days % 30
    if (months > 0 && days < 0) { days += 30; months-- } else if (months < 0 && days > 0) { days -= 30; months++ }
    return Interval.checked(months, days, iv.micros)
  } } : null),
  justify_hours: (ts) => (ts.length === 1 ? { args: [T.interval], result: T.interval, fn: (a) => {
    const iv = a[0] as Interval
    const d = Math.trunc(iv.micros / USEC_PER_DAY)
    let days = iv.days + d
    let micros = iv.micros - d * USEC_PER_DAY
    if (days > 0 && micros < 0) { micros += USEC_PER_DAY; days-- } else if (days < 0 && micros > 0) { micros -= USEC_PER_DAY; days++ }
    return Interval.checked(iv.months, days, micros)
  } } : null),
  justify_interval: (ts) => (ts.length === 1 ? { args: [T.interval], result: T.interval, fn: (a) => {
    const iv = a[0] as Interval
    let { months, days, micros } = iv
    const check = (): void => { Interval.checked(months, days, 0) }
    // Days first when both parts share a sign: that may avoid an overflow.
    if ((days > 0 && micros > 0) || (days < 0 && micros < 0)) {
      const m = Math.trunc(days / 30)
      days -= m * 30
      months += m
      check()
    }
    const wholeDays = Math.trunc(micros / USEC_PER_DAY)
    micros -= wholeDays * USEC_PER_DAY
    days += wholeDays
    check()
    const m = Math.trunc(days / 30)
    days -= m * 30
    months += m
    check()
    if (months > 0 && (days < 0 || (days === 0 && micros < 0))) { days += 30; months-- } else if (months < 0 && (days > 0 || (days === 0 && micros > 0))) { days -= 30; months++ }
    if (days > 0 && micros < 0) { micros += USEC_PER_DAY; days-- } else if (days < 0 && micros > 0) { micros -= USEC_PER_DAY; days++ }
    return Interval.checked(months, days, micros)
  } } : null),
  // misc
  gen_random_uuid: (ts) => (ts.length === 0 ? { args: [], result: T.uuid, volatile: true, fn: (_a, ctx) => randomUuid(ctx) } : null),
  uuid_generate_v4: (ts) => FUNCTIONS.gen_random_uuid!(ts),
  version: (ts) => (ts.length === 0 ? { args: [], result: T.text, fn: () => 'PostgreSQL 17.0 (Concord 0.1.0, an eventually consistent multi-master database)' } : null),
  current_database: (ts) => (ts.length === 0 ? { args: [], result: T.name, fn: (_a, ctx) => ctx.database } : null),
  current_schema: (ts) => (ts.length === 0 ? { args: [], result: T.name, fn: (_a, ctx) => sessionSearchPath(ctx).creation } : null),
  current_setting: (ts) => (ts.length === 1 || ts.length === 2 ? { args: same(ts.length, ts.length === 2 ? T.text : T.text).map((t, i) => (i === 1 ? T.bool : t)), result: T.text, fn: (a, ctx) => ctx.settings.show(str(a[0]!), a[1] === true) } : null),
  set_config: (ts) => (ts.length === 3 ? { args: [T.text, T.text, T.bool], result: T.text, volatile: true, fn: (a, ctx) => {
    const { writes } = ctx.settings.set(str(a[0]!), str(a[1]!), a[2] === true)
    for (const w of writes) ctx.tx.setCatalog(w.kind, w.name, w.value)
    return ctx.settings.show(str(a[0]!))
  } } : null),
  current_region: (ts) => (ts.length === 0 ? { args: [], result: T.text, fn: (_a, ctx) => ctx.region } : null),
  current_node: (ts) => (ts.length === 0 ? { args: [], result: T.text, fn: (_a, ctx) => ctx.nodeId } : null),
  pg_last_xact_replay_timestamp: (ts) => (ts.length === 0 ? { args: [], result: T.timestamptz, volatile: true, fn: (_a, ctx) => {
    const ms = ctx.replication().lastReplayedCommitMs
    return ms === null ? null : ms * 1000
  } } : null),
  pg_current_wal_lsn: (ts) => (ts.length === 0 ? { args: [], result: T.text, volatile: true, fn: (_a, ctx) => formatLsn(ctx.replication().lsn) } : null),
  pg_current_wal_insert_lsn: (ts) => (ts.length === 0 ? { args: [], result: T.text, volatile: true, fn: (_a, ctx) => formatLsn(ctx.replication().lsn) } : null),
  pg_current_wal_flush_lsn: (ts) => (ts.length === 0 ? { args: [], result: T.text, volatile: true, fn: (_a, ctx) => formatLsn(ctx.replication().lsn) } : null),
  pg_wal_lsn_diff: (ts) => (ts.length === 2 ? { args: [T.text, T.text], result: T.numeric, fn: (a) => {
    const x = parseLsn(str(a[0]!))
    const y = parseLsn(str(a[1]!))
    if (x === null || y === null) throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type pg_lsn: "${x === null ? str(a[0]!) : str(a[1]!)}"`)
    return new Decimal(BigInt(x - y), 0)
  } } : null),
  pg_is_in_recovery: (ts) => (ts.length === 0 ? { args: [], result: T.bool, volatile: true, fn: (_a, ctx) => ctx.replication().role === 'standby' } : null),
  pg_promote: (ts) => (ts.length <= 2 ? { args: ts.length === 0 ? [] : ts.length === 1 ? [T.bool] : [T.bool, T.int4], result: T.bool, volatile: true, fn: (_a, ctx) => promoteStandby(ctx) } : null),
  pg_backend_pid: (ts) => (ts.length === 0 ? { args: [], result: T.int4, fn: (_a, ctx) => ctx.processId } : null),
  // NULL channel: "channel name cannot be empty"; NULL payload: an empty one, as PostgreSQL.
  // pg_sleep(seconds), pg_sleep_for(interval): the session waits once the statement has
  // run, before its result goes out (exec/context.ts `sleep`).
  pg_sleep: (ts) => (ts.length === 1 ? { args: [T.float8], result: T.void, volatile: true, fn: (a, ctx) => sleepFor(ctx, (a[0] as number) * 1000) } : null),
  pg_sleep_for: (ts) => (ts.length === 1 ? { args: [T.interval], result: T.void, volatile: true, fn: (a, ctx) => {
    const iv = a[0] as Interval
    return sleepFor(ctx, (iv.months * 30 * USEC_PER_DAY + iv.days * USEC_PER_DAY + iv.micros) / 1000)
  } } : null),
  pg_notify: (ts) => (ts.length === 2 ? { args: [T.text, T.text], result: T.void, nonStrict: true, volatile: true, fn: (a, ctx) => {
    ctx.notify(a[0] === null ? '' : str(a[0]!), a[1] === null ? '' : str(a[1]!))
    return null
  } } : null),
  jsonb_typeof: (ts) => (ts.length === 1 ? { args: [T.jsonb], result: T.text, fn: (a) => jsonType(parseJsonText(a[0] as string)) } : null),
  json_typeof: (ts) => (ts.length === 1 ? { args: [T.json], result: T.text, fn: (a) => jsonType(parseJsonText(a[0] as string)) } : null),
  jsonb_array_length: (ts) => (ts.length === 1 ? { args: [T.jsonb], result: T.int4, fn: (a) => {
    const v = parseJsonText(a[0] as string)
    if (!Array.isArray(v)) throw new SqlError(SqlState.invalidParameterValue, 'cannot get array length of a non-array')
    return v.length
  } } : null),
  to_jsonb: (ts) => (ts.length === 1 ? { args: [ts[0]!.id === 'unknown' ? T.text : ts[0]!], result: T.jsonb, fn: (a) => formatJsonb(sqlToJson(a[0]!, ts[0]!.id === 'unknown' ? T.text : ts[0]!)) } : null),
  row_to_json: (ts) => (ts.length >= 1 && ts.length <= 2 && ts[0]!.id === 'record' && !ts[0]!.array
    ? { args: [ts[0]!, ...(ts.length === 2 ? [T.bool] : [])], result: T.json, fn: (a) => (a[1] === true ? prettyTop : stringifyJson)(sqlToJson(a[0]!, ts[0]!)) }
    : null),
  array_to_json: (ts) => (ts.length >= 1 && ts.length <= 2 && ts[0]!.array
    ? { args: [ts[0]!, ...(ts.length === 2 ? [T.bool] : [])], result: T.json, fn: (a) => (a[1] === true ? prettyTop : stringifyJson)(sqlToJson(a[0]!, ts[0]!)) }
    : null),
  to_json: (ts) => (ts.length === 1 ? { args: [ts[0]!.id === 'unknown' ? T.text : ts[0]!], result: T.json, fn: (a) => jsonText(a[0]!, ts[0]!.id === 'unknown' ? T.text : ts[0]!) } : null),
  jsonb_build_object: (ts) => buildObject(ts, T.jsonb),
  json_build_object: (ts) => buildObject(ts, T.json),
  jsonb_build_array: (ts) => buildArray(ts, T.jsonb),
  json_build_array: (ts) => buildArray(ts, T.json),
  // regtype output: the type without its modifier (numeric, not numeric(10,2)).
  pg_typeof: (ts) => (ts.length === 1 ? { args: [ts[0]!], result: T.text, nonStrict: true, fn: () => {
    const t = ts[0]!
    if (t.id === 'bpchar' && !t.domain) return t.array ? 'character[]' : 'character'
    const { precision: _p, scale: _s, ...bare } = t
    return typeName(t.id === 'unknown' ? T.unknown : bare)
  } } : null),
}

function jsonType(v: JsonValue): string {
  return jsonKind(v)
}

function buildObject(ts: SqlType[], result: SqlType): ScalarImpl | null {
  if (ts.length % 2 !== 0) throw new SqlError(SqlState.invalidParameterValue, 'argument list must have even number of elements')
  const args = ts.map((t) => (t.id === 'unknown' ? T.text : t))
  return { args, result, nonStrict: true, fn: (a) => {
    const o: Record<string, JsonValue> = {}
    const pairs: Array<[string, string]> = []
    for (let i = 0; i < a.length; i += 2) {
      if (a[i] === null) throw new SqlError(SqlState.invalidParameterValue, `argument ${i + 1}: key must not be null`)
      const kt = args[i]!
      if (kt.array || kt.id === 'record' || kt.id === 'json' || kt.id === 'jsonb') {
        throw new SqlError(SqlState.invalidParameterValue, 'key value must be scalar, not array, composite, or json')
      }
      const key = formatText(a[i]!, args[i]!)!
      if (result.id === 'jsonb') setOwn(o, key, sqlToJson(a[i + 1]!, args[i + 1]!))
      else pairs.push([key, jsonText(a[i + 1]!, args[i + 1]!)])
    }
    return result.id === 'jsonb' ? formatJsonb(o) : jsonObjectText(pairs)
  } }
}

function buildArray(ts: SqlType[], result: SqlType): ScalarImpl {
  const args = ts.map((t) => (t.id === 'unknown' ? T.text : t))
  return { args, result, nonStrict: true, fn: (a) => {
    if (result.id !== 'jsonb') return jsonArrayText(a.map((v, i) => jsonText(v, args[i]!)))
    return formatJsonb(a.map((v, i) => sqlToJson(v, args[i]!)))
  } }
}

/**
 * age(a, b) as PostgreSQL computes it: the field-by-field difference of the two
 * timestamps (years, months, days, time), taken with the later one first, borrows carried
 * into the next larger field (a month's borrow is the length of the earlier timestamp's
 * month), then the sign put back on every field. Before 2026-12-03 a negative age mixed
 * signs (`-21 years -1 mons +13 days 00:00:01` for PostgreSQL's `-21 years -15 days
 * -23:59:59`).
 */
function age(a: number, b: number): Interval {
  const pa = partsFromMicros(a)
  const pb = partsFromMicros(b)
  const sign = a < b ? -1 : 1
  let micro = sign * (pa.micro - pb.micro)
  let second = sign * (pa.second - pb.second)
  let minute = sign * (pa.minute - pb.minute)
  let hour = sign * (pa.hour - pb.hour)
  let day = sign * (pa.day - pb.day)
  let month = sign * (pa.month - pb.month)
  let year = sign * (pa.year - pb.year)
  // Each loop runs a bounded number of times: a field is at most one unit below zero per borrow.
  while (micro < 0) { micro += USEC_PER_SEC; second-- }
  while (second < 0) { second += 60; minute-- }
  while (minute < 0) { minute += 60; hour-- }
  while (hour < 0) { hour += 24; day-- }
  const borrowFrom = a < b ? pa : pb
  while (day < 0) { day += daysInMonth(borrowFrom.year, borrowFrom.month); month-- }
  while (month < 0) { month += 12; year-- }
  const us = ((hour * 60 + minute) * 60 + second) * USEC_PER_SEC + micro
  return new Interval(sign * (year * 12 + month), sign * day, sign * us)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

function widthBucket(x: number, lo: number, hi: number, n: number): number {
  if (Number.isNaN(x) || Number.isNaN(lo) || Number.isNaN(hi)) throw new SqlError(SqlState.invalidArgumentForWidthBucket, 'operand, lower bound, and upper bound cannot be NaN')
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new SqlError(SqlState.invalidArgumentForWidthBucket, 'lower and upper bounds must be finite')
  if (n <= 0) throw new SqlError(SqlState.invalidArgumentForWidthBucket, 'count must be greater than zero')
  if (lo === hi) throw new SqlError(SqlState.invalidArgumentForWidthBucket, 'lower bound cannot equal upper bound')
  if (lo < hi) return x < lo ? 0 : x >= hi ? n + 1 : Math.floor(((x - lo) / (hi - lo)) * n) + 1
  return x > lo ? 0 : x <= hi ? n + 1 : Math.floor(((lo - x) / (lo - hi)) * n) + 1
}

/** chr(n): a Unicode code point; 0, surrogates and values past U+10FFFF are refused as in PostgreSQL. */
function chr(n: number): string {
  if (n < 0) throw new SqlError(SqlState.invalidParameterValue, 'character number must be positive')
  if (n === 0) throw new SqlError(SqlState.programLimitExceeded, 'null character not permitted')
  if (n > 0x10ffff) throw new SqlError(SqlState.programLimitExceeded, `requested character too large for encoding: ${n}`)
  if (n >= 0xd800 && n <= 0xdfff) throw new SqlError(SqlState.programLimitExceeded, `requested character not valid for encoding: ${n}`)
  return String.fromCodePoint(n)
}

/**
 * PostgreSQL clamps the scale of round(numeric, n) and trunc(numeric, n) to what a
 * NUMERIC can hold: 16383 fractional digits, 131072 integer digits (plus one).
 */
function clampRoundingScale(s: number): number {
  return Math.min(Math.max(s, -131073), 16383)
}

/** gcd / lcm on int4 or int8 (int2 is promoted), with PostgreSQL's overflow errors. */
function gcdResolver(ts: SqlType[], lcm: boolean): ScalarImpl | null {
  if (ts.length !== 2 || !ts.every((t) => isIntegerType(t) || t.id === 'unknown')) return null
  const wide = ts.some((t) => t.id === 'int8')
  const t = wide ? T.int8 : T.int4
  return { args: [t, t], result: t, fn: (a) => {
    const x0 = BigInt(a[0] as number | bigint)
    const y0 = BigInt(a[1] as number | bigint)
    let x = x0 < 0n ? -x0 : x0
    let y = y0 < 0n ? -y0 : y0
    while (y) [x, y] = [y, x % y]
    let r = x
    if (lcm) r = x0 === 0n || y0 === 0n ? 0n : ((x0 / x) * y0 < 0n ? -((x0 / x) * y0) : (x0 / x) * y0)
    return wide ? checkInt8(r) : checkInt(Number(r), T.int4)
  } }
}

function position(s: string, sub: string): number {
  const i = s.indexOf(sub)
  return i < 0 ? 0 : [...s.slice(0, i)].length + 1
}

/**
 * split_part: field `n` of `s` split at `d` (from the end when negative), found by
 * scanning, without an array of every field (a text of 200 million fields is one call).
 * An empty delimiter leaves the whole text as the one field.
 */
function splitPart(s: string, d: string, n: number): string {
  if (d === '') return n === 1 || n === -1 ? s : ''
  let k = n
  if (k < 0) {
    // Counted from the end as PostgreSQL does: fields found left to right, then numbered.
    let fields = 1
    for (let i = s.indexOf(d); i >= 0; i = s.indexOf(d, i + d.length)) fields++
    k = fields + n + 1
    if (k < 1) return ''
  }
  let start = 0
  for (let f = 1; f < k; f++) {
    const i = s.indexOf(d, start)
    if (i < 0) return ''
    start = i + d.length
  }
  const end = s.indexOf(d, start)
  return end < 0 ? s.slice(start) : s.slice(start, end)
}

function trimChars(s: string, chars: string, left: boolean, right: boolean): string {
  const set = new Set(textChars(chars))
  if (bmpOnly(s)) {
    // A character is a UTF-16 unit: trimmed by index, without an array of them.
    let i = 0
    let j = s.length
    if (left) while (i < j && set.has(s[i]!)) i++
    if (right) while (j > i && set.has(s[j - 1]!)) j--
    return s.slice(i, j)
  }
  const c = textChars(s)
  let i = 0
  let j = c.length
  if (left) while (i < j && set.has(c[i]!)) i++
  if (right) while (j > i && set.has(c[j - 1]!)) j--
  return c.slice(i, j).join('')
}

function dateAndTime(ts: SqlType[], result: SqlType): ScalarImpl | null {
  if (ts.length !== 2 || !['date', 'unknown'].includes(ts[0]!.id) || !['time', 'unknown'].includes(ts[1]!.id)) return null
  return { args: [T.date, T.time], result, fn: (a) => {
    const days = a[0] as number
    return Number.isFinite(days) ? checkTimestamp(days * USEC_PER_DAY + (a[1] as number)) : days
  } }
}

/**
 * upper() / lower(): each code point mapped to one, as PostgreSQL maps them in a UTF-8
 * locale (towupper / towlower): a character whose full case mapping is several ('ß' ->
 * 'SS', 'ﬁ' -> 'FI', 'İ' -> 'i̇') keeps its single-character one or stays as it is. Until
 * 2026-12-03 upper('ß') was 'SS', which no PostgreSQL locale answers.
 */
const ASCII_ONLY = /^[\x00-\x7f]*$/

function mapCase(s: string, upper: boolean): string {
  // ASCII text (most) maps one character to one.
  if (ASCII_ONLY.test(s)) return upper ? s.toUpperCase() : s.toLowerCase()
  let out = ''
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase()
    out += m.length === ch.length || [...m].length === 1 ? m : ch === '\u0130' ? 'i' : ch
  }
  return out
}

/** octet_length / bit_length of text: its UTF-8 bytes; character(n) counts its padding (PostgreSQL's bpcharoctetlen), so it is read as itself. */
function utf8Length(ts: SqlType[], bits: number): ScalarImpl | null {
  return ts.length !== 1 ? null : { args: [ts[0]!.id === 'bpchar' ? ts[0]! : T.text], result: T.int4, fn: (a) => new TextEncoder().encode(str(a[0]!)).length * bits }
}

function isTextual(t: SqlType): boolean {
  return !t.array && (t.id === 'text' || t.id === 'varchar' || t.id === 'bpchar' || t.id === 'name' || t.id === 'unknown')
}

function substrResolver(ts: SqlType[], patterns: boolean): ScalarImpl | null {
  if (ts.length === 2 && (!patterns || (ts[1]!.id !== 'text' && ts[1]!.id !== 'unknown'))) {
    return { args: [T.text, T.int4], result: T.text, fn: (a) => sliceChars(str(a[0]!), int(a[1]!) - 1) }
  }
  if (ts.length === 2) {
    // substring(text FROM pattern): POSIX regular expression
    return { args: [T.text, T.text], result: T.text, fn: (a) => {
      const m = compilePattern(str(a[1]!)).exec(str(a[0]!))
      // With a parenthesized group, the first group's text: NULL when it took no part in the match.
      if (!m) return null
      return m.length > 1 ? (m[1] ?? null) : m[0]
    } }
  }
  if (ts.length === 3 && patterns && isTextual(ts[1]!) && isTextual(ts[2]!)) {
    // substring(text SIMILAR pattern ESCAPE escape): the part between the escape's `"` markers
    // (the whole match without them), NULL unless the pattern matches the whole text.
    return { args: [T.text, T.text, T.text], result: T.text, fn: (a) => {
      const m = compilePattern(similarToEscape(str(a[1]!), str(a[2]!))).exec(str(a[0]!))
      if (!m) return null
      return m.length > 1 ? (m[1] ?? null) : m[0]
    } }
  }
  if (ts.length === 3) {
    return { args: [T.text, T.int4, T.int4], result: T.text, fn: (a) => {
      const start = int(a[1]!)
      const len = int(a[2]!)
      if (len < 0) throw new SqlError(SqlState.substringError, 'negative substring length not allowed')
      const from = Math.max(1, start)
      const to = start + len
      return to <= from ? '' : sliceChars(str(a[0]!), from - 1, to - 1)
    } }
  }
  return null
}

function padResolver(ts: SqlType[], left: boolean): ScalarImpl | null {
  if (ts.length !== 2 && ts.length !== 3) return null
  return { args: ts.length === 2 ? [T.text, T.int4] : [T.text, T.int4, T.text], result: T.text, fn: (a) => padText(str(a[0]!), int(a[1]!), a[2] === undefined ? ' ' : str(a[2]), left) }
}

/** ln / log10 of a double: zero and negative arguments are 2201E, NaN stays NaN. */
function floatLog(a: number, fn: (x: number) => number): number {
  if (a === 0) throw new SqlError(SqlState.invalidArgumentForLogarithm, 'cannot take logarithm of zero')
  if (a < 0) throw new SqlError(SqlState.invalidArgumentForLogarithm, 'cannot take logarithm of a negative number')
  return fn(a)
}

/**
 * Whether a two-argument math function takes its numeric variant: PostgreSQL prefers
 * double precision, so numeric is chosen only when no argument is a float.
 */
function numericArgs(ts: SqlType[]): boolean {
  return ts.some((t) => t.id === 'numeric') && !ts.some((t) => t.id === 'float4' || t.id === 'float8')
}

function mathSame(t: SqlType, fn: (v: RtValue, t: SqlType) => RtValue): ScalarImpl {
  const tt = t.id === 'unknown' ? T.float8 : t
  return { args: [tt], result: tt, fn: (a) => fn(a[0]!, tt) }
}

/** `fn` where `ok` holds (NaN passes through); elsewhere 22003 `input is out of range`, as PostgreSQL. */
function inDomain(fn: (x: number) => number, ok: (x: number) => boolean): (x: number) => number {
  return (x) => {
    if (Number.isNaN(x)) return x
    if (!ok(x)) throw new SqlError(SqlState.numericValueOutOfRange, 'input is out of range')
    return fn(x)
  }
}

function floatFn(n: 1 | 2, fn: (a: number, b?: number) => number): ScalarImpl {
  return { args: same(n, T.float8), result: T.float8, fn: (a) => fn(a[0] as number, a[1] as number | undefined) }
}

function roundingResolver(ts: SqlType[], dec: (d: Decimal) => Decimal, flt: (x: number) => number): ScalarImpl | null {
  if (ts.length !== 1 || !num(ts[0]!)) return null
  if (numericOrFloat(ts[0]!).id === 'float8') return { args: [T.float8], result: T.float8, fn: (a) => flt(a[0] as number) }
  // NaN and infinities round to themselves.
  return { args: [T.numeric], result: T.numeric, fn: (a) => ((a[0] as Decimal).isFinite() ? dec(a[0] as Decimal) : a[0]!) }
}

/**
 * json[b]_build_object / _array called with VARIADIC: the array's elements (all
 * dimensions, in storage order) are the arguments; a NULL array gives NULL.
 */
function variadicBuild(ts: SqlType[], result: SqlType, object: boolean): ScalarImpl | null {
  if (ts.length !== 1 || !ts[0]!.array) return null
  const el = elementType(ts[0]!)
  return { args: [ts[0]!], result, fn: (a, ctx) => {
    const items = (a[0] as SqlArray).items
    const types = items.map(() => el)
    if (object && items.length % 2 !== 0) throw new SqlError(SqlState.invalidParameterValue, 'argument list must have even number of elements')
    return (object ? buildObject(types, result)! : buildArray(types, result)).fn([...items], ctx)
  } }
}

/**
 * concat / concat_ws (`sep` true) called with VARIADIC: the array's elements are the
 * arguments; a NULL array gives NULL, as in PostgreSQL.
 */
function countNulls(ts: SqlType[], nulls: boolean): ScalarImpl | null {
  if (ts.length === 0) return null
  return { args: ts.map((t) => (t.id === 'unknown' ? T.text : t)), result: T.int4, nonStrict: true, fn: (a) => a.filter((v) => (v === null) === nulls).length }
}

/** num_nulls(VARIADIC array): counts the array's elements; a NULL array is NULL. */
function variadicCountNulls(ts: SqlType[], nulls: boolean): ScalarImpl | null {
  if (ts.length !== 1) return null
  if (!ts[0]!.array) throw new SqlError(SqlState.datatypeMismatch, 'VARIADIC argument must be an array')
  return { args: [ts[0]!], result: T.int4, nonStrict: true, fn: (a) => (a[0] === null ? null : (a[0] as SqlArray).items.filter((v) => (v === null) === nulls).length) }
}

function variadicConcat(ts: SqlType[], sep: boolean): ScalarImpl | null {
  if (ts.length !== (sep ? 2 : 1)) return null
  const at = ts[ts.length - 1]!
  if (!at.array) throw new SqlError(SqlState.datatypeMismatch, 'VARIADIC argument must be an array')
  const el = elementType(at)
  return { args: sep ? [ts[0]!.id === 'unknown' ? T.text : ts[0]!, at] : [at], result: T.text, nonStrict: true, fn: (a) => {
    const arr = a[a.length - 1]
    if (sep && a[0] === null) return null
    if (arr === null || arr === undefined) return null
    const items = (arr as SqlArray).items.map((v) => (v === null ? null : formatText(v, el, activeDateTimeStyle())))
    return sep ? items.filter((x) => x !== null).join(str(a[0]!)) : items.map((x) => x ?? '').join('')
  } }
}

const VARIADIC_FUNCTIONS: Record<string, Resolver> = {
  num_nulls: (ts) => variadicCountNulls(ts, true),
  num_nonnulls: (ts) => variadicCountNulls(ts, false),
  concat: (ts) => variadicConcat(ts, false),
  concat_ws: (ts) => variadicConcat(ts, true),
  json_build_object: (ts) => variadicBuild(ts, T.json, true),
  jsonb_build_object: (ts) => variadicBuild(ts, T.jsonb, true),
  json_build_array: (ts) => variadicBuild(ts, T.json, false),
  jsonb_build_array: (ts) => variadicBuild(ts, T.jsonb, false),
}

/** A call written with VARIADIC, for the functions whose variadic parameter is "any"; undefined for the others. */
export function lookupVariadicScalar(name: string, types: SqlType[]): ScalarImpl | null | undefined {
  const r = ownEntry(VARIADIC_FUNCTIONS, name)
  return r ? r(types) : undefined
}

export function lookupScalar(name: string, types: SqlType[]): ScalarImpl | null | undefined {
  if (inheritedName(name)) return undefined
  // The bytea forms of names the text functions hold (length, octet_length ..).
  const binary = BINARY_ENCODING_FUNCTIONS[name]?.(types)
  if (binary) return binary
  const r = FUNCTIONS[name]
  const impl = r ? r(types) : undefined
  if (impl) return impl
  const a = ARRAY_FUNCTIONS[name] ?? CATALOG_FUNCTIONS[name] ?? SEQUENCE_FUNCTIONS[name] ?? ENUM_FUNCTIONS[name] ?? JSON_POPULATE_FUNCTIONS[name] ?? JSONB_SET_FUNCTIONS[name] ?? TABLE_CHANGE_FUNCTIONS[name] ?? BROWSER_TOKEN_FUNCTIONS[name] ?? JSON_FUNCTIONS[name]
    ?? REGEXP_FUNCTIONS[name] ?? TIMETZ_FUNCTIONS[name] ?? GEOMETRIC_FUNCTIONS[name]
  return a ? a(types) : impl
}

/** Asks the session to wait; the void result prints as PostgreSQL's void_out does (empty text). */
function sleepFor(ctx: ExecCtx, ms: number): string {
  if (!ctx.sleep) throw new SqlError(SqlState.featureNotSupported, 'pg_sleep cannot wait here')
  if (ms > 0 && Number.isFinite(ms)) ctx.sleep(ms)
  return ''
}
