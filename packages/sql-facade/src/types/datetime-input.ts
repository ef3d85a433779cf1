/**
 * Date and time input in every spelling PostgreSQL accepts, beyond the
 * ISO forms types/datetime.ts reads directly: `Mon Feb 10 17:32:01 1997 PST`,
 * `Feb-10-1997 5:32PM`, `19970210 173201`, `1997.041`, `J2451187`, `1999 08 Jan`,
 * `tomorrow 16:00`, `2011-03-27 01:00 Europe/Moscow`, POSIX zones (`GMT+8` is UTC-8), ..
 *
 * The text is split into fields as PostgreSQL does (numbers, `h:m:s` times, delimited
 * dates, words, signed zones), then each field fills the date and time slots it can:
 * a word names a month, weekday, AM/PM, BC/AD, a relative day or a zone; a number is a
 * year, month or day by position and the DateStyle field order (MDY, DMY, YMD), or a run-together
 * `yyyymmdd` / `hhmmss`. Named zones (IANA) are resolved with the platform's time zone
 * database (Intl), abbreviations with PostgreSQL's default abbreviation set.
 *
 * Invariants: a slot is filled at most once (else 22007); a decoded date and time is
 * range-checked field by field (22008) before it becomes a value; the session time zone
 * is UTC, so text without a zone is UTC.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import {
  DATE_END_DAYS, DATE_MIN_DAYS, TIMESTAMP_END_MICROS, TIMESTAMP_MIN_MICROS, USEC_PER_DAY, USEC_PER_SEC,
  dateOutOfRange, daysFromCivil, daysInMonth, parseDate, parseTime, parseTimestamp, timestampOutOfRange,
} from './datetime.js'
import type { DateOrder } from './datetime-style.js'

type FieldKind = 'number' | 'time' | 'date' | 'string' | 'tz' | 'special'
interface Field { kind: FieldKind; text: string }

/** Input longer than this is refused before it is split (PostgreSQL's MAXDATELEN is 128). */
const MAX_INPUT = 256

/** Splits input into PostgreSQL's date/time fields; null on a character no field can hold. */
function splitFields(input: string): Field[] | null {
  const s = input
  const out: Field[] = []
  let i = 0
  const digit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9'
  const alpha = (c: string | undefined) => c !== undefined && /[A-Za-z]/.test(c)
  while (i < s.length) {
    const c = s[i]!
    if (/\s/.test(c)) { i++; continue }
    let text = ''
    let kind: FieldKind
    if (digit(c)) {
      while (digit(s[i])) text += s[i++]
      if (s[i] === ':') {
        kind = 'time'
        while (digit(s[i]) || s[i] === ':' || s[i] === '.') text += s[i++]
      } else if (s[i] === '-' || s[i] === '/' || s[i] === '.') {
        const delim = s[i]!
        text += s[i++]
        if (digit(s[i])) {
          kind = delim === '.' ? 'number' : 'date'
          while (digit(s[i])) text += s[i++]
          if (s[i] === delim) {
            kind = 'date'
            while (digit(s[i]) || s[i] === delim) text += s[i++]
          }
        } else {
          kind = 'date'
          while (alpha(s[i]) || digit(s[i]) || s[i] === delim) text += s[i++]!.toLowerCase()
        }
      } else kind = 'number'
    } else if (c === '.') {
      text += s[i++]
      while (digit(s[i])) text += s[i++]
      kind = 'number'
    } else if (alpha(c)) {
      kind = 'string'
      while (alpha(s[i])) text += s[i++]!.toLowerCase()
      let isDate = s[i] === '-' || s[i] === '/' || s[i] === '.'
      if (!isDate && (s[i] === '+' || digit(s[i]))) isDate = !KEYWORDS.has(text)
      if (isDate) {
        kind = 'date'
        do text += s[i++]!.toLowerCase()
        while (i < s.length && /[+\-/_.:A-Za-z0-9]/.test(s[i]!))
      }
    } else if (c === '+' || c === '-') {
      text += s[i++]
      while (i < s.length && /\s/.test(s[i]!)) i++
      if (digit(s[i])) {
        kind = 'tz'
        while (digit(s[i]) || s[i] === ':' || s[i] === '.' || s[i] === '-') text += s[i++]
      } else if (alpha(s[i])) {
        kind = 'special'
        while (alpha(s[i])) text += s[i++]!.toLowerCase()
      } else return null
    } else if (/[!-/:-@[-`{-~]/.test(c)) {
      i++
      continue
    } else return null
    out.push({ kind, text })
  }
  return out
}

type Keyword =
  | { k: 'month'; v: number } | { k: 'dow' } | { k: 'ampm'; v: 'am' | 'pm' } | { k: 'era'; v: 'ad' | 'bc' }
  | { k: 'rel'; v: number } | { k: 'now' } | { k: 'epoch' } | { k: 'infinity'; v: 1 | -1 } | { k: 'allballs' }
  | { k: 'iso-time' } | { k: 'julian' } | { k: 'ignore' } | { k: 'zone'; v: number } | { k: 'dynzone'; v: string }

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december']
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']

/** The non-zone words of PostgreSQL's date token table. */
const KEYWORDS = new Map<string, Keyword>()
MONTHS.forEach((m, i) => {
  KEYWORDS.set(m, { k: 'month', v: i + 1 })
  KEYWORDS.set(m.slice(0, 3), { k: 'month', v: i + 1 })
})
KEYWORDS.set('sept', { k: 'month', v: 9 })
for (const d of DAYS) {
  KEYWORDS.set(d, { k: 'dow' })
  KEYWORDS.set(d.slice(0, 3), { k: 'dow' })
}
for (const w of ['tues', 'wednes', 'thur', 'thurs']) KEYWORDS.set(w, { k: 'dow' })
for (const [w, v] of Object.entries({ am: 'am', 'a.m.': 'am', pm: 'pm', 'p.m.': 'pm' } as const)) KEYWORDS.set(w, { k: 'ampm', v })
KEYWORDS.set('ad', { k: 'era', v: 'ad' }).set('bc', { k: 'era', v: 'bc' })
KEYWORDS.set('today', { k: 'rel', v: 0 }).set('tomorrow', { k: 'rel', v: 1 }).set('yesterday', { k: 'rel', v: -1 })
KEYWORDS.set('now', { k: 'now' }).set('epoch', { k: 'epoch' }).set('allballs', { k: 'allballs' })
KEYWORDS.set('infinity', { k: 'infinity', v: 1 })
KEYWORDS.set('t', { k: 'iso-time' }).set('j', { k: 'julian' }).set('jd', { k: 'julian' }).set('julian', { k: 'julian' })
KEYWORDS.set('at', { k: 'ignore' }).set('on', { k: 'ignore' })

/**
 * Zone abbreviations of PostgreSQL's `Default` set most often met (offset east of UTC, in
 * seconds); a few stand for a zone whose offset changed over the years.
 */
const ZONES: Record<string, number | string> = {
  utc: 0, ut: 0, gmt: 0, z: 0, zulu: 0, wet: 0, west: 3600, bst: 3600, cet: 3600, cest: 7200, met: 3600, mest: 7200,
  eet: 7200, eest: 10800, ist: 7200, idt: 10800, msk: 'Europe/Moscow', vet: 'America/Caracas', msd: 14400, jst: 32400, kst: 32400, hkt: 28800, sgt: 28800,
  awst: 28800, acst: 34200, acdt: 37800, aest: 36000, aedt: 39600, nzst: 43200, nzdt: 46800,
  ast: -14400, adt: -10800, est: -18000, edt: -14400, cst: -21600, cdt: -18000, mst: -25200, mdt: -21600,
  pst: -28800, pdt: -25200, akst: -32400, akdt: -28800, hst: -36000, nst: -12600, ndt: -9000,
}

function keyword(w: string): Keyword | undefined {
  const k = KEYWORDS.get(w)
  if (k) return k
  const z = ZONES[w]
  if (z === undefined) return undefined
  return typeof z === 'number' ? { k: 'zone', v: z } : { k: 'dynzone', v: z }
}

/** What the fields of one input decode to. */
interface Decoded {
  year: number | null
  month: number | null
  day: number | null
  doy: number | null
  julian: number | null
  twoDigitYear: boolean
  textMonth: boolean
  hour: number | null
  minute: number
  second: number
  micro: number
  ampm: 'am' | 'pm' | null
  bc: boolean
  /** Offset east of UTC in seconds, or a zone to resolve at the decoded local time. */
  zone: number | string | null
  /** The zone came from an abbreviation whose offset changed over time (MSK). */
  zoneIsAbbrev: boolean
  rel: number | null
  special: 'now' | 'epoch' | 'allballs' | 'infinity' | '-infinity' | null
}

class BadFormat extends Error {}
class FieldOverflow extends Error {}

function bad(): never {
  throw new BadFormat()
}

function fraction(digits: string): number {
  return digits ? Math.round(Number('0.' + digits) * USEC_PER_SEC) : 0
}

function setTime(d: Decoded, h: number, m: number, s: number, us: number): void {
  if (d.hour !== null) bad()
  d.hour = h
  d.minute = m
  d.second = s
  d.micro = us
}

/** `h:m[:s[.f]]` (also `m:s.f` when the second part holds a fraction). */
function decodeTime(d: Decoded, text: string): void {
  const m = /^(\d+):(\d+)(?::(\d+))?(?:\.(\d*))?$/.exec(text)
  if (!m) bad()
  if (m[3] === undefined && m[4] !== undefined) return setTime(d, 0, Number(m[1]), Number(m[2]), fraction(m[4]))
  setTime(d, Number(m[1]), Number(m[2]), m[3] ? Number(m[3]) : 0, fraction(m[4] ?? ''))
}

function setYear(d: Decoded, v: number, len: number): void {
  if (d.year !== null) bad()
  d.year = v
  d.twoDigitYear = len <= 2
}

/** A lone number, placed by what the date has so far and the DateStyle field order (PostgreSQL's DecodeNumber). */
function decodeNumber(d: Decoded, text: string, order: DateOrder): void {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(text)
  if (!m) bad()
  const len = m[1]!.length
  if (m[2] !== undefined && len > 2) return decodeRunTogether(d, text)
  const v = Number(m[1])
  const haveDate = d.year !== null && d.month !== null && d.day !== null
  if (m[2] !== undefined) {
    // `ss.fff` after a time without seconds is not PostgreSQL's; a fraction only follows a complete date as seconds.
    if (!haveDate) bad()
  }
  if (len === 3 && d.year !== null && d.month === null && d.day === null && v >= 1 && v <= 366) {
    d.doy = v
    d.month = 1
    d.day = 1
    return
  }
  const y = d.year !== null
  const mo = d.month !== null
  const dy = d.day !== null
  if (!y && !mo && !dy) {
    // The first number: a year if it has three digits or more, else what the order puts first.
    if (len >= 3 || order === 'YMD') setYear(d, v, len)
    else if (order === 'DMY') d.day = v
    else d.month = v
  } else if (y && !mo && !dy) {
    d.month = v
  } else if (!y && mo && !dy) {
    // After a month name: MON-DD-YYYY, DD-MON-YYYY, YYYY-MON-DD (YY-MON-DD in YMD order).
    if (d.textMonth && (len >= 3 || order === 'YMD')) setYear(d, v, len)
    else d.day = v
  } else if (y && mo && !dy) {
    if (d.textMonth && len >= 3 && d.twoDigitYear) {
      // DD-MON-YYYY read in YMD order: the first number was the day.
      d.day = d.year
      d.year = v
      d.twoDigitYear = false
    } else d.day = v
  } else if (!y && !mo && dy) {
    d.month = v
  } else if (!y && mo && dy) {
    setYear(d, v, len)
  } else if (haveDate) {
    decodeRunTogether(d, text)
  } else bad()
}

/** `yyyymmdd`, `yymmdd`, `hhmmss[.f]`, `hhmm` (PostgreSQL's DecodeNumberField). */
function decodeRunTogether(d: Decoded, text: string, forceTime = false): void {
  const dot = text.indexOf('.')
  const digits = dot >= 0 ? text.slice(0, dot) : text
  const frac = dot >= 0 ? fraction(text.slice(dot + 1)) : 0
  const len = digits.length
  if (dot < 0 && !forceTime && (d.year === null || d.month === null || d.day === null) && len >= 6) {
    if (d.year !== null || d.month !== null || d.day !== null) bad()
    d.day = Number(digits.slice(len - 2))
    d.month = Number(digits.slice(len - 4, len - 2))
    setYear(d, Number(digits.slice(0, len - 4)), len - 4)
    return
  }
  if (d.hour === null) {
    if (len === 6) return setTime(d, Number(digits.slice(0, 2)), Number(digits.slice(2, 4)), Number(digits.slice(4)), frac)
    if (len === 4) return setTime(d, Number(digits.slice(0, 2)), Number(digits.slice(2)), 0, frac)
    if (len === 2 && forceTime) return setTime(d, Number(digits), 0, 0, frac)
  }
  bad()
}

/** A delimited date field: `1997-02-10`, `02/10/1997`, `feb-10-1997`, `1997.041`. */
function decodeDate(d: Decoded, text: string, order: DateOrder): void {
  const parts = text.split(/[-/.]/)
  // An empty field (`1999-08-` before a month name) is not a date, as in PostgreSQL.
  if (parts.some((p) => p === '')) bad()
  // Month names first, so that the numbers fall into place around them.
  const nums: string[] = []
  for (const p of parts) {
    if (/^\d+$/.test(p)) {
      nums.push(p)
      continue
    }
    const k = keyword(p)
    if (k?.k === 'month') setMonthName(d, k.v)
    else if (k?.k === 'era') d.bc = k.v === 'bc'
    else if (k?.k === 'dow') continue
    else bad()
  }
  for (const n of nums) decodeNumber(d, n, order)
}

function setMonthName(d: Decoded, v: number): void {
  if (d.month !== null && !d.textMonth && d.day === null && d.month >= 1 && d.month <= 31) d.day = d.month
  else if (d.month !== null) bad()
  d.month = v
  d.textMonth = true
}

/** A signed offset: `+8`, `-0800`, `+07:00`, `-8:30:15`; seconds east of UTC. */
function offsetSeconds(text: string): number {
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(text)
  if (!m) bad()
  const h = Number(m[2])
  if (h > 15) throw new FieldOverflow()
  const v = h * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)
  return m[1] === '-' ? -v : v
}

/** A zone field that is not an abbreviation: an IANA name, or POSIX `std[+-]h[:mm]` (west positive). */
function namedZone(text: string): number | string {
  const posix = /^([a-z]{3,})([+-]\d{1,2}(?::?\d{2})?)$/.exec(text)
  if (posix) return -offsetSeconds(posix[2]!)
  const zone = ianaZone(text)
  if (zone === null) throw new SqlError(SqlState.invalidParameterValue, `time zone "${text}" not recognized`)
  return zone
}

const zoneCache = new Map<string, string | null>()

/** The canonical IANA name for `name` (case-insensitive), or null when the platform does not know it. */
function ianaZone(name: string): string | null {
  const key = name.toLowerCase()
  const hit = zoneCache.get(key)
  if (hit !== undefined) return hit
  let found: string | null = null
  try {
    found = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
  } catch {
    found = null
  }
  if (zoneCache.size < 1024) zoneCache.set(key, found)
  return found
}

/** Seconds east of UTC that `zone` had at UTC instant `ms` (clamped to the range JS dates hold). */
function zoneOffsetAt(zone: string, ms: number): number {
  const at = Math.max(-8.64e15 + 86_400_000, Math.min(8.64e15 - 86_400_000, ms))
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', era: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
  const parts: Record<string, string> = {}
  for (const p of f.formatToParts(new Date(at))) parts[p.type] = p.value
  const year = parts.era === 'BC' || parts.era === 'B' ? 1 - Number(parts.year) : Number(parts.year)
  const local = daysFromCivil(year, Number(parts.month), Number(parts.day)) * 86_400_000 +
    ((Number(parts.hour) * 60 + Number(parts.minute)) * 60 + Number(parts.second)) * 1000
  return Math.round((local - (at - (at % 1000 + 1000) % 1000)) / 1000)
}

/**
 * The UTC offset of local time `localMs` in `zone`. In a gap (spring forward) the offset
 * before the change applies (for an abbreviation, the meaning it has after it); an
 * ambiguous time (fall back) is read as the later instant, as PostgreSQL does.
 */
function localOffset(zone: string, localMs: number, gapAfter = false): number {
  const before = zoneOffsetAt(zone, localMs - 86_400_000)
  const after = zoneOffsetAt(zone, localMs + 86_400_000)
  if (before === after) return zoneOffsetAt(zone, localMs - before * 1000)
  const asAfter = zoneOffsetAt(zone, localMs - after * 1000) === after
  const asBefore = zoneOffsetAt(zone, localMs - before * 1000) === before
  if (asAfter) return after
  if (asBefore) return before
  return gapAfter ? after : before
}

function decode(text: string, order: DateOrder, timeOnly = false): Decoded {
  if (text.length > MAX_INPUT) bad()
  const fields = splitFields(text)
  if (!fields || fields.length === 0) bad()
  const d: Decoded = {
    year: null, month: null, day: null, doy: null, julian: null, twoDigitYear: false, textMonth: false,
    hour: null, minute: 0, second: 0, micro: 0, ampm: null, bc: false, zone: null, zoneIsAbbrev: false, rel: null, special: null,
  }
  let prefix: 'iso-time' | 'julian' | null = null
  for (const f of fields) {
    if (prefix === 'julian') {
      // `J2452271`, a day fraction as the time (`J2452271.5` is noon), or a zone run on (`J2452271-08`).
      const m = f.kind === 'number' ? /^(\d+)(?:\.(\d*))?$/.exec(f.text) : f.kind === 'date' ? /^(\d+)()([+-]\d.*)$/.exec(f.text) : null
      if (!m) bad()
      d.julian = Number(m[1])
      if (m[2]) {
        const us = Math.round(Number('0.' + m[2]) * USEC_PER_DAY)
        setTime(d, Math.floor(us / 3_600_000_000), Math.floor(us / 60_000_000) % 60, Math.floor(us / USEC_PER_SEC) % 60, us % USEC_PER_SEC)
      }
      if (m[3]) {
        if (d.zone !== null) bad()
        d.zone = offsetSeconds(m[3])
      }
      prefix = null
      continue
    }
    if (prefix === 'iso-time') {
      prefix = null
      if (f.kind === 'number') {
        decodeRunTogether(d, f.text, true)
        continue
      }
      if (f.kind !== 'time') bad()
    }
    switch (f.kind) {
      case 'time':
        decodeTime(d, f.text)
        break
      case 'number':
        // TIME input reads `hhmmss.fff` as a time, not a year and a day of the year.
        if (timeOnly && /^\d{3,}\./.test(f.text)) decodeRunTogether(d, f.text, true)
        else if (f.text.includes('.') && d.year === null && d.month === null && d.day === null) decodeDate(d, f.text, order)
        // Six digits or more run together (yymmdd, hhmmss) unless both a date field and the time are known: then a year.
        else if (f.text.length >= 6 && !f.text.includes('.') && ((d.year === null && d.month === null && d.day === null) || d.hour === null)) decodeRunTogether(d, f.text)
        else decodeNumber(d, f.text, order)
        break
      case 'date': {
        const first = f.text[0]!
        const head = /^[a-z]+/.exec(f.text)?.[0]
        if (first >= '0' && first <= '9') {
          // `hhmmss-zz` run together with a zone, once the date is known.
          const tz = /^(\d+(?:\.\d*)?)([+-].*)$/.exec(f.text)
          if (tz && d.year !== null && d.month !== null && d.day !== null) {
            decodeRunTogether(d, tz[1]!)
            if (d.zone !== null) bad()
            d.zone = offsetSeconds(tz[2]!)
          } else decodeDate(d, f.text, order)
        } else if (head && KEYWORDS.get(head)?.k === 'month') decodeDate(d, f.text, order)
        else {
          if (d.zone !== null) bad()
          d.zone = namedZone(f.text)
        }
        break
      }
      case 'tz':
        if (d.zone !== null) bad()
        d.zone = offsetSeconds(f.text)
        break
      case 'special':
        if (f.text === '-infinity') d.special = '-infinity'
        else if (f.text === '+infinity') d.special = 'infinity'
        else bad()
        break
      case 'string': {
        const k = keyword(f.text)
        if (!k) {
          if (d.zone !== null) bad()
          const z = ianaZone(f.text)
          if (z === null) bad()
          d.zone = z
          break
        }
        switch (k.k) {
          case 'month': setMonthName(d, k.v); break
          case 'dow': case 'ignore': break
          case 'ampm': if (d.ampm) bad(); d.ampm = k.v; break
          case 'era': d.bc = k.v === 'bc'; break
          case 'rel': if (d.rel !== null) bad(); d.rel = k.v; break
          case 'now': case 'epoch': case 'allballs': if (d.special) bad(); d.special = k.k; break
          case 'infinity': d.special = 'infinity'; break
          case 'iso-time': case 'julian': prefix = k.k; break
          case 'zone': case 'dynzone': if (d.zone !== null) bad(); d.zone = k.v; d.zoneIsAbbrev = k.k === 'dynzone'; break
        }
      }
    }
  }
  if (prefix !== null) bad()
  return d
}

interface Civil { days: number; ofDay: number }

/** The decoded date (days since 1970-01-01) and time of day, checked field by field. */
function civil(d: Decoded, needDate: boolean, nowMicros: number): Civil | null {
  let days: number | null = null
  if (d.julian !== null) {
    if (d.year !== null || d.month !== null || d.day !== null || d.rel !== null) bad()
    days = d.julian - 2440588
  } else if (d.rel !== null) {
    if (d.year !== null || d.month !== null || d.day !== null) bad()
    days = Math.floor(nowMicros / USEC_PER_DAY) + d.rel
  } else if (d.year !== null || d.month !== null || d.day !== null) {
    if (d.year === null || d.month === null || d.day === null) bad()
    let year = d.year
    if (d.twoDigitYear && !d.bc) year += year < 70 ? 2000 : 1900
    if (d.bc) {
      if (year <= 0) throw new FieldOverflow()
      year = 1 - year
    } else if (year === 0) bad()
    if (d.doy !== null) {
      if (d.doy > (daysInMonth(year, 2) === 29 ? 366 : 365)) throw new FieldOverflow()
      days = daysFromCivil(year, 1, 1) + d.doy - 1
    } else {
      if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysInMonth(year, d.month)) throw new FieldOverflow()
      days = daysFromCivil(year, d.month, d.day)
    }
  } else if (d.bc) bad()
  if (days === null && needDate) return null
  let hour = d.hour ?? 0
  if (d.ampm) {
    if (d.hour === null || hour > 12) throw new FieldOverflow()
    if (d.ampm === 'pm' && hour < 12) hour += 12
    else if (d.ampm === 'am' && hour === 12) hour = 0
  }
  if (hour > 24 || d.minute > 59 || d.second > 60 || (hour === 24 && (d.minute > 0 || d.second > 0 || d.micro > 0))) throw new FieldOverflow()
  return { days: days ?? 0, ofDay: ((hour * 60 + d.minute) * 60 + d.second) * USEC_PER_SEC + d.micro }
}

function overflow(text: string): SqlError {
  return new SqlError(SqlState.datetimeFieldOverflow, `date/time field value out of range: "${text}"`)
}

function badSyntax(type: string, text: string): SqlError {
  return new SqlError(SqlState.invalidDatetimeFormat, `invalid input syntax for type ${type}: "${text}"`)
}

function run<T>(type: string, text: string, f: () => T): T {
  try {
    return f()
  } catch (e) {
    if (e instanceof BadFormat) throw badSyntax(type, text)
    if (e instanceof FieldOverflow) throw overflow(text)
    throw e
  }
}

function isBadSyntax(e: unknown): boolean {
  return e instanceof SqlError && e.code === SqlState.invalidDatetimeFormat
}

/** TIMESTAMP / TIMESTAMPTZ text: the ISO forms, else any PostgreSQL spelling (micros since the epoch, UTC for TIMESTAMPTZ). */
export function readTimestamp(text: string, withZone: boolean, nowMicros: number, order: DateOrder = 'MDY'): number {
  try {
    return parseTimestamp(text, withZone, nowMicros, order)
  } catch (e) {
    if (!isBadSyntax(e)) throw e
  }
  const type = withZone ? 'timestamp with time zone' : 'timestamp without time zone'
  return run(type, text, () => {
    const d = decode(text, order)
    if (d.special === 'infinity') return Infinity
    if (d.special === '-infinity') return -Infinity
    if (d.special === 'now') return nowMicros
    if (d.special === 'allballs') bad()
    if (d.special === 'epoch' && (d.year !== null || d.rel !== null)) bad()
    const c = d.special === 'epoch' ? { days: 0, ofDay: 0 } : civil(d, true, nowMicros)
    if (!c) bad()
    let us = c.days * USEC_PER_DAY + c.ofDay
    if (withZone && d.zone !== null && d.special !== 'epoch') {
      const off = typeof d.zone === 'number' ? d.zone : localOffset(d.zone, us / 1000, d.zoneIsAbbrev)
      us -= off * USEC_PER_SEC
    }
    if (us < TIMESTAMP_MIN_MICROS || us >= TIMESTAMP_END_MICROS) throw timestampOutOfRange(text)
    return us
  })
}

/** DATE text in any PostgreSQL spelling (days since 1970-01-01). */
export function readDate(text: string, nowMicros: number, order: DateOrder = 'MDY'): number {
  try {
    return parseDate(text, nowMicros, order)
  } catch (e) {
    if (!isBadSyntax(e)) throw e
  }
  return run('date', text, () => {
    const d = decode(text, order)
    if (d.special === 'infinity') return Infinity
    if (d.special === '-infinity') return -Infinity
    if (d.special === 'now') return Math.floor(nowMicros / USEC_PER_DAY)
    if (d.special === 'epoch') return 0
    if (d.special === 'allballs') bad()
    const c = civil(d, true, nowMicros)
    if (!c) bad()
    if (c.days < DATE_MIN_DAYS || c.days >= DATE_END_DAYS) throw dateOutOfRange(text)
    return c.days
  })
}

/** TIME text in any PostgreSQL spelling (micros of the day); a date or zone in it is ignored. */
export function readTime(text: string, nowMicros: number): number {
  try {
    return parseTime(text)
  } catch (e) {
    if (!isBadSyntax(e)) throw e
  }
  return run('time', text, () => {
    const d = decode(text, 'MDY', true)
    if (d.special === 'allballs') return 0
    if (d.special === 'now') return ((nowMicros % USEC_PER_DAY) + USEC_PER_DAY) % USEC_PER_DAY
    if (d.special !== null || d.hour === null) bad()
    return civil(d, false, nowMicros)!.ofDay
  })
}

/**
 * TIME WITH TIME ZONE text: micros of the day and the zone's offset east of UTC in seconds.
 * No zone means the session's (UTC); a full zone name needs a date to pick its offset, as
 * in PostgreSQL ('2003-07-07 15:36:39 America/New_York'), and the date is otherwise ignored.
 */
export function readTimeTz(text: string, nowMicros: number): { ofDay: number; zone: number } {
  const type = 'time with time zone'
  return run(type, text, () => {
    const d = decode(text, 'MDY', true)
    if (d.special === 'allballs') return { ofDay: 0, zone: 0 }
    if (d.special === 'now') return { ofDay: ((nowMicros % USEC_PER_DAY) + USEC_PER_DAY) % USEC_PER_DAY, zone: 0 }
    if (d.special !== null || d.hour === null) bad()
    const c = civil(d, false, nowMicros)!
    let zone = 0
    if (typeof d.zone === 'number') zone = d.zone
    else if (typeof d.zone === 'string') {
      if (d.year === null && !d.zoneIsAbbrev) bad()
      const days = d.year === null ? Math.floor(nowMicros / USEC_PER_DAY) : c.days
      zone = localOffset(d.zone, (days * USEC_PER_DAY + c.ofDay) / 1000, d.zoneIsAbbrev)
    }
    return { ofDay: c.ofDay, zone }
  })
}

/** A zone named in AT TIME ZONE / timezone(): a fixed offset (seconds east) or an IANA zone. */
type ZoneSpec = { fixed: number } | { zone: string; abbrev: boolean }

function resolveZone(text: string): ZoneSpec {
  const t = text.trim().toLowerCase()
  const z = ZONES[t]
  if (typeof z === 'number') return { fixed: z }
  if (typeof z === 'string') return { zone: z, abbrev: true }
  // A bare offset is POSIX here, as in PostgreSQL: '+3' is three hours west of Greenwich.
  if (/^[+-]?\d{1,2}(:?\d{2})?(:?\d{2})?$/.test(t)) return { fixed: -offsetSeconds(/^[+-]/.test(t) ? t : '+' + t) }
  const posix = /^([a-z]{3,})([+-]\d{1,2}(?::?\d{2})?)$/.exec(t)
  if (posix) return { fixed: -offsetSeconds(posix[2]!) }
  const iana = ianaZone(text.trim())
  if (iana === null) throw new SqlError(SqlState.invalidParameterValue, `time zone "${text}" not recognized`)
  return { zone: iana, abbrev: false }
}

/** timezone(zone, timestamptz): the local time in `zone` of UTC instant `us`. */
export function utcToZone(zone: string, us: number): number {
  if (!Number.isFinite(us)) return us
  const z = run('timestamp', zone, () => resolveZone(zone))
  const off = 'fixed' in z ? z.fixed : zoneOffsetAt(z.zone, us / 1000)
  const out = us + off * USEC_PER_SEC
  if (out < TIMESTAMP_MIN_MICROS || out >= TIMESTAMP_END_MICROS) throw timestampOutOfRange()
  return out
}

/** timezone(zone, timestamp): the UTC instant of local time `us` in `zone` (gaps and overlaps as on input). */
export function zoneToUtc(zone: string, us: number): number {
  if (!Number.isFinite(us)) return us
  const z = run('timestamp', zone, () => resolveZone(zone))
  const off = 'fixed' in z ? z.fixed : localOffset(z.zone, us / 1000, z.abbrev)
  const out = us - off * USEC_PER_SEC
  if (out < TIMESTAMP_MIN_MICROS || out >= TIMESTAMP_END_MICROS) throw timestampOutOfRange()
  return out
}
