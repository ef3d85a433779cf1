/**
 * to_char(number, template) and to_number(text, template): PostgreSQL's numeric template
 * language (formatting.c's NUM_processor), C locale. The template is parsed into keywords (`9 0 . D , G S MI PL
 * SG PR TH th FM L V RN rn EEEE`) and literal characters (double-quoted text, where a
 * backslash quotes the next character; outside quotes `\"` is a quote). The value is
 * rounded to the template's fraction digits and printed as a digit string, which the
 * template then lays out: blanks (or zeros after the first `0`) where the number has no
 * digit, the sign where S/MI/PL/SG/PR put it (else just before the first digit), and
 * `#`s when the integer part does not fit.
 *
 * to_number reads the other way: each digit position takes a digit (or the decimal
 * point, or a sign before the first / after the last digit), a literal character skips one
 * input character, and the digits read become a NUMERIC of the template's precision.
 *
 * Invariants: a template combination PostgreSQL refuses (`S` with `PR`, two decimal
 * points, `EEEE` with other signs ..) is 42601 here too; the output is cut where
 * PostgreSQL's would end (a digit position past the end of the digit string).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { Decimal, applyNumericTypmod } from '../types/decimal.js'
import { cFixed } from '../types/float-text.js'

type Key = '9' | '0' | '.' | 'D' | ',' | 'G' | 'FM' | 'S' | 'MI' | 'PL' | 'SG' | 'PR' | 'TH' | 'th' | 'L' | 'V' | 'RN' | 'rn' | 'EEEE' | 'B' | 'SP'
type Node = { key: Key } | { text: string }

/** Keywords in PostgreSQL's search order (SG and SP before S); lowercase spellings map to the same keyword. */
const KEYWORDS: Array<[string, Key]> = [
  [',', ','], ['.', '.'], ['0', '0'], ['9', '9'], ['B', 'B'], ['D', 'D'], ['EEEE', 'EEEE'], ['FM', 'FM'], ['G', 'G'], ['L', 'L'],
  ['MI', 'MI'], ['PL', 'PL'], ['PR', 'PR'], ['RN', 'RN'], ['SG', 'SG'], ['SP', 'SP'], ['S', 'S'], ['TH', 'TH'], ['V', 'V'],
  ['b', 'B'], ['d', 'D'], ['eeee', 'EEEE'], ['fm', 'FM'], ['g', 'G'], ['l', 'L'], ['mi', 'MI'], ['pl', 'PL'], ['pr', 'PR'],
  ['rn', 'rn'], ['sg', 'SG'], ['sp', 'SP'], ['s', 'S'], ['th', 'th'], ['v', 'V'],
]

export function parseNumTemplate(template: string): Node[] {
  const out: Node[] = []
  let i = 0
  while (i < template.length) {
    const kw = KEYWORDS.find(([w]) => template.startsWith(w, i))
    if (kw) {
      out.push({ key: kw[1] })
      i += kw[0].length
      continue
    }
    if (template[i] === '"') {
      i++
      while (i < template.length) {
        if (template[i] === '"') {
          i++
          break
        }
        if (template[i] === '\\' && i + 1 < template.length) i++
        out.push({ text: template[i]! })
        i++
      }
      continue
    }
    if (template[i] === '\\' && template[i + 1] === '"') i++
    const cp = template.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    out.push({ text: ch })
    i += ch.length
  }
  return out
}

/** What the template asks for (PostgreSQL's NUMDesc). */
export interface NumDesc {
  pre: number
  post: number
  decimal: boolean
  zero: boolean
  /** 1-based position of the first integer `0`; zeroEnd: of the last `0`. */
  zeroStart: number
  zeroEnd: number
  fill: boolean
  lsign: 'none' | 'pre' | 'post'
  preLsignNum: number
  minus: boolean
  plus: boolean
  bracket: boolean
  roman: boolean
  multi: number
  isMulti: boolean
  eeee: boolean
}

function templateError(message: string): SqlError {
  return new SqlError(SqlState.syntaxError, message)
}

export function describeTemplate(nodes: Node[]): NumDesc {
  const d: NumDesc = {
    pre: 0, post: 0, decimal: false, zero: false, zeroStart: 0, zeroEnd: 0, fill: false, lsign: 'none', preLsignNum: 0,
    minus: false, plus: false, bracket: false, roman: false, multi: 0, isMulti: false, eeee: false,
  }
  for (const n of nodes) {
    if (!('key' in n)) continue
    if (d.eeee && n.key !== 'EEEE') throw templateError('"EEEE" must be the last pattern used')
    switch (n.key) {
      case '9':
        if (d.bracket) throw templateError('"9" must be ahead of "PR"')
        if (d.isMulti) d.multi++
        else if (d.decimal) d.post++
        else d.pre++
        break
      case '0':
        if (d.bracket) throw templateError('"0" must be ahead of "PR"')
        if (!d.zero && !d.decimal) {
          d.zero = true
          d.zeroStart = d.pre + 1
        }
        if (!d.decimal) d.pre++
        else d.post++
        d.zeroEnd = d.pre + d.post
        break
      case 'D': case '.':
        if (d.decimal) throw templateError('multiple decimal points')
        if (d.isMulti) throw templateError('cannot use "V" and decimal point together')
        d.decimal = true
        break
      case 'FM': d.fill = true; break
      case 'S':
        if (d.lsign !== 'none') throw templateError('cannot use "S" twice')
        if (d.plus || d.minus || d.bracket) throw templateError('cannot use "S" and "PL"/"MI"/"SG"/"PR" together')
        if (!d.decimal) {
          d.lsign = 'pre'
          d.preLsignNum = d.pre
        } else d.lsign = 'post'
        break
      case 'MI':
        if (d.lsign !== 'none') throw templateError('cannot use "S" and "MI" together')
        d.minus = true
        break
      case 'PL':
        if (d.lsign !== 'none') throw templateError('cannot use "S" and "PL" together')
        d.plus = true
        break
      case 'SG':
        if (d.lsign !== 'none') throw templateError('cannot use "S" and "SG" together')
        d.minus = true
        d.plus = true
        break
      case 'PR':
        if (d.lsign !== 'none' || d.plus || d.minus) throw templateError('cannot use "PR" and "S"/"PL"/"MI"/"SG" together')
        d.bracket = true
        break
      case 'RN': case 'rn': d.roman = true; break
      case 'V':
        if (d.decimal) throw templateError('cannot use "V" and decimal point together')
        d.isMulti = true
        break
      case 'EEEE':
        if (d.eeee) throw templateError('cannot use "EEEE" twice')
        if (d.fill || d.lsign !== 'none' || d.bracket || d.minus || d.plus || d.roman || d.isMulti) {
          throw templateError('"EEEE" is incompatible with other formats')
        }
        d.eeee = true
        break
      default: break
    }
  }
  return d
}

const ROMAN_DIGITS: Array<[number, string]> = [
  [1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'], [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I'],
]

/** C's rint: to the nearest integer, a half to the even one. */
function rint(x: number): number {
  const r = Math.round(x)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r
}

function toRoman(n: number): string {
  if (n < 1 || n > 3999) return '#'.repeat(15)
  let out = ''
  for (const [v, s] of ROMAN_DIGITS) {
    while (n >= v) {
      out += s
      n -= v
    }
  }
  return out
}

/** `d.ddde±XX` with `post` fraction digits, as C's `%.*e` prints it. */
function scientific(v: Decimal, post: number): string {
  const neg = v.sign() < 0
  const a = v.abs()
  if (a.isZero()) return (neg ? '-' : '') + (post > 0 ? '0.' + '0'.repeat(post) : '0') + 'e+00'
  let exp = a.integerDigits() - 1
  if (exp < 0) {
    // Leading fractional zeros: the exponent is minus their count plus one.
    const frac = a.toString().split('.')[1] ?? ''
    exp = -((/^0*/.exec(frac)?.[0].length ?? 0) + 1)
  }
  // The mantissa rounded to post digits; rounding up may carry into a new digit (9.99 -> 10.0).
  const shifted = a.mul(exp >= 0 ? new Decimal(1n, exp) : new Decimal(10n ** BigInt(-exp), 0))
  // A mantissa rounded up to 10 keeps its exponent (9.9996 -> 10.000e+00), as PostgreSQL prints it.
  const m = shifted.withScale(post)
  const e = Math.abs(exp)
  return (neg ? '-' : '') + m.toString() + 'e' + (exp < 0 ? '-' : '+') + String(e).padStart(2, '0')
}

/** The value as to_char lays it out: its digit string, sign and the blanks before it. */
interface Layout { number: string; sign: '+' | '-'; outPreSpaces: number }

function layoutDecimal(value: Decimal, d: NumDesc): Layout {
  const x = value.isFinite() ? value.withScale(d.post) : value
  const org = x.toString()
  const sign = org.startsWith('-') ? '-' : '+'
  let number = sign === '-' ? org.slice(1) : org
  const dot = number.indexOf('.')
  const preLen = dot >= 0 ? dot : number.length
  let outPreSpaces = 0
  if (preLen < d.pre) outPreSpaces = d.pre - preLen
  else if (preLen > d.pre) number = '#'.repeat(d.pre) + '.' + '#'.repeat(d.post)
  return { number, sign, outPreSpaces }
}

/** A double's layout: PostgreSQL keeps at most 15 (real: 6) significant digits. */
function layoutFloat(v: number, d: NumDesc, digits: number): Layout {
  const fixed = (x: number, post: number) => (Math.abs(x) >= 1e21 ? BigInt(Math.round(x)).toString() + (post > 0 ? '.' + '0'.repeat(post) : '') : cFixed(x, post))
  const preLen0 = Number.isNaN(v) ? 3 : Number.isFinite(v) ? fixed(Math.abs(v), 0).length : 'Infinity'.length
  const post = preLen0 >= digits ? 0 : preLen0 + d.post > digits ? digits - preLen0 : d.post
  if (!Number.isFinite(v)) return layoutDecimal(Decimal.fromNumber(v), { ...d, post })
  const org = fixed(v, post)
  const sign = org.startsWith('-') ? '-' : '+'
  let number = sign === '-' ? org.slice(1) : org
  const dot = number.indexOf('.')
  const preLen = dot >= 0 ? dot : number.length
  let outPreSpaces = 0
  if (preLen < d.pre) outPreSpaces = d.pre - preLen
  else if (preLen > d.pre) number = '#'.repeat(d.pre) + '.' + '#'.repeat(post)
  return { number, sign, outPreSpaces }
}

/** The ordinal suffix of the digit string's last number (PostgreSQL's get_th). */
function ordinalSuffix(num: string, upper: boolean): string {
  const last = num[num.length - 1]!
  if (!/\d/.test(last)) throw new SqlError(SqlState.invalidTextRepresentation, `"${num}" is not a number`)
  const teen = num.length > 1 && num[num.length - 2] === '1'
  const s = teen ? 'th' : last === '1' ? 'st' : last === '2' ? 'nd' : last === '3' ? 'rd' : 'th'
  return upper ? s.toUpperCase() : s
}

/** Lays out `layout` by the template (NUM_processor, to_char direction). */
function render(nodes: Node[], d: NumDesc, layout: Layout): string {
  const { number } = layout
  const fill = d.fill
  let bracket = d.bracket
  let lsign = d.lsign
  const zeroStart = d.zeroStart > 0 ? d.zeroStart - 1 : 0
  let signWrote: boolean
  if (d.plus || d.minus) signWrote = !(d.plus && !d.minus)
  else {
    if (layout.sign !== '-' && fill) bracket = false
    signWrote = layout.sign === '+' && fill && lsign === 'none'
    if (lsign === 'pre' && d.pre === d.preLsignNum) lsign = 'post'
  }
  let numCount = d.post + d.pre - 1
  const outPreSpaces = layout.outPreSpaces
  let lastRelevant: number | null = null
  if (fill && d.decimal) {
    const dot = number.indexOf('.')
    if (dot >= 0) {
      lastRelevant = dot
      for (let k = dot + 1; k < number.length; k++) if (number[k] !== '0') lastRelevant = k
      if (d.zeroEnd > outPreSpaces) {
        const lastZero = Math.min(number.length - 1, d.zeroEnd - outPreSpaces)
        if (lastRelevant < lastZero) lastRelevant = lastZero
      }
    }
  }
  if (!signWrote && outPreSpaces === 0) numCount++
  let out = ''
  let numP = 0
  let numCurr = 0
  let numIn = false
  // A digit position past the end of the digit string ends PostgreSQL's output there.
  let cut = false
  const at = (k: number) => number[k] ?? ''
  const predecSpace = () => !d.zero && numP === 0 && number[0] === '0' && d.post !== 0
  const writeSign = () => (layout.sign === '-' ? '-' : '+')

  const numpart = (key: Key) => {
    numIn = false
    if (!signWrote && (numCurr >= outPreSpaces || (d.zero && zeroStart === numCurr)) &&
      (!predecSpace() || (lastRelevant !== null && number[lastRelevant] === '.'))) {
      if (lsign !== 'none') {
        if (lsign === 'pre') {
          out += writeSign()
          signWrote = true
        }
      } else if (bracket) {
        out += layout.sign === '+' ? ' ' : '<'
        signWrote = true
      } else if (layout.sign === '+') {
        if (!fill) out += ' '
        signWrote = true
      } else {
        out += '-'
        signWrote = true
      }
    }
    if (numCurr < outPreSpaces && (zeroStart > numCurr || !d.zero)) {
      if (!fill) out += ' '
    } else if (d.zero && numCurr < outPreSpaces && zeroStart <= numCurr) {
      out += '0'
      numIn = true
    } else {
      if (at(numP) === '.') {
        if (lastRelevant === null || number[lastRelevant] !== '.') out += '.'
        else if (fill) out += '.'
      } else if (lastRelevant !== null && numP > lastRelevant && key !== '0') {
        // past the last significant fraction digit in fill mode
      } else if (predecSpace()) {
        if (!fill) out += ' '
        else if (lastRelevant !== null && number[lastRelevant] === '.') out += '0'
      } else {
        if (numP >= number.length) cut = true
        else out += number[numP]
        numIn = true
      }
      if (numP < number.length) numP++
    }
    let end = numCount + (outPreSpaces ? 1 : 0) + (d.decimal ? 1 : 0)
    if (lastRelevant !== null && lastRelevant === numP) end = numCurr
    if (numCurr + 1 === end) {
      if (signWrote && bracket) out += layout.sign === '+' ? ' ' : '>'
      else if (lsign === 'post') out += writeSign()
    }
    numCurr++
  }

  for (const n of nodes) {
    if (cut) break
    if (!('key' in n)) {
      out += n.text
      continue
    }
    if (d.roman) {
      // Roman output ignores every other keyword.
      if (n.key === 'RN' || n.key === 'rn') {
        const r = fill ? number : number.padStart(15, ' ')
        out += n.key === 'rn' ? r.toLowerCase() : r
      }
      continue
    }
    switch (n.key) {
      case '9': case '0': case '.': case 'D': numpart(n.key); break
      case ',': case 'G':
        if (!numIn) {
          if (!fill) out += ' '
        } else out += ','
        break
      case 'L': out += ' '; break
      case 'TH': case 'th':
        if (number[0] === '#' || layout.sign === '-' || d.decimal) break
        out += ordinalSuffix(number, n.key === 'TH')
        break
      case 'MI':
        if (layout.sign === '-') out += '-'
        else if (!fill) out += ' '
        break
      case 'PL':
        if (layout.sign === '+') out += '+'
        else if (!fill) out += ' '
        break
      case 'SG': out += layout.sign; break
      default: break
    }
  }
  return out
}

/** A number's to_char value: NUMERIC/integers exact, `float` with the digits a double (15) or real (6) keeps. */
export function toCharNumeric(value: Decimal | number, template: string, floatDigits = 15): string {
  const nodes = parseNumTemplate(template)
  const d = describeTemplate(nodes)
  if (d.roman) {
    // An exact number becomes an int4 first (22003 past its range, 0A000 for NaN); a float is rounded as C's rint, a half to even.
    if (typeof value !== 'number' && value.isNaN()) throw new SqlError(SqlState.featureNotSupported, 'cannot convert NaN to integer')
    const n = typeof value === 'number' ? (Number.isFinite(value) ? rint(value) : 0) : value.isFinite() ? Number(value.withScale(0).toString()) : NaN
    if (typeof value !== 'number' && !(n >= -2147483648 && n <= 2147483647)) throw new SqlError(SqlState.numericValueOutOfRange, 'integer out of range')
    return render(nodes, d, { number: toRoman(n), sign: '+', outPreSpaces: 0 })
  }
  if (d.eeee) {
    const finite = typeof value === 'number' ? Number.isFinite(value) : value.isFinite()
    if (!finite) return ' ' + '#'.repeat(d.pre) + '.' + '#'.repeat(d.post) + '#'.repeat(4)
    const sci = typeof value === 'number' ? floatScientific(value, d.post) : scientific(value, d.post)
    return sci.startsWith('-') ? sci : ' ' + sci
  }
  let v = value
  if (d.isMulti) {
    const scale = new Decimal(10n ** BigInt(d.multi), 0)
    v = typeof v === 'number' ? v * 10 ** d.multi : v.isFinite() ? v.mul(scale) : v
    d.pre += d.multi
  }
  const layout = typeof v === 'number' ? layoutFloat(v, d, floatDigits) : layoutDecimal(v, d)
  return render(nodes, d, layout)
}

function floatScientific(v: number, post: number): string {
  const s = v.toExponential(Math.min(100, post))
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(s)!
  return m[1] + 'e' + m[2] + m[3]!.padStart(2, '0')
}

/** to_number(text, template): the digits, point and sign the template reads from `input`. */
export function toNumber(input: string, template: string): Decimal {
  const nodes = parseNumTemplate(template)
  const d = describeTemplate(nodes)
  if (d.roman) throw new SqlError(SqlState.featureNotSupported, '"RN" not supported for input')
  if (d.eeee) throw new SqlError(SqlState.featureNotSupported, '"EEEE" not supported for input')
  const inp = [...input]
  let p = 0
  let sign = ' '
  let digits = ''
  let readPre = 0
  let readPost = 0
  let readDec = false
  const over = () => p >= inp.length
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9'
  const numpart = (key: Key) => {
    let isread = false
    if (inp[p] === ' ') p++
    if (over()) return
    if (sign === ' ' && (key === '0' || key === '9') && readPre + readPost === 0) {
      if (d.lsign === 'pre') {
        if (inp[p] === '-' || inp[p] === '+') sign = inp[p++]!
      } else if (inp[p] === '-' || (d.bracket && inp[p] === '<')) {
        sign = '-'
        p++
      } else if (inp[p] === '+') {
        sign = '+'
        p++
      }
    }
    if (over()) return
    if (isDigit(inp[p])) {
      if (readDec && readPost === d.post) return
      digits += inp[p]
      if (readDec) readPost++
      else readPre++
      isread = true
    } else if (d.decimal && !readDec && inp[p] === '.') {
      digits += '.'
      readDec = true
      isread = true
    }
    if (over()) return
    if (sign === ' ' && readPre + readPost > 0) {
      if (d.lsign !== 'none' && isread && p + 1 < inp.length && !isDigit(inp[p + 1])) {
        if (inp[p + 1] === '-' || inp[p + 1] === '+') sign = inp[++p]!
      } else if (!isread && d.lsign === 'none' && (d.plus || d.minus)) {
        if (inp[p] === '-' || inp[p] === '+') sign = inp[p]!
      }
    }
  }
  const eatNonData = (n: number) => {
    while (n-- > 0 && !over() && !'0123456789.,+-'.includes(inp[p]!)) p++
  }
  for (const n of nodes) {
    if (over()) break
    if (!('key' in n)) {
      p++
      continue
    }
    switch (n.key) {
      case '9': case '0': case '.': case 'D': numpart(n.key); break
      case ',': case 'G':
        if (d.fill || inp[p] !== ',') continue
        break
      case 'L':
        // The C locale's currency symbol is one blank: one non-digit character is skipped.
        eatNonData(1)
        continue
      case 'TH': case 'th':
        if (sign === '-' || d.decimal) continue
        eatNonData(2)
        continue
      case 'MI':
        if (inp[p] === '-') sign = '-'
        else {
          eatNonData(1)
          continue
        }
        break
      case 'PL':
        if (inp[p] === '+') sign = '+'
        else {
          eatNonData(1)
          continue
        }
        break
      case 'SG':
        if (inp[p] === '-' || inp[p] === '+') sign = inp[p]!
        else {
          eatNonData(1)
          continue
        }
        break
      default: continue
    }
    p++
  }
  if (digits.endsWith('.')) digits = digits.slice(0, -1)
  const text = (sign === '-' ? '-' : '') + digits
  const value = Decimal.tryParse(text)
  if (value === null) throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type numeric: "${sign}${digits}"`)
  const scale = readPost
  let out = applyNumericTypmod(value, d.pre + d.multi + scale, scale)
  if (d.isMulti) out = out.div(new Decimal(10n ** BigInt(d.multi), 0))
  return out
}
