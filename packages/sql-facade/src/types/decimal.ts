/**
 * Exact decimal numbers for NUMERIC/DECIMAL: a bigint coefficient and a decimal scale
 * (value = coef / 10^scale). Arithmetic follows PostgreSQL's numeric rules for result
 * scales; rounding is half away from zero, as PostgreSQL rounds numeric.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

const MIN_SIG_DIGITS = 16
const MAX_DISPLAY_SCALE = 1000

export class Decimal {
  constructor(readonly coef: bigint, readonly scale: number) {}

  static readonly ZERO = new Decimal(0n, 0)

  static fromBigInt(v: bigint): Decimal {
    return new Decimal(v, 0)
  }

  static fromNumber(v: number): Decimal {
    if (!Number.isFinite(v)) throw new SqlError(SqlState.invalidTextRepresentation, `cannot convert ${v} to numeric`)
    // Shortest round-trip text, so 99.99 stays 99.99 rather than its binary expansion.
    return Decimal.parse(String(v))
  }

  /** Parses PostgreSQL numeric input: [sign] digits [. digits] [e [sign] digits]. */
  static tryParse(text: string): Decimal | null {
    const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text)
    if (!m) return null
    const intPart = m[2] ?? ''
    const fracPart = m[3] ?? ''
    if (intPart === '' && fracPart === '') return null
    let coef = BigInt((intPart + fracPart) || '0')
    let scale = fracPart.length
    if (m[4] !== undefined) {
      const exp = Number(m[4])
      if (Math.abs(exp) > 1000) return null
      scale -= exp
      if (scale < 0) {
        coef *= 10n ** BigInt(-scale)
        scale = 0
      }
    }
    if (m[1] === '-') coef = -coef
    return new Decimal(coef, scale)
  }

  static parse(text: string): Decimal {
    const d = Decimal.tryParse(text)
    if (!d) throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type numeric: "${text}"`)
    return d
  }

  isZero(): boolean {
    return this.coef === 0n
  }

  sign(): number {
    return this.coef > 0n ? 1 : this.coef < 0n ? -1 : 0
  }

  /** Same value at scale `s`, rounding half away from zero when digits are dropped. */
  withScale(s: number): Decimal {
    if (s === this.scale) return this
    if (s > this.scale) return new Decimal(this.coef * 10n ** BigInt(s - this.scale), s)
    return new Decimal(divRound(this.coef, 10n ** BigInt(this.scale - s)), s)
  }

  add(o: Decimal): Decimal {
    const s = Math.max(this.scale, o.scale)
    return new Decimal(this.withScale(s).coef + o.withScale(s).coef, s)
  }

  sub(o: Decimal): Decimal {
    const s = Math.max(this.scale, o.scale)
    return new Decimal(this.withScale(s).coef - o.withScale(s).coef, s)
  }

  mul(o: Decimal): Decimal {
    return new Decimal(this.coef * o.coef, this.scale + o.scale)
  }

  neg(): Decimal {
    return new Decimal(-this.coef, this.scale)
  }

  abs(): Decimal {
    return this.coef < 0n ? this.neg() : this
  }

  /** Division with PostgreSQL's select_div_scale: at least 16 significant digits. */
  div(o: Decimal): Decimal {
    if (o.isZero()) throw new SqlError(SqlState.divisionByZero, 'division by zero')
    const rscale = this.divScale(o)
    return this.divToScale(o, rscale)
  }

  divToScale(o: Decimal, rscale: number): Decimal {
    if (o.isZero()) throw new SqlError(SqlState.divisionByZero, 'division by zero')
    // this/o = (c1/10^s1)/(c2/10^s2); scaled to rscale: c1*10^(rscale - s1 + s2) / c2
    const shift = rscale - this.scale + o.scale
    let num = this.coef
    let den = o.coef
    if (shift >= 0) num *= 10n ** BigInt(shift)
    else den *= 10n ** BigInt(-shift)
    return new Decimal(divRound(num, den), rscale)
  }

  /** Truncating division and remainder as PostgreSQL's numeric `%`. */
  mod(o: Decimal): Decimal {
    if (o.isZero()) throw new SqlError(SqlState.divisionByZero, 'division by zero')
    const s = Math.max(this.scale, o.scale)
    const a = this.withScale(s).coef
    const b = o.withScale(s).coef
    return new Decimal(a % b, s)
  }

  private divScale(o: Decimal): number {
    const [w1, f1] = this.weightAndFirstDigit()
    const [w2, f2] = o.weightAndFirstDigit()
    let qweight = w1 - w2
    if (f1 < f2) qweight--
    let rscale = MIN_SIG_DIGITS - qweight * 4
    rscale = Math.max(rscale, this.scale, o.scale, 0)
    return Math.min(rscale, MAX_DISPLAY_SCALE)
  }

  /** Weight and leading digit in PostgreSQL's base-10000 representation. */
  private weightAndFirstDigit(): [number, number] {
    const a = this.coef < 0n ? -this.coef : this.coef
    if (a === 0n) return [0, 0]
    // exponent of the first significant decimal digit
    const e = a.toString().length - 1 - this.scale
    const weight = Math.floor(e / 4)
    // leading base-10000 digit: floor(|v| / 10000^weight)
    const shift = this.scale + weight * 4
    const first = shift >= 0 ? a / 10n ** BigInt(shift) : a * 10n ** BigInt(-shift)
    return [weight, Number(first)]
  }

  compare(o: Decimal): number {
    const s = Math.max(this.scale, o.scale)
    const a = this.withScale(s).coef
    const b = o.withScale(s).coef
    return a < b ? -1 : a > b ? 1 : 0
  }

  equals(o: Decimal): boolean {
    return this.compare(o) === 0
  }

  /** Rounds to an integer (half away from zero). */
  toBigInt(): bigint {
    return this.withScale(0).coef
  }

  truncToBigInt(): bigint {
    if (this.scale === 0) return this.coef
    return this.coef / 10n ** BigInt(this.scale)
  }

  toNumber(): number {
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
    let c = this.coef
    let s = this.scale
    while (s > 0 && c % 10n === 0n) {
      c /= 10n
      s--
    }
    return new Decimal(c, s)
  }

  toString(): string {
    const neg = this.coef < 0n
    const digits = (neg ? -this.coef : this.coef).toString()
    if (this.scale === 0) return (neg ? '-' : '') + digits
    const padded = digits.padStart(this.scale + 1, '0')
    const i = padded.length - this.scale
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

/** Applies NUMERIC(p, s): rounds to s and checks that the integer part fits p - s digits. */
export function applyNumericTypmod(d: Decimal, precision: number, scale: number): Decimal {
  const r = d.withScale(scale)
  if (r.integerDigits() > precision - scale) {
    throw new SqlError(SqlState.numericValueOutOfRange, 'numeric field overflow', {
      detail: `A field with precision ${precision}, scale ${scale} must round to an absolute value less than 10^${precision - scale}.`,
    })
  }
  return r
}
