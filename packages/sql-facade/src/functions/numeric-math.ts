/**
 * NUMERIC square root, power and logarithm with PostgreSQL's result scales (numeric.c:
 * at least 16 significant digits, never fewer fractional digits than the inputs). Square
 * roots and integral powers are exact (bigint arithmetic, rounded half away from zero);
 * other powers and logarithms go through binary floating point and are then rounded to
 * PostgreSQL's scale, so their last digits may differ from PostgreSQL's.
 */
import { SqlError } from '../errors/sql-error.js'
import { Decimal } from '../types/decimal.js'

const MIN_SIG_DIGITS = 16
const MAX_SCALE = 1000

/** PostgreSQL's weight: exponent of the leading base-10000 digit. */
function weight(d: Decimal): number {
  const a = d.coef < 0n ? -d.coef : d.coef
  if (a === 0n) return 0
  return Math.floor((a.toString().length - 1 - d.scale) / 4)
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n
  let x = BigInt(Math.floor(Math.sqrt(Number(n))))
  // Newton steps from the float estimate until stable.
  for (;;) {
    const y = (x + n / x) >> 1n
    if (y >= x && x * x <= n && (x + 1n) * (x + 1n) > n) return x
    x = y > 0n ? y : 1n
  }
}

export function numericSqrt(d: Decimal): Decimal {
  if (d.sign() < 0) throw new SqlError('2201F', 'cannot take square root of a negative number')
  const sweight = Math.trunc(((weight(d) + 1) * 4) / 2) - 1
  return sqrtToScale(d, Math.min(Math.max(MIN_SIG_DIGITS - sweight, d.scale, 0), MAX_SCALE))
}

function sqrtToScale(d: Decimal, rscale: number): Decimal {
  // sqrt(coef / 10^s) at scale r+1 = isqrt(coef * 10^(2(r+1) - s)) / 10^(r+1), then round to r.
  const extra = 2 * (rscale + 1) - d.scale
  const n = extra >= 0 ? d.coef * 10n ** BigInt(extra) : d.coef / 10n ** BigInt(-extra)
  return new Decimal(isqrt(n), rscale + 1).withScale(rscale)
}

export function numericPower(base: Decimal, exp: Decimal): Decimal {
  if (base.isZero() && exp.sign() < 0) throw new SqlError('2201F', 'zero raised to a negative power is undefined')
  const integral = exp.normalized().scale === 0
  if (base.sign() < 0 && !integral) throw new SqlError('2201F', 'a negative number raised to a non-integer power yields a complex result')
  if (integral && Math.abs(Number(exp.truncToBigInt())) <= 100_000) {
    const e = Number(exp.truncToBigInt())
    const rscale = Math.min(Math.max(MIN_SIG_DIGITS, base.scale, 0), MAX_SCALE)
    const p = new Decimal(base.coef ** BigInt(Math.abs(e)), base.scale * Math.abs(e))
    if (e >= 0) return p.withScale(rscale)
    return new Decimal(1n, 0).divToScale(p, rscale)
  }
  if (exp.equals(new Decimal(5n, 1))) {
    const approx = Math.sqrt(base.toNumber())
    const dweight = approx === 0 ? 0 : Math.floor(Math.log10(approx))
    return sqrtToScale(base, Math.min(Math.max(MIN_SIG_DIGITS - dweight, base.scale, exp.scale, 0), MAX_SCALE))
  }
  const v = Math.pow(base.toNumber(), exp.toNumber())
  if (!Number.isFinite(v)) throw new SqlError('22003', 'value overflows numeric format')
  const dweight = v === 0 ? 0 : Math.floor(Math.log10(Math.abs(v)))
  const rscale = Math.min(Math.max(MIN_SIG_DIGITS - dweight, base.scale, exp.scale, 0), MAX_SCALE)
  return fromFloat(v, rscale)
}

/** log(base, x) on numerics. */
export function numericLog(base: Decimal, x: Decimal): Decimal {
  if (base.sign() <= 0 || x.sign() <= 0) throw new SqlError('2201E', base.isZero() || x.isZero() ? 'cannot take logarithm of zero' : 'cannot take logarithm of a negative number')
  const b = base.toNumber()
  const n = x.toNumber()
  if (b === 1) throw new SqlError('22012', 'division by zero')
  const v = b === 2 ? Math.log2(n) : b === 10 ? Math.log10(n) : Math.log(n) / Math.log(b)
  const dweight = v === 0 ? 0 : Math.floor(Math.log10(Math.abs(v)))
  const rscale = Math.min(Math.max(MIN_SIG_DIGITS - dweight, base.scale, x.scale, 0), MAX_SCALE)
  return fromFloat(Math.abs(v - Math.round(v)) < 1e-12 ? Math.round(v) : v, rscale)
}

function fromFloat(v: number, rscale: number): Decimal {
  return Decimal.parse(v.toPrecision(17).replace(/\.?0+(e|$)/, '$1')).withScale(rscale)
}
