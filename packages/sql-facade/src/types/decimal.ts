/**
 * Exact decimal numbers for NUMERIC/DECIMAL: a bigint coefficient and a decimal scale
 * (value = coef / 10^scale). Arithmetic follows PostgreSQL's numeric rules for result
 * scales; rounding is half away from zero, as PostgreSQL rounds numeric.
 *
 * NUMERIC also has PostgreSQL's special values NaN, Infinity and -Infinity (`kind`).
 * Every method here gives them PostgreSQL's meaning (NaN equals NaN and sorts above
 * everything; Infinity - Infinity is NaN; Infinity / 0 is still division by zero).
 * Invariant: a special value has no digits, and reading `coef` or `scale` of one throws
 * (XX000), so code that only knows finite numbers fails loudly instead of treating a
 * NaN as zero. Callers test `isFinite()` first.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

const MIN_SIG_DIGITS = 16
const MAX_DISPLAY_SCALE = 1000
/** What a NUMERIC holds: weight up to 32767 base-10000 digits, display scale up to 16383. */
const MAX_INTEGER_DIGITS = 131072
const MAX_FRACTION_DIGITS = 16383

function numericOverflow(): SqlError {
  return new SqlError(SqlState.numericValueOutOfRange, 'value overflows numeric format')
}

export type NumericKind = 'finite' | 'nan' | 'inf' | '-inf'

function notFinite(kind: NumericKind): SqlError {
  return new SqlError(SqlState.internalError, `internal error: numeric ${kind === 'nan' ? 'NaN' : kind === 'inf' ? 'Infinity' : '-Infinity'} reached code that handles only finite numbers`)
}

export class Decimal {
  private readonly c: bigint
  private readonly s: number

  readonly kind: NumericKind

  constructor(coef: bigint, scale: number, kind: NumericKind = 'finite') {
    this.kind = kind
    this.c = coef
    this.s = scale
  }

  static readonly ZERO = new Decimal(0n, 0)
  static readonly NAN = new Decimal(0n, 0, 'nan')
  static readonly INFINITY = new Decimal(0n, 0, 'inf')
  static readonly NEGATIVE_INFINITY = new Decimal(0n, 0, '-inf')

  /** The digits; only for finite values. */
  get coef(): bigint {
    if (this.kind !== 'finite') throw notFinite(this.kind)
    return this.c
  }

  /** Digits after the decimal point; only for finite values. */
  get scale(): number {
    if (this.kind !== 'finite') throw notFinite(this.kind)
    return this.s
  }

  isFinite(): boolean {
    return this.kind === 'finite'
  }

  isNaN(): boolean {
    return this.kind === 'nan'
  }

  static fromBigInt(v: bigint): Decimal {
    return new Decimal(v, 0)
  }

  static fromNumber(v: number): Decimal {
    if (Number.isNaN(v)) return Decimal.NAN
    if (!Number.isFinite(v)) return v > 0 ? Decimal.INFINITY : Decimal.NEGATIVE_INFINITY
    // Shortest round-trip text, so 99.99 stays 99.99 rather than its binary expansion.
    return Decimal.parse(String(v))
  }

  /** Parses PostgreSQL numeric input: [sign] digits [. digits] [e [sign] digits], NaN, [sign] Infinity/inf. */
  static tryParse(text: string): Decimal | null {
    const special = /^\s*(?:(nan)|([+-]?)(inf|infinity))\s*$/i.exec(text)
    if (special) return special[1] ? Decimal.NAN : special[2] === '-' ? Decimal.NEGATIVE_INFINITY : Decimal.INFINITY
    const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text)
    if (!m) return null
    const intPart = m[2] ?? ''
    const fracPart = m[3] ?? ''
    if (intPart === '' && fracPart === '') return null
    let coef = BigInt((intPart + fracPart) || '0')
    let scale = fracPart.length
    if (m[4] !== undefined) {
      const exp = Number(m[4])
      // Past what a NUMERIC can hold: 131072 integer digits, 16383 fractional ones.
      if (exp - fracPart.length > MAX_INTEGER_DIGITS || fracPart.length - exp > MAX_FRACTION_DIGITS) {
        if (/[1-9]/.test(intPart + fracPart)) throw numericOverflow()
        return new Decimal(0n, 0)
      }
      scale -= exp
      if (scale < 0) {
        coef *= 10n ** BigInt(-scale)
        scale = 0
      }
    }
    if (m[1] === '-') coef = -coef
    const d = new Decimal(coef, scale)
    if (scale > MAX_FRACTION_DIGITS || d.integerDigits() > MAX_INTEGER_DIGITS) throw numericOverflow()
    return d
  }

  static parse(text: string): Decimal {
    const d = Decimal.tryParse(text)
    if (!d) throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type numeric: "${text}"`)
    return d
  }

  isZero(): boolean {
    return this.kind === 'finite' && this.c === 0n
  }

  /** 1, -1 or 0; NaN for NaN. */
  sign(): number {
    if (this.kind === 'nan') return NaN
    if (this.kind === 'inf') return 1
    if (this.kind === '-inf') return -1
    return this.c > 0n ? 1 : this.c < 0n ? -1 : 0
  }

  /** Same value at scale `s`, rounding half away from zero when digits are dropped. */
  withScale(s: number): Decimal {
    if (this.kind !== 'finite' || s === this.s) return this
    if (s > this.s) return new Decimal(this.c * 10n ** BigInt(s - this.s), s)
    return new Decimal(divRound(this.c, 10n ** BigInt(this.s - s)), s)
  }

  add(o: Decimal): Decimal {
    if (this.kind !== 'finite' || o.kind !== 'finite') {
      if (this.kind === 'nan' || o.kind === 'nan') return Decimal.NAN
      if (this.kind !== 'finite' && o.kind !== 'finite') return this.kind === o.kind ? this : Decimal.NAN
      return this.kind !== 'finite' ? this : o
    }
    const s = Math.max(this.s, o.s)
    return new Decimal(this.withScale(s).c + o.withScale(s).c, s)
  }

  sub(o: Decimal): Decimal {
    return this.add(o.neg())
  }

  mul(o: Decimal): Decimal {
    if (this.kind !== 'finite' || o.kind !== 'finite') {
      if (this.kind === 'nan' || o.kind === 'nan') return Decimal.NAN
      const sign = this.sign() * o.sign()
      return sign > 0 ? Decimal.INFINITY : sign < 0 ? Decimal.NEGATIVE_INFINITY : Decimal.NAN
    }
    return new Decimal(this.c * o.c, this.s + o.s)
  }

  neg(): Decimal {
    if (this.kind === 'inf') return Decimal.NEGATIVE_INFINITY
    if (this.kind === '-inf') return Decimal.INFINITY
    if (this.kind === 'nan') return this
    return new Decimal(-this.c, this.s)
  }

  abs(): Decimal {
    if (this.kind === '-inf') return Decimal.INFINITY
    if (this.kind !== 'finite') return this
    return this.c < 0n ? this.neg() : this
  }

  /** The quotient of special operands, or null when both are finite. */
  private specialQuotient(o: Decimal): Decimal | null {
    if (this.kind === 'finite' && o.kind === 'finite') return null
    if (this.kind === 'nan' || o.kind === 'nan') return Decimal.NAN
    if (o.isZero()) throw new SqlError(SqlState.divisionByZero, 'division by zero')
    if (o.kind !== 'finite') return this.kind !== 'finite' ? Decimal.NAN : Decimal.ZERO
    return this.sign() * o.sign() > 0 ? Decimal.INFINITY : Decimal.NEGATIVE_INFINITY
  }

  /** Division with PostgreSQL's select_div_scale: at least 16 significant digits. */
  div(o: Decimal): Decimal {
    const special = this.specialQuotient(o)
    if (special) return special
    if (o.isZero()) throw new SqlError(SqlState.divisionByZero, 'division by zero')
    const rscale = this.divScale(o)
    return this.divToScale(o, rscale)
  }

  divToScale(o: Decimal, rscale: number): Decimal {
    const special = this.specialQuotient(o)
    if (special) return special
    if (o.isZero()) throw new SqlError(SqlState.divisionByZero, 'division by zero')
    // this/o = (c1/10^s1)/(c2/10^s2); scaled to rscale: c1*10^(rscale - s1 + s2) / c2
    const shift = rscale - this.s + o.s
    let num = this.c
    let den = o.c
    if (shift >= 0) num *= 10n ** BigInt(shift)
    else den *= 10n ** BigInt(-shift)
    return new Decimal(divRound(num, den), rscale)
  }

  /** Truncating division and remainder as PostgreSQL's numeric `%`. */
  mod(o: Decimal): Decimal {
    if (this.kind === 'nan' || o.kind === 'nan') return Decimal.NAN
    if (o.isZero()) throw new SqlError(SqlState.divisionByZero, 'division by zero')
    if (this.kind !== 'finite') return Decimal.NAN
    if (o.kind !== 'finite') return this
    const s = Math.max(this.s, o.s)
    const a = this.withScale(s).c
    const b = o.withScale(s).c
    return new Decimal(a % b, s)
  }

  /** The scale PostgreSQL gives this / o (select_div_scale); only for finite values. */
  divisionScale(o: Decimal): number {
    return this.divScale(o)
  }

  private divScale(o: Decimal): number {
    const [w1, f1] = this.weightAndFirstDigit()
    const [w2, f2] = o.weightAndFirstDigit()
    let qweight = w1 - w2
    if (f1 <= f2) qweight--
    let rscale = MIN_SIG_DIGITS - qweight * 4
    rscale = Math.max(rscale, this.s, o.s, 0)
    return Math.min(rscale, MAX_DISPLAY_SCALE)
  }

  /** Weight and leading digit in PostgreSQL's base-10000 representation. */
  private weightAndFirstDigit(): [number, number] {
    const a = this.c < 0n ? -this.c : this.c
    if (a === 0n) return [0, 0]
    // exponent of the first significant decimal digit
    const e = a.toString().length - 1 - this.s
    const weight = Math.floor(e / 4)
    // leading base-10000 digit: floor(|v| / 10000^weight)
    const shift = this.s + weight * 4
    const first = shift >= 0 ? a / 10n ** BigInt(shift) : a * 10n ** BigInt(-shift)
    return [weight, Number(first)]
  }

  /** Total order: -Infinity < finite values < Infinity < NaN (NaN equals NaN). */
  compare(o: Decimal): number {
    if (this.kind !== 'finite' || o.kind !== 'finite') {
      const rank = (d: Decimal): number => (d.kind === '-inf' ? -1 : d.kind === 'finite' ? 0 : d.kind === 'inf' ? 1 : 2)
      const a = rank(this)
      const b = rank(o)
      return a < b ? -1 : a > b ? 1 : 0
    }
    const s = Math.max(this.s, o.s)
    const a = this.withScale(s).c
    const b = o.withScale(s).c
    return a < b ? -1 : a > b ? 1 : 0
  }

  equals(o: Decimal): boolean {
    return this.compare(o) === 0
  }

  /** Rounds to an integer (half away from zero); NaN and infinities are 0A000, as casts to integer. */
  toBigInt(target = 'integer'): bigint {
    if (this.kind !== 'finite') throw new SqlError(SqlState.featureNotSupported, `cannot convert ${this.kind === 'nan' ? 'NaN' : 'infinity'} to ${target}`)
    return this.withScale(0).c
  }

  truncToBigInt(): bigint {
    if (this.kind !== 'finite') throw new SqlError(SqlState.featureNotSupported, `cannot convert ${this.kind === 'nan' ? 'NaN' : 'infinity'} to integer`)
    if (this.s === 0) return this.c
    return this.c / 10n ** BigInt(this.s)
  }

  toNumber(): number {
    if (this.kind === 'nan') return NaN
    if (this.kind !== 'finite') return this.kind === 'inf' ? Infinity : -Infinity
    return Number(this.toString())
  }

  /** Number of digits before the decimal point (0 for |v| < 1). */
  integerDigits(): number {
    const a = this.coef < 0n ? -this.coef : this.coef
    const intPart = a / 10n ** BigInt(this.scale)
    return intPart === 0n ? 0 : intPart.toString().length
  }

  /** Strips trailing fractional zeros (the canonical form used for hashing and keys). */
  normalized(): Decimal {
    if (this.kind !== 'finite') return this
    let c = this.c
    let s = this.s
    while (s > 0 && c % 10n === 0n) {
      c /= 10n
      s--
    }
    return new Decimal(c, s)
  }

  toString(): string {
    if (this.kind === 'nan') return 'NaN'
    if (this.kind === 'inf') return 'Infinity'
    if (this.kind === '-inf') return '-Infinity'
    const neg = this.c < 0n
    const digits = (neg ? -this.c : this.c).toString()
    if (this.s === 0) return (neg ? '-' : '') + digits
    const padded = digits.padStart(this.s + 1, '0')
    const i = padded.length - this.s
    return (neg ? '-' : '') + padded.slice(0, i) + '.' + padded.slice(i)
  }
}

/** Integer division rounding half away from zero. */
function divRound(num: bigint, den: bigint): bigint {
  if (den < 0n) {
    num = -num
    den = -den
  }
  const q = num / den
  const r = num % den
  if (r === 0n) return q
  const twice = (r < 0n ? -r : r) * 2n
  if (twice >= den) return num < 0n ? q - 1n : q + 1n
  return q
}

/** `d` rounded (half away from zero) to a multiple of 10^k, as an integer coefficient at scale 0. */
function roundToPowerOfTen(d: Decimal, k: number): bigint {
  const unit = 10n ** BigInt(k + d.scale)
  return divRound(d.coef, unit) * 10n ** BigInt(k)
}

/** Applies NUMERIC(p, s): rounds to s and checks that the value stays below 10^(p - s). */
export function applyNumericTypmod(d: Decimal, precision: number, scale: number): Decimal {
  if (d.isNaN()) return d
  if (!d.isFinite()) {
    throw new SqlError(SqlState.numericValueOutOfRange, 'numeric field overflow', {
      detail: `A field with precision ${precision}, scale ${scale} cannot hold an infinite value.`,
    })
  }
  // A negative scale rounds to tens, hundreds ..: the value keeps scale 0 (PostgreSQL 15).
  const r = scale >= 0 ? d.withScale(scale) : new Decimal(roundToPowerOfTen(d, -scale), 0)
  // |r| must be below 10^(precision - scale), which is below 1 when the scale exceeds the precision.
  const bound = precision - scale >= 0 ? new Decimal(10n ** BigInt(precision - scale), 0) : new Decimal(1n, scale - precision)
  if (r.abs().compare(bound) >= 0) {
    throw new SqlError(SqlState.numericValueOutOfRange, 'numeric field overflow', {
      detail: `A field with precision ${precision}, scale ${scale} must round to an absolute value less than 10^${precision - scale}.`,
    })
  }
  return r
}
