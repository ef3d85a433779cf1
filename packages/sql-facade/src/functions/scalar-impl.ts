/**
 * A built-in scalar function as the compiler sees it once resolved for a call's argument
 * types: what to cast the arguments to, the result type and the value function.
 */
import type { ExecCtx } from '../runtime/context.js'
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

export interface ScalarImpl {
  /** Types the arguments are coerced to (implicit cast); same length as the call's args. */
  args: SqlType[]
  result: SqlType
  fn: (args: RtValue[], ctx: ExecCtx) => RtValue
  /** Called even when an argument is NULL. */
  nonStrict?: boolean
  /** Result changes between calls with the same arguments (random, clock). */
  volatile?: boolean
}

/** The implementation for a call's argument types; null when none fits. */
export type ScalarResolver = (types: SqlType[]) => ScalarImpl | null
