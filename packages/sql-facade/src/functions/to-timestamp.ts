/**
 * to_timestamp(text, template) and to_date(text, template): reading a date and time by a
 * template of formatting.c's patterns (YYYY, MM, DD, HH24, MI, SS, MS, US, FF1..FF6, Mon,
 * Month, Dy, Day, AM/PM, BC/AD, J, DDD, WW, W, CC, Y,YYY, RM, ISO week fields, TZH, TZM,
 * SSSS ..), with PostgreSQL's rules for what the template's other characters consume.
 *
 * - Outside FX mode, spaces before a field are skipped, a template space or separator
 *   matches one space or separator of the input (or nothing), and other template
 *   characters skip one input character; FX makes every template character consume
 *   exactly one input character.
 * - A number is read with the field's width when the next template item is a digit
 *   field, else as many digits as there are (FM, or a separator next).
 * - A field given twice with different values, a mix of ISO-week and Gregorian fields,
 *   unreadable input are 22007; values out of range are 22008.
 *
 * Input beyond what the template reads is ignored, as in PostgreSQL.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import {
  DATE_END_DAYS, DATE_MIN_DAYS, TIMESTAMP_END_MICROS, TIMESTAMP_MIN_MICROS, USEC_PER_DAY, USEC_PER_SEC, daysFromCivil, daysInMonth, timestampOutOfRange,
} from '../types/datetime.js'

interface Pattern {
  /** Canonical key (upper case where case does not matter). */
  key: string
  /** Digits read by default (0: not a number). */
  width: number
  /** Whether the field reads digits (decides the width of the field before it). */
  digit: boolean
  /** ISO-week (`iso`) or Gregorian (`greg`) date convention; neutral otherwise. */
  mode?: 'iso' | 'greg'
}

const PATTERNS: Pattern[] = ([
  { key: 'A.D.', width: 0, digit: false }, { key: 'A.M.', width: 0, digit: false }, { key: 'AD', width: 0, digit: false },
  { key: 'AM', width: 0, digit: false }, { key: 'B.C.', width: 0, digit: false }, { key: 'BC', width: 0, digit: false },
  { key: 'CC', width: 2, digit: true }, { key: 'DAY', width: 0, digit: false }, { key: 'DDD', width: 3, digit: true, mode: 'greg' },
  { key: 'DD', width: 2, digit: true, mode: 'greg' }, { key: 'DY', width: 0, digit: false }, { key: 'D', width: 1, digit: true, mode: 'greg' },
  { key: 'FF1', width: 1, digit: true }, { key: 'FF2', width: 2, digit: true }, { key: 'FF3', width: 3, digit: true },
  { key: 'FF4', width: 4, digit: true }, { key: 'FF5', width: 5, digit: true }, { key: 'FF6', width: 6, digit: true },
  { key: 'FX', width: 0, digit: false }, { key: 'HH24', width: 2, digit: true }, { key: 'HH12', width: 2, digit: true },
  { key: 'HH', width: 2, digit: true }, { key: 'IDDD', width: 3, digit: true, mode: 'iso' }, { key: 'ID', width: 1, digit: true, mode: 'iso' },
  { key: 'IW', width: 2, digit: true, mode: 'iso' }, { key: 'IYYY', width: 4, digit: true, mode: 'iso' }, { key: 'IYY', width: 3, digit: true, mode: 'iso' },
  { key: 'IY', width: 2, digit: true, mode: 'iso' }, { key: 'I', width: 1, digit: true, mode: 'iso' }, { key: 'J', width: 1, digit: true },
  { key: 'MI', width: 2, digit: true }, { key: 'MM', width: 2, digit: true, mode: 'greg' }, { key: 'MONTH', width: 0, digit: false, mode: 'greg' },
  { key: 'MON', width: 0, digit: false, mode: 'greg' }, { key: 'MS', width: 3, digit: true }, { key: 'OF', width: 0, digit: false },
  { key: 'P.M.', width: 0, digit: false }, { key: 'PM', width: 0, digit: false }, { key: 'Q', width: 1, digit: true },
  { key: 'RM', width: 0, digit: false, mode: 'greg' }, { key: 'SSSSS', width: 5, digit: true }, { key: 'SSSS', width: 4, digit: true },
  { key: 'SS', width: 2, digit: true }, { key: 'TZH', width: 2, digit: false }, { key: 'TZM', width: 2, digit: true },
  { key: 'TZ', width: 0, digit: false }, { key: 'US', width: 6, digit: true }, { key: 'WW', width: 2, digit: true, mode: 'greg' },
  { key: 'W', width: 1, digit: true, mode: 'greg' }, { key: 'Y,YYY', width: 5, digit: true, mode: 'greg' }, { key: 'YYYY', width: 4, digit: true, mode: 'greg' },
  { key: 'YYY', width: 3, digit: true, mode: 'greg' }, { key: 'YY', width: 2, digit: true, mode: 'greg' }, { key: 'Y', width: 1, digit: true, mode: 'greg' },
] satisfies Pattern[]).sort((a, b) => b.key.length - a.key.length)

type Item =
  | { kind: 'field'; p: Pattern; fm: boolean; th: boolean; name: string }
  | { kind: 'space' } | { kind: 'separator' } | { kind: 'char'; ch: string }

const isSeparator = (c: string | undefined): boolean => c !== undefined && c > ' ' && c < '\x7f' && !/[A-Za-z0-9]/.test(c)
const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c)

/** Template items (PostgreSQL's parse_format for the DCH patterns). */
function parseTemplate(t: string): Item[] {
  const out: Item[] = []
  let i = 0
  while (i < t.length) {
    let fm = false
    if (/^(FM|fm)/.test(t.slice(i)) && PATTERNS.some((p) => t.slice(i + 2).toUpperCase().startsWith(p.key))) {
      fm = true
      i += 2
    }
    const rest = t.slice(i)
    const p = PATTERNS.find((x) => rest.toUpperCase().startsWith(x.key))
    if (p) {
      const name = rest.slice(0, p.key.length)
      i += p.key.length
      let th = false
      if (/^(TH|th)/.test(t.slice(i))) {
        th = true
        i += 2
      }
      out.push({ kind: 'field', p, fm, th, name })
      continue
    }
    const c = t[i]!
    if (c === '"') {
      i++
      while (i < t.length && t[i] !== '"') {
        if (t[i] === '\\' && i + 1 < t.length) i++
        out.push({ kind: 'char', ch: t[i]! })
        i++
      }
      i++
      continue
    }
    if (c === '\\' && t[i + 1] === '"') {
      out.push({ kind: 'char', ch: '"' })
      i += 2
      continue
    }
    out.push(isSpace(c) ? { kind: 'space' } : isSeparator(c) ? { kind: 'separator' } : { kind: 'char', ch: c })
    i++
  }
  return out
}

/** What the template read: PostgreSQL's TmFromChar (0: not given). */
interface Fields {
  hh: number; pm: number; clock12: boolean; mi: number; ss: number; ssss: number; ms: number; us: number; ff: number
  year: number; yysz: number; bc: number; cc: number; mm: number; dd: number; ddd: number; d: number; ww: number; w: number; j: number
  tzsign: number; tzh: number; tzm: number; mode: 'iso' | 'greg' | null
}

function invalid(message: string, detail?: string): SqlError {
  return new SqlError(SqlState.invalidDatetimeFormat, message, detail ? { detail } : undefined)
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december']
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']
const ROMAN = ['xii', 'xi', 'x', 'ix', 'viii', 'vii', 'vi', 'v', 'iv', 'iii', 'ii', 'i']

class Reader {
  readonly s: string
  pos = 0
  constructor(s: string) {
    this.s = s
  }

  get done(): boolean {
    return this.pos >= this.s.length
  }

  skipSpaces(): number {
    let n = 0
    while (isSpace(this.s[this.pos])) {
      this.pos++
      n++
    }
    return n
  }
}

function setField(f: Fields, key: keyof Fields, v: number, name: string): void {
  const cur = f[key] as number
  if (cur !== 0 && cur !== v) throw invalid(`conflicting values for "${name}" field in formatting string`, 'This value contradicts a previous setting for the same field type.')
  ;(f[key] as number) = v
}

/** An integer field: its width, or as many digits as follow when FM or a non-digit item comes next. Returns the characters read and the value. */
function readNumber(r: Reader, item: Extract<Item, { kind: 'field' }>, next: Item | undefined, f: Fields | null, key: keyof Fields | null, width = item.p.width): [number, number] {
  r.skipSpaces()
  const start = r.pos
  const copy = r.s.slice(start, start + width)
  const loose = item.fm || item.th || next === undefined || (next.kind === 'field' ? !next.p.digit : !(next.kind === 'char' && /\d/.test(next.ch)))
  let text: string
  if (loose) {
    text = /^[+-]?\d*/.exec(r.s.slice(start))![0]
  } else {
    if (copy.length < width) {
      throw invalid(`source string too short for "${item.name}" formatting field`, `Field requires ${width} characters, but only ${copy.length} remain.`)
    }
    text = /^[+-]?\d*/.exec(copy)![0]
    if (text.length > 0 && text.length < width) {
      throw invalid(`invalid value "${copy}" for "${item.name}"`, `Field requires ${width} characters, but only ${text.length} could be parsed.`)
    }
  }
  if (!/\d/.test(text)) throw invalid(`invalid value "${copy}" for "${item.name}"`, 'Value must be an integer.')
  const v = Number(text)
  if (v < -2147483648 || v > 2147483647) {
    throw new SqlError(SqlState.datetimeFieldOverflow, `value for "${item.name}" in source string is out of range`, { detail: 'Value must be in the range -2147483648 to 2147483647.' })
  }
  r.pos = start + text.length
  if (f && key) setField(f, key, v, item.name)
  if (item.th && /^(st|nd|rd|th)/i.test(r.s.slice(r.pos))) r.pos += 2
  return [text.length, v]
}

function readInt(r: Reader, item: Extract<Item, { kind: 'field' }>, next: Item | undefined, f: Fields | null, key: keyof Fields | null): number {
  return readNumber(r, item, next, f, key)[0]
}

/** A word from `words` (case-insensitive, first match): its index. */
function readWord(r: Reader, words: string[], item: Extract<Item, { kind: 'field' }>): number {
  r.skipSpaces()
  const rest = r.s.slice(r.pos).toLowerCase()
  const i = words.findIndex((w) => rest.startsWith(w))
  if (i < 0) {
    throw invalid(`invalid value "${r.s.slice(r.pos, r.pos + Math.max(...words.map((w) => w.length)))}" for "${item.name}"`, 'The given value did not match any of the allowed values for this field.')
  }
  r.pos += words[i]!.length
  return i
}

/** A year given in fewer than four digits, placed nearest 2020 as PostgreSQL does. */
function adjustPartialYear(year: number): number {
  if (year < 70) return year + 2000
  if (year < 100) return year + 1900
  if (year < 520) return year + 2000
  if (year < 1000) return year + 1000
  return year
}

/** Reads `input` by `template` into PostgreSQL's from-char fields. */
function readFields(input: string, template: string): Fields {
  const items = parseTemplate(template)
  const f: Fields = {
    hh: 0, pm: 0, clock12: false, mi: 0, ss: 0, ssss: 0, ms: 0, us: 0, ff: 0, year: 0, yysz: 0, bc: 0, cc: 0, mm: 0, dd: 0,
    ddd: 0, d: 0, ww: 0, w: 0, j: 0, tzsign: 0, tzh: 0, tzm: 0, mode: null,
  }
  const r = new Reader(input)
  let fx = false
  let extraSkip = 0
  for (let k = 0; k < items.length && !r.done; k++) {
    const item = items[k]!
    const next = items[k + 1]
    if (!fx && (item.kind === 'field' ? item.p.key !== 'FX' : k === 0)) extraSkip += r.skipSpaces()
    if (item.kind === 'space' || item.kind === 'separator') {
      if (!fx) {
        extraSkip--
        if (isSpace(r.s[r.pos]) || isSeparator(r.s[r.pos])) {
          r.pos++
          extraSkip++
        }
      } else r.pos++
      continue
    }
    if (item.kind === 'char') {
      if (!fx && extraSkip > 0) extraSkip--
      else r.pos++
      continue
    }
    const key = item.p.key
    if (item.p.mode) {
      if (f.mode !== null && f.mode !== item.p.mode) {
        throw invalid('invalid combination of date conventions', 'Do not mix Gregorian and ISO week date conventions in a formatting template.')
      }
      f.mode = item.p.mode
    }
    switch (key) {
      case 'FX': fx = true; break
      case 'A.M.': case 'P.M.': setField(f, 'pm', readWord(r, ['a.m.', 'p.m.'], item) % 2, item.name); f.clock12 = true; break
      case 'AM': case 'PM': setField(f, 'pm', readWord(r, ['am', 'pm'], item) % 2, item.name); f.clock12 = true; break
      case 'A.D.': case 'B.C.': setField(f, 'bc', readWord(r, ['a.d.', 'b.c.'], item) % 2, item.name); break
      case 'AD': case 'BC': setField(f, 'bc', readWord(r, ['ad', 'bc'], item) % 2, item.name); break
      case 'HH': case 'HH12': readInt(r, item, next, f, 'hh'); f.clock12 = true; break
      case 'HH24': readInt(r, item, next, f, 'hh'); break
      case 'MI': readInt(r, item, next, f, 'mi'); break
      case 'SS': readInt(r, item, next, f, 'ss'); break
      case 'MS': {
        const len = readInt(r, item, next, f, 'ms')
        f.ms *= len === 1 ? 100 : len === 2 ? 10 : 1
        break
      }
      case 'FF1': case 'FF2': case 'FF3': case 'FF4': case 'FF5': case 'FF6': case 'US': {
        if (key !== 'US') f.ff = Number(key[2])
        const len = readInt(r, item, next, f, 'us')
        f.us *= 10 ** (6 - Math.min(6, len))
        break
      }
      case 'SSSS': case 'SSSSS': readInt(r, item, next, f, 'ssss'); break
      case 'TZ': case 'OF':
        throw new SqlError(SqlState.featureNotSupported, `formatting field "${item.name}" is only supported in to_char`)
      case 'TZH': {
        const c = r.s[r.pos]
        if (c === '+' || c === '-' || c === ' ') {
          f.tzsign = c === '-' ? -1 : 1
          r.pos++
        } else f.tzsign = extraSkip > 0 && r.s[r.pos - 1] === '-' ? -1 : 1
        readInt(r, item, next, f, 'tzh')
        break
      }
      case 'TZM':
        if (!f.tzsign) f.tzsign = 1
        readInt(r, item, next, f, 'tzm')
        break
      case 'MONTH': setField(f, 'mm', readWord(r, MONTHS, item) + 1, item.name); break
      case 'MON': setField(f, 'mm', readWord(r, MONTHS.map((m) => m.slice(0, 3)), item) + 1, item.name); break
      case 'MM': readInt(r, item, next, f, 'mm'); break
      case 'DAY': setField(f, 'd', readWord(r, DAYS, item) + 1, item.name); break
      case 'DY': setField(f, 'd', readWord(r, DAYS.map((d) => d.slice(0, 3)), item) + 1, item.name); break
      case 'DDD': case 'IDDD': readInt(r, item, next, f, 'ddd'); break
      case 'DD': readInt(r, item, next, f, 'dd'); break
      case 'D': readInt(r, item, next, f, 'd'); break
      case 'ID': {
        readInt(r, item, next, f, 'd')
        if (++f.d > 7) f.d = 1
        break
      }
      case 'WW': case 'IW': readInt(r, item, next, f, 'ww'); break
      case 'Q': readInt(r, item, next, null, null); break
      case 'CC': readInt(r, item, next, f, 'cc'); break
      case 'Y,YYY': {
        r.skipSpaces()
        const m = /^(\d+),(\d{3})/.exec(r.s.slice(r.pos))
        if (!m) throw invalid('invalid input string for "Y,YYY"')
        setField(f, 'year', Number(m[1]) * 1000 + Number(m[2]), item.name)
        f.yysz = 4
        r.pos += m[0].length
        if (item.th && /^(st|nd|rd|th)/i.test(r.s.slice(r.pos))) r.pos += 2
        break
      }
      case 'YYYY': case 'IYYY': readInt(r, item, next, f, 'year'); f.yysz = 4; break
      case 'YYY': case 'IYY': case 'YY': case 'IY': case 'Y': case 'I': {
        const [len, v] = readNumber(r, item, next, f, 'year')
        if (len < 4) f.year = adjustPartialYear(v)
        f.yysz = key.length
        break
      }
      case 'RM': setField(f, 'mm', 12 - readWord(r, ROMAN, item), item.name); break
      case 'W': readInt(r, item, next, f, 'w'); break
      case 'J': readInt(r, item, next, f, 'j'); break
    }
    if (!fx) extraSkip = r.skipSpaces()
  }
  return f
}

function overflow(input: string): SqlError {
  return new SqlError(SqlState.datetimeFieldOverflow, `date/time field value out of range: "${input}"`)
}

/** Days since 1970-01-01 of ISO week `week`, day `isoDay` (1 = Monday) of ISO year `year`. */
function isoWeekDate(year: number, week: number, isoDay: number): number {
  const jan4 = daysFromCivil(year, 1, 4)
  const jan4Dow = ((jan4 % 7) + 7 + 3) % 7 // 0 = Monday (1970-01-01 was a Thursday)
  return jan4 - jan4Dow + (week - 1) * 7 + (isoDay - 1)
}

interface Civil { days: number; micros: number; tzSeconds: number | null }

/** PostgreSQL's do_to_timestamp: the date (days since 1970-01-01), time of day and zone the fields give. */
function civilOf(input: string, template: string): Civil {
  const f = readFields(input, template)
  let hour = 0, minute = 0, second = 0
  if (f.ssss) {
    hour = Math.trunc(f.ssss / 3600)
    minute = Math.trunc((f.ssss % 3600) / 60)
    second = f.ssss % 60
  }
  if (f.ss) second = f.ss
  if (f.mi) minute = f.mi
  if (f.hh) hour = f.hh
  if (f.clock12) {
    if (hour < 1 || hour > 12) {
      throw new SqlError(SqlState.datetimeFieldOverflow, `hour "${hour}" is invalid for the 12-hour clock`, { hint: 'Use the 24-hour clock, or give an hour between 1 and 12.' })
    }
    if (f.pm && hour < 12) hour += 12
    else if (!f.pm && hour === 12) hour = 0
  }
  // Astronomical year (0 = 1 BC), month and day; PostgreSQL starts from year 0, January 1.
  let year = 0, month = 1, day = 1
  let haveYear = false, haveMonth = false, haveDay = false
  if (f.year) {
    if (f.cc && f.yysz <= 2) {
      const cc = f.bc ? -f.cc : f.cc
      const yy = f.year % 100
      year = yy ? (cc >= 0 ? yy + (cc - 1) * 100 : (cc + 1) * 100 - yy + 1) : cc * 100 + (cc >= 0 ? 0 : 1)
    } else {
      year = f.bc ? -f.year : f.year
      if (year < 0) year++
    }
    haveYear = true
  } else if (f.cc) {
    const cc = f.bc ? -f.cc : f.cc
    year = cc >= 0 ? (cc - 1) * 100 + 1 : cc * 100 + 1
    haveYear = true
  }
  let fromDays: number | null = null
  if (f.j) fromDays = f.j - 2440588
  let ddd = f.ddd
  if (f.ww) {
    if (f.mode === 'iso') fromDays = isoWeekDate(year, f.ww, f.d ? ((f.d + 5) % 7) + 1 : 1)
    else ddd = (f.ww - 1) * 7 + 1
  }
  let dd = f.dd
  if (f.w) dd = (f.w - 1) * 7 + 1
  if (fromDays !== null) {
    haveYear = haveMonth = haveDay = true
  } else {
    if (dd) {
      day = dd
      haveDay = true
    }
    if (f.mm) {
      month = f.mm
      haveMonth = true
    }
    if (ddd && (month <= 1 || day <= 1)) {
      if (!year && !f.bc) throw new SqlError(SqlState.datetimeFieldOverflow, 'cannot calculate day of year without year information')
      if (f.mode === 'iso') {
        fromDays = isoWeekDate(year, 1, 1) + ddd - 1
      } else {
        const leap = daysInMonth(year, 2) === 29
        if (ddd > (leap ? 366 : 365) || ddd < 1) throw overflow(input)
        let m = 1
        let before = 0
        while (m < 12 && ddd > before + daysInMonth(year, m)) before += daysInMonth(year, m++)
        if (month <= 1) month = m
        if (day <= 1) day = ddd - before
      }
      haveMonth = haveDay = true
    }
  }
  if (fromDays === null) {
    if ((haveMonth && (month < 1 || month > 12)) || (haveDay && (day < 1 || day > 31))) throw overflow(input)
    if (haveYear && haveMonth && haveDay && day > daysInMonth(year, month)) throw overflow(input)
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw overflow(input)
  }
  const micros = f.ms * 1000 + f.us
  if (hour < 0 || hour >= 24 || minute < 0 || minute >= 60 || second < 0 || second >= 60 || micros < 0 || micros >= USEC_PER_SEC) throw overflow(input)
  let tzSeconds: number | null = null
  if (f.tzsign) {
    if (f.tzh < 0 || f.tzh > 15 || f.tzm < 0 || f.tzm >= 60) {
      throw new SqlError(SqlState.invalidTimeZoneDisplacementValue, `time zone displacement out of range: "${input}"`)
    }
    tzSeconds = f.tzsign * (f.tzh * 3600 + f.tzm * 60)
  }
  let us = ((hour * 60 + minute) * 60 + second) * USEC_PER_SEC + micros
  if (f.ff) {
    const unit = 10 ** (6 - f.ff)
    us = Math.round(us / unit) * unit
  }
  return { days: fromDays ?? daysFromCivil(year, month, day), micros: us, tzSeconds }
}

/** to_timestamp(text, template): a timestamptz (micros since the epoch, UTC; the session zone is UTC). */
export function toTimestamp(input: string, template: string): number {
  const c = civilOf(input, template)
  const us = c.days * USEC_PER_DAY + c.micros - (c.tzSeconds ?? 0) * USEC_PER_SEC
  if (us < TIMESTAMP_MIN_MICROS || us >= TIMESTAMP_END_MICROS) throw timestampOutOfRange()
  return us
}

/** to_date(text, template): days since 1970-01-01 (time fields are read and dropped). */
export function toDate(input: string, template: string): number {
  const days = civilOf(input, template).days
  if (days < DATE_MIN_DAYS || days >= DATE_END_DAYS) throw new SqlError(SqlState.datetimeFieldOverflow, `date out of range: "${input}"`)
  return days
}
