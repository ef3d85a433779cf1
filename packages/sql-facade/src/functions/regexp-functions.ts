/**
 * PostgreSQL 15's regular-expression functions beyond `~` and regexp_replace(s, p, r
 * [, flags]): regexp_count, regexp_like, regexp_instr, regexp_substr, regexp_replace with
 * start and N, regexp_matches, regexp_split_to_array and regexp_split_to_table.
 *
 * Patterns compile through functions/regex.ts (its flags, its 2201B and 0A000 errors).
 * Positions are in characters, 1-based, as in PostgreSQL; `start` below 1, `N` below 1,
 * `endoption` other than 0/1 and `subexpr` below 0 are 22023, and the functions that
 * pick one match refuse the `g` flag (22023) as PostgreSQL does.
 *
 * Splitting ignores zero-length matches at the start or the end of the string and right
 * after another match, as PostgreSQL's regexp_split_to_table does.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { MAX_ITEMS, SqlArray, tooManyItems } from '../types/array.js'
import { arrayOf, T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { compilePattern, regexOptions } from './regex.js'
import { replacementParts, type ReplacementPart } from './text-size.js'
import { TextBuilder } from '../types/text-chars.js'
import type { ScalarResolver } from './scalar-impl.js'

interface Match {
  /** Code-unit offsets of the whole match and of each capture (undefined: did not take part; empty unless asked for). */
  start: number
  end: number
  groups: Array<[number, number] | undefined>
  texts: Array<string | undefined>
}

function badParameter(name: string, v: number): SqlError {
  return new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "${name}": ${v}`)
}

/**
 * Every match of `pattern` in `s` from code unit `from`, left to right, without overlap.
 * Captures' offsets (`withOffsets`) need the `d` flag, which V8's linear-time engine does
 * not take: only a subexpression's position asks for them, and only that match can
 * backtrack without bound (docs/security.md).
 */
function* matches(s: string, pattern: string, flags: string, from = 0, withOffsets = false): Generator<Match> {
  const base = compilePattern(pattern, regexOptions(flags))
  const re = new RegExp(base.source, base.flags.replace('g', '') + (withOffsets ? 'gd' : 'g'))
  let at = from
  while (at <= s.length) {
    re.lastIndex = at
    const m = re.exec(s)
    if (!m) return
    const indices = (m as RegExpExecArray & { indices?: Array<[number, number] | undefined> }).indices
    const start = m.index
    const end = start + m[0].length
    yield { start, end, groups: indices ? indices.slice(1) : [], texts: Array.from(m).slice(1) }
    at = end > start ? end : end + 1
  }
}

/** The code-unit offset of character position `pos` (1-based). */
function unitOffset(s: string, pos: number): number {
  let units = 0
  let chars = 1
  for (const ch of s) {
    if (chars >= pos) break
    units += ch.length
    chars++
  }
  return chars >= pos ? units : s.length + 1
}

/** The character position (1-based) of code-unit offset `units`. */
function charPosition(s: string, units: number): number {
  return [...s.slice(0, units)].length + 1
}

function noGlobal(fn: string, flags: string): string {
  if (regexOptions(flags).global) throw new SqlError(SqlState.invalidParameterValue, `${fn}() does not support the "global" option`)
  return flags
}

function positive(name: string, v: number): number {
  if (v < 1) throw badParameter(name, v)
  return v
}

const str = (v: RtValue): string => v as string
const int = (v: RtValue): number => Number(v)

/** The n-th match (1-based) at or after character `start`; with captures' offsets when `subexpr` names one. */
function nthMatch(s: string, pattern: string, flags: string, start: number, n: number, subexpr: number): Match | undefined {
  let k = 0
  for (const m of matches(s, pattern, flags, unitOffset(s, start), subexpr > 0)) if (++k === n) return m
  return undefined
}

/** The span of the match or of capture `subexpr` (0: the whole match); undefined when that capture did not match or does not exist. */
function span(m: Match, subexpr: number): [number, number] | undefined {
  return subexpr === 0 ? [m.start, m.end] : m.groups[subexpr - 1]
}

/** Argument types: text for the strings and flags, int4 for positions and counts. */
function sig(kinds: string, ts: SqlType[]): SqlType[] | null {
  if (ts.length !== kinds.length) return null
  const out: SqlType[] = []
  for (let i = 0; i < kinds.length; i++) {
    const want = kinds[i] === 't' ? T.text : T.int4
    const got = ts[i]!
    const textual = got.id === 'text' || got.id === 'varchar' || got.id === 'bpchar' || got.id === 'name' || got.id === 'unknown'
    const integral = got.id === 'int2' || got.id === 'int4' || got.id === 'int8' || got.id === 'unknown'
    if (kinds[i] === 't' ? !textual : !integral) return null
    out.push(want)
  }
  return out
}

/** The first of `shapes` (t: text, i: integer) the argument types fit. */
function shape(ts: SqlType[], shapes: string[]): [string, SqlType[]] | null {
  for (const k of shapes) {
    const args = sig(k, ts)
    if (args) return [k, args]
  }
  return null
}

export const REGEXP_FUNCTIONS: Record<string, ScalarResolver> = {
  regexp_count: (ts) => {
    const s = shape(ts, ['tt', 'tti', 'ttit'])
    return s && { args: s[1], result: T.int4, fn: (a) => {
      const start = a.length > 2 ? positive('start', int(a[2]!)) : 1
      const flags = noGlobal('regexp_count', a.length > 3 ? str(a[3]!) : '')
      let n = 0
      for (const _m of matches(str(a[0]!), str(a[1]!), flags, unitOffset(str(a[0]!), start))) n++
      return n
    } }
  },
  // regexp_match(text, pattern [, flags]): the first match's groups (the whole match without groups), NULL without a match.
  regexp_match: (ts) => {
    const s = shape(ts, ['tt', 'ttt'])
    return s && { args: s[1], result: arrayOf(T.text), fn: (a) => {
      const text = str(a[0]!)
      const flags = noGlobal('regexp_match', a.length > 2 ? str(a[2]!) : '')
      const first = matches(text, str(a[1]!), flags).next()
      if (first.done) return null
      const m = first.value
      const items = m.texts.length ? m.texts.map((t) => t ?? null) : [text.slice(m.start, m.end)]
      return new SqlArray([items.length], [1], items)
    } }
  },
  regexp_like: (ts) => {
    const s = shape(ts, ['tt', 'ttt'])
    return s && { args: s[1], result: T.bool, fn: (a) => {
      const flags = noGlobal('regexp_like', a.length > 2 ? str(a[2]!) : '')
      return !matches(str(a[0]!), str(a[1]!), flags).next().done
    } }
  },
  regexp_instr: (ts) => {
    const s = shape(ts, ['tt', 'tti', 'ttii', 'ttiii', 'ttiiit', 'ttiiiti'])
    return s && { args: s[1], result: T.int4, fn: (a) => {
      const text = str(a[0]!)
      const start = a.length > 2 ? positive('start', int(a[2]!)) : 1
      const n = a.length > 3 ? positive('n', int(a[3]!)) : 1
      const endoption = a.length > 4 ? int(a[4]!) : 0
      if (endoption !== 0 && endoption !== 1) throw badParameter('endoption', endoption)
      const flags = noGlobal('regexp_instr', a.length > 5 ? str(a[5]!) : '')
      const subexpr = a.length > 6 ? int(a[6]!) : 0
      if (subexpr < 0) throw badParameter('subexpr', subexpr)
      const m = nthMatch(text, str(a[1]!), flags, start, n, subexpr)
      const sp = m && span(m, subexpr)
      if (!sp) return 0
      return charPosition(text, endoption === 0 ? sp[0] : sp[1])
    } }
  },
  regexp_substr: (ts) => {
    const s = shape(ts, ['tt', 'tti', 'ttii', 'ttiit', 'ttiiti'])
    return s && { args: s[1], result: T.text, fn: (a) => {
      const text = str(a[0]!)
      const start = a.length > 2 ? positive('start', int(a[2]!)) : 1
      const n = a.length > 3 ? positive('n', int(a[3]!)) : 1
      const flags = noGlobal('regexp_substr', a.length > 4 ? str(a[4]!) : '')
      const subexpr = a.length > 5 ? int(a[5]!) : 0
      if (subexpr < 0) throw badParameter('subexpr', subexpr)
      // A capture's text needs no offsets (see `matches`).
      const m = nthMatch(text, str(a[1]!), flags, start, n, 0)
      if (!m) return null
      return subexpr === 0 ? text.slice(m.start, m.end) : m.texts[subexpr - 1] ?? null
    } }
  },
  // regexp_replace(source, pattern, replacement, start [, N [, flags]]): the 3- and 4-argument text forms are scalar.ts's.
  regexp_replace: (ts) => {
    const s = shape(ts, ['ttti', 'tttii', 'tttiit'])
    return s && { args: s[1], result: T.text, fn: (a) => {
      const text = str(a[0]!)
      const start = positive('start', int(a[3]!))
      const n = a.length > 4 ? int(a[4]!) : null
      if (n !== null && n < 0) throw badParameter('n', n)
      const flags = a.length > 5 ? str(a[5]!) : ''
      // N = 0 replaces every match; N > 0 only that one; without N, the first (every one with 'g').
      const every = n === 0 || (n === null && regexOptions(flags).global)
      const only = n === null ? 1 : n
      const parts = replacementParts(str(a[2]!))
      const out = new TextBuilder()
      let last = 0
      let k = 0
      for (const m of matches(text, str(a[1]!), flags, unitOffset(text, start))) {
        k++
        if (!every && k !== only) continue
        out.add(text.slice(last, m.start))
        substitute(out, parts, text, m)
        last = m.end
        if (!every) break
      }
      out.add(text.slice(last))
      return out.toString()
    } }
  },
  regexp_split_to_array: (ts) => {
    const s = shape(ts, ['tt', 'ttt'])
    return s && { args: s[1], result: arrayOf(T.text), fn: (a) => {
      const parts = split(str(a[0]!), str(a[1]!), a.length > 2 ? str(a[2]!) : '', 'regexp_split_to_array')
      return new SqlArray([parts.length], [1], parts)
    } }
  },
}

/** A replacement's parts (`replacementParts`) for match `m` of `text`, added to `out`. */
function substitute(out: TextBuilder, parts: readonly ReplacementPart[], text: string, m: Match): void {
  for (const p of parts) out.add(typeof p === 'string' ? p : p === 0 ? text.slice(m.start, m.end) : (m.texts[p - 1] ?? ''))
}

function split(s: string, pattern: string, flags: string, fn: string): string[] {
  if (regexOptions(flags).global) throw new SqlError(SqlState.invalidParameterValue, `${fn}() does not support the "global" option`)
  const out: string[] = []
  let piece = 0
  let prevEnd = -1
  for (const m of matches(s, pattern, flags)) {
    if (m.start === m.end && (m.start === 0 || m.start === s.length || m.start === prevEnd)) continue
    if (out.length >= MAX_ITEMS) throw tooManyItems()
    out.push(s.slice(piece, m.start))
    piece = m.end
    prevEnd = m.end
  }
  out.push(s.slice(piece))
  return out
}

/** The shape of set-returning.ts's SetFunctionImpl (not imported: set-returning.ts imports this file). */
interface SetImpl {
  args: SqlType[]
  result: SqlType
  rows(args: RtValue[]): RtValue[]
}

export const REGEXP_SET_FUNCTIONS: Record<string, (ts: SqlType[]) => SetImpl | null> = {
  regexp_matches: (ts) => {
    const s = shape(ts, ['tt', 'ttt'])
    return s && { args: s[1], result: arrayOf(T.text), rows: (a) => {
      const text = str(a[0]!)
      const flags = a.length > 2 ? str(a[2]!) : ''
      const out: RtValue[] = []
      for (const m of matches(text, str(a[1]!), flags)) {
        const items = m.texts.length ? m.texts.map((t) => t ?? null) : [text.slice(m.start, m.end)]
        if (out.length >= MAX_ITEMS) throw tooManyItems()
        out.push(new SqlArray([items.length], [1], items))
        if (!regexOptions(flags).global) break
      }
      return out
    } }
  },
  regexp_split_to_table: (ts) => {
    const s = shape(ts, ['tt', 'ttt'])
    return s && { args: s[1], result: T.text, rows: (a) => split(str(a[0]!), str(a[1]!), a.length > 2 ? str(a[2]!) : '', 'regexp_split_to_table') }
  },
}
