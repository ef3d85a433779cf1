/**
 * NUMERIC square root, power, exponential, logarithm and factorial with PostgreSQL's
 * result scales (numeric.c: at least 16 significant digits, never fewer fractional
 * digits than the inputs) and its limits: a result with more than 131072 digits before
 * the decimal point is 22003 "value overflows numeric format".
 *
 * Square roots, powers, exp(), ln() and log() are computed in exact integer (bigint)
 * fixed point with guard digits, then rounded half away from zero, so they agree with
 * PostgreSQL's digits.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { Decimal } from '../types/decimal.js'

const MIN_SIG_DIGITS = 16
const MAX_DISPLAY_SCALE = 1000
/** PostgreSQL's NUMERIC_MAX_RESULT_SCALE: exp() of 3x this overflows. */
const MAX_RESULT_SCALE = 2000
/** Digits before the decimal point a NUMERIC can hold (weight 32767 in base 10000). */
const MAX_INTEGER_DIGITS = 131072
/** The largest n whose n! fits. */
const MAX_FACTORIAL = 32177
const LOG10_E = 0.434294481903252

function overflow(): SqlError {
  return new SqlError(SqlState.numericValueOutOfRange, 'value overflows numeric format')
}

/** Raises 22003 when `d` has more integer digits than a NUMERIC holds. */
export function checkNumericRange(d: Decimal): Decimal {
  if (d.integerDigits() > MAX_INTEGER_DIGITS) throw overflow()
  return d
}

function clampScale(s: number): number {
  return Math.min(Math.max(s, 0), MAX_DISPLAY_SCALE)
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n)
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n
}

function digitCount(n: bigint): number {
  return n === 0n ? 1 : abs(n).toString().length
}

/** Integer division rounding half away from zero. */
function divRound(num: bigint, den: bigint): bigint {
  if (den < 0n) {
    num = -num
    den = -den
  }
  const q = num / den
  const r = abs(num % den)
  if (r * 2n >= den) return num < 0n ? q - 1n : q + 1n
  return q
}

/** log10(|d|) as a double, without converting a huge value to a number. */
function log10Abs(d: Decimal): number {
  const s = abs(d.coef).toString()
  const lead = Number(s.slice(0, 17))
  return Math.log10(lead) + (s.length - Math.min(s.length, 17)) - d.scale
}

/** PostgreSQL's weight: exponent of the leading base-10000 digit. */
function weight(d: Decimal): number {
  const a = abs(d.coef)
  if (a === 0n) return 0
  return Math.floor((a.toString().length - 1 - d.scale) / 4)
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n
  // Newton's method from a power of two above the root: decreases monotonically to it.
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2))
  for (;;) {
    const y = (x + n / x) >> 1n
    if (y >= x) return x
    x = y
  }
}

export function numericSqrt(d: Decimal): Decimal {
  if (d.isNaN()) return d
  if (d.sign() < 0) throw new SqlError(SqlState.invalidArgumentForPowerFunction, 'cannot take square root of a negative number')
  if (!d.isFinite()) return d
  const sweight = Math.trunc(((weight(d) + 1) * 4) / 2) - 1
  return sqrtToScale(d, Math.min(Math.max(MIN_SIG_DIGITS - sweight, d.scale, 0), MAX_DISPLAY_SCALE))
}

/** sqrt(d) rounded to `rscale` digits, for d >= 0. */
export function numericSqrtToScale(d: Decimal, rscale: number): Decimal {
  return sqrtToScale(d, rscale)
}

function sqrtToScale(d: Decimal, rscale: number): Decimal {
  // sqrt(coef / 10^s) at scale r+1 = isqrt(coef * 10^(2(r+1) - s)) / 10^(r+1), then round to r.
  const extra = 2 * (rscale + 1) - d.scale
  const n = extra >= 0 ? d.coef * pow10(extra) : d.coef / pow10(-extra)
  return new Decimal(isqrt(n), rscale + 1).withScale(rscale)
}

// --- fixed point: a bigint v stands for v / 10^p ------------------------------------

function fixedToNumber(v: bigint, p: number): number {
  return new Decimal(v, p).toNumber()
}

/** exp(y) for y = yNum / 10^yScale >= 0, as a fixed-point value with `p` fractional digits. */
function expFixed(yNum: bigint, yScale: number, p: number): bigint {
  const y = fixedToNumber(yNum, yScale)
  // Halve the argument k times so the series converges fast, then square k times.
  const k = y > 0.25 ? Math.ceil(Math.log2(y / 0.25)) : 0
  const work = p + Math.ceil(k * 0.30103) + 12
  const one = pow10(work)
  const shift = work - yScale
  const r = (shift >= 0 ? yNum * pow10(shift) : yNum / pow10(-shift)) >> BigInt(k)
  let sum = one
  let term = one
  for (let n = 1n; term !== 0n; n++) {
    term = (term * r) / one / n
    sum += term
  }
  for (let i = 0; i < k; i++) sum = (sum * sum) / one
  return sum / pow10(work - p)
}

/** atanh(1/q) * 10^p for an integer q > 1 (the series in 1/q^2). */
function atanhInverse(q: bigint, p: number): bigint {
  const one = pow10(p)
  const q2 = q * q
  let power = one / q
  let sum = power
  for (let n = 3n; power !== 0n; n += 2n) {
    power /= q2
    sum += power / n
  }
  return sum
}

/** ln(x) * 10^p for x > 0, to within a few units of the last place. */
function lnFixed(x: Decimal, p: number): bigint {
  const digits = digitCount(x.coef)
  // x = m * 10^q with m in [1, 10).
  const q = digits - 1 - x.scale
  const work = p + 12 + String(Math.abs(q)).length
  const one = pow10(work)
  const shift = work - (digits - 1)
  let m = shift >= 0 ? x.coef * pow10(shift) : x.coef / pow10(-shift)
  const ln2 = 2n * atanhInverse(3n, work)
  const ln10 = 2n * atanhInverse(9n, work) + 3n * ln2 // ln(10/8) + 3 ln 2
  // m / 2^j in [0.75, 1.5): ln m = j ln 2 + 2 atanh((t - 1) / (t + 1)), |z| < 0.2.
  let j = 0n
  while (m * 4n >= one * 6n) {
    m /= 2n
    j++
  }
  const z = ((m - one) * one) / (m + one)
  const z2 = (z * z) / one
  let power = z
  let series = z
  for (let n = 3n; power !== 0n; n += 2n) {
    power = (power * z2) / one
    series += power / n
  }
  const ln = 2n * series + j * ln2 + BigInt(q) * ln10
  return ln / pow10(work - p)
}

/** e^y rounded to `rscale`, for y = yNum / 10^yScale; 22003 past PostgreSQL's limit. */
function expToScale(yNum: bigint, yScale: number, rscale: number): Decimal {
  const y = fixedToNumber(yNum, yScale)
  if (Math.abs(y) >= MAX_RESULT_SCALE * 3) {
    if (y > 0) throw overflow()
    return new Decimal(0n, rscale)
  }
  const weightDigits = Math.max(0, Math.ceil(Math.abs(y) * LOG10_E)) + 1
  const p = rscale + weightDigits + 4
  const e = expFixed(abs(yNum), yScale, p)
  const coef = yNum >= 0n ? divRound(e, pow10(p - rscale)) : divRound(pow10(p + rscale), e)
  return checkNumericRange(new Decimal(coef, rscale))
}

export function numericExp(x: Decimal): Decimal {
  if (!x.isFinite()) return x.sign() < 0 ? Decimal.ZERO : x
  const w = Math.min(Math.max(x.toNumber() * LOG10_E, -MAX_RESULT_SCALE), MAX_RESULT_SCALE)
  const rscale = clampScale(Math.max(MIN_SIG_DIGITS - Math.trunc(w), x.scale))
  return expToScale(x.coef, x.scale, rscale)
}

/** base^n for an integer n that fits int32, rounded to `rscale` (PostgreSQL's power_var_int). */
function powerInt(base: Decimal, n: number, rscale: number): Decimal {
  if (n === 0) return new Decimal(1n, 0).withScale(rscale)
  if (base.isZero()) return new Decimal(0n, rscale)
  const f = n * log10Abs(base)
  if (f > 3 * 32767 * 4) throw overflow()
  if (f + 1 < -rscale || f + 1 < -MAX_DISPLAY_SCALE) return new Decimal(0n, rscale)
  // Significant digits to carry: the result's, plus what the multiplications may lose.
  const sig = 1 + rscale + Math.max(0, Math.trunc(f)) + Math.trunc(Math.log(Math.abs(n))) + 8
  const trim = (coef: bigint, scale: number): [bigint, number] => {
    const extra = digitCount(coef) - sig
    return extra > 0 ? [coef / pow10(extra), scale - extra] : [coef, scale]
  }
  let bc = base.coef
  let bs = base.scale
  let rc = 1n
  let rs = 0
  for (let m = Math.abs(n); m > 0; m = Math.floor(m / 2)) {
    if (m % 2 === 1) [rc, rs] = trim(rc * bc, rs + bs)
    if (m > 1) [bc, bs] = trim(bc * bc, bs * 2)
  }
  // rc / 10^rs, with rs possibly negative.
  if (n > 0) {
    const d = rs >= 0 ? new Decimal(rc, rs) : new Decimal(rc * pow10(-rs), 0)
    return checkNumericRange(d.withScale(rscale))
  }
  // 1 / (rc / 10^rs) at rscale = 10^(rscale + rs) / rc.
  const e = rscale + rs
  return checkNumericRange(new Decimal(e >= 0 ? divRound(pow10(e), rc) : 0n, rscale))
}

/** Approximate decimal weight of ln(x), for x > 0: PostgreSQL's estimate_ln_dweight, exactly. */
function lnWeight(x: Decimal): number {
  if (x.sign() <= 0) return 0
  if (x.compare(new Decimal(9n, 1)) >= 0 && x.compare(new Decimal(11n, 1)) <= 0) {
    // Near 1, ln(x) ~ x - 1: the position of its leading digit.
    const d = x.sub(new Decimal(1n, 0))
    return d.isZero() ? 0 : digitCount(d.coef) - 1 - d.scale
  }
  // From the first two base-10000 digits, as PostgreSQL estimates it.
  const e = digitCount(x.coef) - 1 - x.scale
  const w = Math.floor(e / 4)
  const shift = x.scale + (w - 1) * 4
  const digits = shift >= 0 ? abs(x.coef) / pow10(shift) : abs(x.coef) * pow10(-shift)
  const ln = Math.log(Number(digits)) + (w - 1) * 4 * 2.302585092994046
  return Math.trunc(Math.log10(Math.abs(ln)))
}

export function numericPower(base: Decimal, exp: Decimal): Decimal {
  if (!base.isFinite() || !exp.isFinite()) return specialPower(base, exp)
  if (base.isZero() && exp.sign() < 0) throw new SqlError(SqlState.invalidArgumentForPowerFunction, 'zero raised to a negative power is undefined')
  const integral = exp.normalized().scale <= 0
  if (base.sign() < 0 && !integral) throw new SqlError(SqlState.invalidArgumentForPowerFunction, 'a negative number raised to a non-integer power yields a complex result')
  if (integral) {
    const n = exp.truncToBigInt()
    if (n >= -2147483648n && n <= 2147483647n) return powerInt(base, Number(n), clampScale(Math.max(MIN_SIG_DIGITS, base.scale)))
  }
  if (base.isZero()) return new Decimal(0n, MIN_SIG_DIGITS)
  // A negative base has an integral exponent here: its parity gives the sign.
  const negative = base.sign() < 0 && exp.truncToBigInt() % 2n !== 0n
  const x = base.abs()
  const lnW = lnWeight(x)
  const roughP = Math.max(8 - lnW, 0)
  // As PostgreSQL: ln(x) rounded to roughP digits, times the exponent rounded again; the
  // product is formed exactly, as ln(x) or the exponent alone may be out of a double's range.
  const roughLn = new Decimal(divRound(lnFixed(x, roughP + 4), pow10(4)), roughP)
  const rough = roughLn.mul(exp).withScale(roughP).toNumber()
  if (!Number.isFinite(rough) || Math.abs(rough) > MAX_RESULT_SCALE * 3.01) {
    if (rough > 0) throw overflow()
    return new Decimal(0n, MAX_DISPLAY_SCALE)
  }
  const w = rough * LOG10_E
  const rscale = clampScale(Math.max(MIN_SIG_DIGITS - Math.trunc(w), base.scale, exp.scale))
  const sig = Math.max(rscale + Math.trunc(w), 0)
  const p = Math.max(sig - lnW + 8, 0)
  // ln(x) * exp as a fixed-point number with p + exp.scale fractional digits.
  const lnNum = lnFixed(x, p) * exp.coef
  const r = expToScale(lnNum, p + exp.scale, rscale)
  return negative ? r.neg() : r
}

/** PostgreSQL's pow() rules when an argument is NaN or infinite (POSIX, with its errors). */
function specialPower(x: Decimal, y: Decimal): Decimal {
  const one = new Decimal(1n, 0)
  if (x.isNaN()) return y.isFinite() && y.isZero() ? one : Decimal.NAN
  if (y.isNaN()) return x.isFinite() && x.equals(one) ? one : Decimal.NAN
  if (!y.isFinite()) {
    if (x.isFinite()) {
      if (x.isZero()) {
        if (y.sign() < 0) throw new SqlError(SqlState.invalidArgumentForPowerFunction, 'zero raised to a negative power is undefined')
        return Decimal.ZERO
      }
      const c = x.abs().compare(one)
      if (c === 0) return one
      return (c > 0) === (y.sign() > 0) ? Decimal.INFINITY : Decimal.ZERO
    }
    return y.sign() > 0 ? Decimal.INFINITY : Decimal.ZERO
  }
  // x is infinite, y finite.
  if (y.isZero()) return one
  if (x.sign() > 0) return y.sign() > 0 ? Decimal.INFINITY : Decimal.ZERO
  if (y.sign() < 0) return Decimal.ZERO
  if (y.normalized().scale > 0) throw new SqlError(SqlState.invalidArgumentForPowerFunction, 'a negative number raised to a non-integer power yields a complex result')
  return y.truncToBigInt() % 2n !== 0n ? Decimal.NEGATIVE_INFINITY : Decimal.INFINITY
}

/** ln(x) on numerics, with PostgreSQL's result scale. */
export function numericLn(x: Decimal): Decimal {
  if (x.isNaN()) return x
  if (x.sign() < 0) throw new SqlError(SqlState.invalidArgumentForLogarithm, 'cannot take logarithm of a negative number')
  if (x.isZero()) throw new SqlError(SqlState.invalidArgumentForLogarithm, 'cannot take logarithm of zero')
  if (!x.isFinite()) return x
  const rscale = clampScale(Math.max(MIN_SIG_DIGITS - lnWeight(x), x.scale))
  return new Decimal(divRound(lnFixed(x, rscale + 8), pow10(8)), rscale)
}

/** log(base, x) on numerics: ln(x) / ln(base), with PostgreSQL's result scale. */
export function numericLog(base: Decimal, x: Decimal): Decimal {
  if (!base.isFinite() || !x.isFinite()) {
    if (base.isNaN() || x.isNaN()) return Decimal.NAN
    if (base.sign() < 0 || x.sign() < 0) throw new SqlError(SqlState.invalidArgumentForLogarithm, 'cannot take logarithm of a negative number')
    if (base.isZero() || x.isZero()) throw new SqlError(SqlState.invalidArgumentForLogarithm, 'cannot take logarithm of zero')
    if (!base.isFinite()) return x.isFinite() ? Decimal.ZERO : Decimal.NAN
    return Decimal.INFINITY
  }
  if (base.sign() <= 0 || x.sign() <= 0) {
    throw new SqlError(SqlState.invalidArgumentForLogarithm, base.isZero() || x.isZero() ? 'cannot take logarithm of zero' : 'cannot take logarithm of a negative number')
  }
  const w1 = lnWeight(base)
  const w2 = lnWeight(x)
  const rscale = clampScale(Math.max(MIN_SIG_DIGITS - (w2 - w1), base.scale, x.scale))
  // Enough digits that ln(x) / ln(base) is right to rscale even when ln(base) is tiny.
  const p = rscale + 10 + Math.max(0, -w1) + Math.max(0, w2 - w1)
  const lb = lnFixed(base, p)
  if (lb === 0n) throw new SqlError(SqlState.divisionByZero, 'division by zero')
  return new Decimal(divRound(lnFixed(x, p) * pow10(rscale), lb), rscale)
}

export function numericFactorial(n: bigint): Decimal {
  if (n < 0n) throw new SqlError(SqlState.invalidParameterValue, 'factorial of a negative number is undefined')
  if (n > BigInt(MAX_FACTORIAL)) throw overflow()
  let r = 1n
  for (let i = 2n; i <= n; i++) r *= i
  return new Decimal(r, 0)
}
