/**
 * PL/pgSQL runs that pause for a turn of the event loop (docs/decisions/0039-pausable-plpgsql.md).
 * Statements run synchronously on the event loop; a loop in PL/pgSQL is the one kind of
 * statement whose run is not bounded by the data it reads (`LOOP .. END LOOP` runs until
 * it exits), so a statement calling PL/pgSQL at its top level (a DO block, `SELECT f()`)
 * may pause there: the interpreter asks `RunPauses.due()` at every iteration of a loop
 * and, when it says so, yields; the call throws `PausedCall` out of the statement; the
 * session serves other clients, sees a cancel request, goes on with the call, and runs
 * the statement again with the call's value (`PausableCalls`).
 *
 * Invariants: `due()` is a counter decrement except every CHECK_EVERY calls, when the
 * clock is read; once it has answered true it answers true again (on its next clock read)
 * until `resumed()` restarts the slice. A call's run goes on exactly once from each pause;
 * its value is given to the statement's next run only.
 */
import type { ExecCtx, TopLevelCalls } from './context.js'
import type { UserFunction } from '../catalog/function-def.js'
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

/** Calls between two clock reads: a few microseconds of the cheapest PL/pgSQL loop. */
const CHECK_EVERY = 64

export class RunPauses {
  private countdown = CHECK_EVERY
  private since: number
  private readonly sliceMs: number
  private readonly now: () => number
  /** Times the run paused (for tests and statistics). */
  count = 0

  /** `now`: a monotonic clock in ms; `sliceMs`: how long the run goes on between pauses. */
  constructor(sliceMs: number, now: () => number) {
    this.sliceMs = sliceMs
    this.now = now
    this.since = now()
  }

  /** Whether the run has had its slice and should pause now. */
  due(): boolean {
    if (--this.countdown > 0) return false
    this.countdown = CHECK_EVERY
    if (this.now() - this.since < this.sliceMs) return false
    this.count++
    return true
  }

  /** The run goes on after a pause: its next slice starts now. */
  resumed(): void {
    this.countdown = CHECK_EVERY
    this.since = this.now()
  }
}

/**
 * Thrown out of a statement's run when a pausable call paused: the statement stops there,
 * its call's run (`steps`) goes on later, and the statement is run again with the call's
 * value (`PausableCalls`). Not a SqlError: it never reaches a client.
 */
export class PausedCall extends Error {
  readonly steps: Generator<void, RtValue, void>

  constructor(steps: Generator<void, RtValue, void>) {
    super('a PL/pgSQL call paused')
    this.name = 'PausedCall'
    this.steps = steps
  }
}

/** Starts a PL/pgSQL call as a run that pauses when `pauses` says so (exec/plpgsql.ts `plpgsqlSteps`). */
export type PausableSteps = (ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType, pauses: RunPauses) => Generator<void, RtValue, void>

/**
 * The PL/pgSQL calls one statement makes at its top level (a DO block's body, `SELECT
 * f(..)` of constants), run so that they may pause. A call that pauses throws
 * `PausedCall`; once its run has ended, the statement is run again from the start and
 * this call, the same in the same order (the session lets only statements whose top-level
 * calls are so pause), answers the value it gave instead of running again: its effects
 * happen once.
 */
export class PausableCalls implements TopLevelCalls {
  readonly pauses: RunPauses
  private readonly start: PausableSteps
  private readonly values: RtValue[] = []
  private next = 0

  constructor(pauses: RunPauses, start: PausableSteps) {
    this.pauses = pauses
    this.start = start
  }

  /** A top-level PL/pgSQL call: its value, kept from an earlier run of the statement or run now (throws PausedCall if it pauses). */
  call(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType): RtValue {
    if (this.next < this.values.length) return this.values[this.next++]!
    const steps = this.start(ctx, def, argTypes, args, result, this.pauses)
    const r = steps.next()
    if (r.done !== true) throw new PausedCall(steps)
    this.values.push(r.value)
    this.next++
    return r.value
  }

  /**
   * Goes on with a paused call until its next pause (false) or its end (true: its value is
   * kept, and the statement is to be run again from its start).
   */
  resume(steps: Generator<void, RtValue, void>): boolean {
    this.pauses.resumed()
    const r = steps.next()
    if (r.done !== true) return false
    this.values.push(r.value)
    this.next = 0
    return true
  }
}
