/**
 * REAL and DOUBLE PRECISION arithmetic with PostgreSQL's checks (float.c): a finite
 * computation that overflows to infinity is 22003 "value out of range: overflow", one
 * whose non-zero inputs give zero is 22003 "... underflow"; infinities and NaN given as
 * input flow through without error. pow() and exp() follow PostgreSQL's explicit rules
 * for NaN and infinite arguments rather than the platform's.
 *
 * REAL values are doubles rounded to single precision (Math.fround) after each operation,
 * so a result is checked after that rounding, as float4 arithmetic in C would be.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

export function floatOverflow(): SqlError {
  return new SqlError(SqlState.numericValueOutOfRange, 'value out of range: overflow')
}

export function floatUnderflow(): SqlError {
  return new SqlError(SqlState.numericValueOutOfRange, 'value out of range: underflow')
}

function round(v: number, single: boolean): number {
  return single ? Math.fround(v) : v
}

/** Result of an operation whose operands were finite unless `infiniteInput`. */
function checkOverflow(r: number, infiniteInput: boolean): number {
  if (r === Infinity || r === -Infinity) {
    if (!infiniteInput) throw floatOverflow()
  }
  return r
}

export function floatAdd(a: number, b: number, single: boolean): number {
  return checkOverflow(round(a + b, single), !Number.isFinite(a) || !Number.isFinite(b))
}

export function floatSub(a: number, b: number, single: boolean): number {
  return checkOverflow(round(a - b, single), !Number.isFinite(a) || !Number.isFinite(b))
}

export function floatMul(a: number, b: number, single: boolean): number {
  const r = checkOverflow(round(a * b, single), !Number.isFinite(a) || !Number.isFinite(b))
  if (r === 0 && a !== 0 && b !== 0) throw floatUnderflow()
  return r
}

export function floatDiv(a: number, b: number, single: boolean): number {
  if (b === 0 && !Number.isNaN(a)) throw new SqlError(SqlState.divisionByZero, 'division by zero')
  const r = checkOverflow(round(a / b, single), !Number.isFinite(a))
  if (r === 0 && a !== 0 && Number.isFinite(b)) throw floatUnderflow()
  return r
}

/** A double narrowed to REAL (float8 -> float4 cast). */
export function toFloat4(v: number): number {
  const r = Math.fround(v)
  if (!Number.isFinite(r) && Number.isFinite(v)) throw floatOverflow()
  if (r === 0 && v !== 0) throw floatUnderflow()
  return r
}

/** PostgreSQL's dpow. */
export function floatPower(x: number, y: number): number {
  if (Number.isNaN(x)) return Number.isNaN(y) || y !== 0 ? NaN : 1
  if (Number.isNaN(y)) return x !== 1 ? NaN : 1
  if (x === 0 && y < 0) throw new SqlError(SqlState.invalidArgumentForPowerFunction, 'zero raised to a negative power is undefined')
  if (x < 0 && Math.floor(y) !== y) throw new SqlError(SqlState.invalidArgumentForPowerFunction, 'a negative number raised to a non-integer power yields a complex result')
  if (!Number.isFinite(y)) {
    const ax = Math.abs(x)
    if (ax === 1) return 1
    if (y > 0) return ax > 1 ? y : 0
    return ax > 1 ? 0 : -y
  }
  if (!Number.isFinite(x)) {
    if (y === 0) return 1
    if (x > 0) return y > 0 ? x : 0
    // x is -Infinity and y an integer (checked above): the sign follows y's parity.
    const odd = Math.floor(y / 2) !== y / 2
    if (y > 0) return odd ? x : -x
    return odd ? -0 : 0
  }
  const r = Math.pow(x, y)
  if (!Number.isFinite(r)) throw floatOverflow()
  if (r === 0 && x !== 0) throw floatUnderflow()
  return r
}

/** PostgreSQL's dexp. */
export function floatExp(x: number): number {
  if (Number.isNaN(x)) return x
  if (!Number.isFinite(x)) return x > 0 ? x : 0
  const r = Math.exp(x)
  if (!Number.isFinite(r)) throw floatOverflow()
  if (r === 0) throw floatUnderflow()
  return r
}

/** sin, cos, tan ... of an infinite argument: 22003 "input is out of range" (NaN stays NaN). */
export function trigonometric(fn: (x: number) => number): (x: number) => number {
  return (x) => {
    if (Number.isNaN(x)) return x
    if (!Number.isFinite(x)) throw new SqlError(SqlState.numericValueOutOfRange, 'input is out of range')
    return checkOverflow(fn(x), false)
  }
}
