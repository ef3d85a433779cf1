/**
 * MONEY: a fixed-point amount in cents, printed the way PostgreSQL prints it under the
 * C monetary locale ('$1,234.57', '-$0.01'). The runtime value is the cent count as a
 * bigint, so ordering, grouping and storage are int8's (a row register holds it; the
 * last writer of the column wins on merge).
 *
 * Invariants: a value stays within int8; input rounds at the third fraction digit half
 * away from zero, as PostgreSQL's cash_in does.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { Decimal } from './decimal.js'

const INT8_MIN = -(2n ** 63n)
const INT8_MAX = 2n ** 63n - 1n

export function moneyOutOfRange(): SqlError {
  return new SqlError(SqlState.numericValueOutOfRange, 'money out of range')
}

export function checkMoney(c: bigint): bigint {
  if (c < INT8_MIN || c > INT8_MAX) throw moneyOutOfRange()
  return c
}

/** cash_in: `$1,234.56`, `(12.5)` (negative), `-$3`, `.5`, spaces around the parts. */
export function parseMoney(text: string): bigint {
  const bad = () => new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type money: "${text}"`)
  let s = text.trim()
  let negative = false
  if (s.startsWith('(') && s.endsWith(')')) {
    negative = true
    s = s.slice(1, -1).trim()
  }
  const m = /^([+-]?)\s*(\$?)\s*([+-]?)\s*((?:\d|,)*)(?:\.(\d*))?$/.exec(s)
  if (!m || (m[1] && m[3])) throw bad()
  const whole = m[4]!.replace(/,/g, '')
  const frac = m[5] ?? ''
  if (whole === '' && frac === '') throw bad()
  if ((m[1] || m[3]) === '-') negative = !negative
  let cents = BigInt(whole || '0') * 100n + BigInt((frac + '00').slice(0, 2))
  if ((frac[2] ?? '0') >= '5') cents += 1n
  const v = negative ? -cents : cents
  if (v < INT8_MIN || v > INT8_MAX) throw new SqlError(SqlState.numericValueOutOfRange, `value "${text}" is out of range for type money`)
  return v
}

export function formatMoney(c: bigint): string {
  const neg = c < 0n
  const a = neg ? -c : c
  const whole = (a / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const frac = (a % 100n).toString().padStart(2, '0')
  return `${neg ? '-' : ''}$${whole}.${frac}`
}

/** numeric → money: rounded to cents half away from zero. */
export function moneyFromDecimal(d: Decimal): bigint {
  if (!d.isFinite()) throw new SqlError(SqlState.featureNotSupported, 'cannot convert NaN or infinity to money')
  return checkMoney(d.mul(new Decimal(100n, 0)).toBigInt('money'))
}

/** money → numeric, with two fraction digits. */
export function moneyToDecimal(c: bigint): Decimal {
  return new Decimal(c, 2)
}

/** C's rint(): to the nearest integer, ties to even, as cash_mul_flt8 rounds. */
export function rint(v: number): number {
  const r = Math.round(v)
  return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r
}
