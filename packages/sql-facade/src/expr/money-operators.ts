/**
 * Arithmetic on MONEY (types/money.ts), as PostgreSQL's cash operators: money ± money,
 * money × / ÷ a number (integers exactly, others through float8 and rint), number × money,
 * and money ÷ money as a float8 ratio. Results past int8 cents are 22003.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { checkMoney, rint } from '../types/money.js'
import { isIntegerType, isNumericType, T, type SqlType } from '../types/sql-type.js'
import type { OperatorImpl } from './operator-impl.js'

function divZero(): SqlError {
  return new SqlError(SqlState.divisionByZero, 'division by zero')
}

/** The money operator for these operand types; null when neither side is money or no such operator exists. */
export function resolveMoneyOperator(op: string, l: SqlType, r: SqlType): OperatorImpl | null {
  const lm = l.id === 'money' && !l.array
  const rm = r.id === 'money' && !r.array
  if (!lm && !rm) return null
  const other = (t: SqlType) => (t.id === 'unknown' ? T.money : t)
  const lt = lm ? l : other(l)
  const rt = rm ? r : other(r)
  if (lt.id === 'money' && rt.id === 'money') {
    if (op === '+') return { left: T.money, right: T.money, result: T.money, fn: (a, b) => checkMoney((a as bigint) + (b as bigint)) }
    if (op === '-') return { left: T.money, right: T.money, result: T.money, fn: (a, b) => checkMoney((a as bigint) - (b as bigint)) }
    if (op === '/') return { left: T.money, right: T.money, result: T.float8, fn: (a, b) => {
      if (b === 0n) throw divZero()
      return Number(a as bigint) / Number(b as bigint)
    } }
    return null
  }
  const num = lt.id === 'money' ? rt : lt
  if (!isNumericType(num)) return null
  const int = isIntegerType(num) && num.id !== 'oid'
  const factor = int ? T.int8 : T.float8
  if (op === '*') {
    const mul = (c: bigint, n: unknown): bigint => checkMoney(int ? c * (n as bigint) : BigInt(rint(Number(c) * (n as number))))
    return lt.id === 'money'
      ? { left: T.money, right: factor, result: T.money, fn: (a, b) => mul(a as bigint, b) }
      : { left: factor, right: T.money, result: T.money, fn: (a, b) => mul(b as bigint, a) }
  }
  if (op === '/' && lt.id === 'money') {
    return { left: T.money, right: factor, result: T.money, fn: (a, b) => {
      if (b === 0n || b === 0) throw divZero()
      // Integer division truncates toward zero (cash_div_int8); float division rounds (cash_div_flt8).
      return int ? (a as bigint) / (b as bigint) : checkMoney(BigInt(rint(Number(a as bigint) / (b as number))))
    } }
  }
  return null
}
