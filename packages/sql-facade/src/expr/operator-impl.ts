/**
 * What resolving a binary operator yields: the operand types it takes (the compiler
 * casts to them), its result type and its value function. Resolved once per expression
 * at plan time (operators.ts, array-operators.ts).
 */
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

export type BinFn = (a: RtValue, b: RtValue) => RtValue

export interface OperatorImpl {
  left: SqlType
  right: SqlType
  result: SqlType
  fn: BinFn
  /** Called with NULL operands too (array concatenation); otherwise NULL in gives NULL out. */
  nonStrict?: boolean
}
