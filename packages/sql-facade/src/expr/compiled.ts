/**
 * A compiled expression: its SQL type, fixed at plan time, and a closure evaluating it
 * against a row environment. Constants are marked so callers can fold them.
 */
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { Env } from '../relation/scope.js'

export interface Compiled {
  type: SqlType
  eval: (env: Env) => RtValue
  /** True when the value depends on no row, parameter-free subquery or volatile function. */
  isConst?: boolean
}

export function constant(type: SqlType, value: RtValue): Compiled {
  return { type, eval: () => value, isConst: true }
}

/** Three-valued truth of a boolean value. */
export function truth(v: RtValue): boolean | null {
  return v === null ? null : (v as boolean)
}
