/**
 * How long one statement may keep the node busy: its statement_timeout deadline and the
 * client's cancel request. Statements run synchronously on the event loop, so the
 * executor calls `tick()` in every loop that grows with the data (scans, joins, sorts,
 * aggregates, set-returning functions, recursive CTEs, DML loops); a tick is a counter
 * decrement, and only every CHECK_EVERY ticks is the clock read and the cancel flag looked at.
 *
 * Invariants: a budget belongs to one statement; once it has thrown, every later check
 * throws the same condition (the statement cannot continue past a failed check); a
 * budget without a deadline and without a cancel source never throws.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

/** Ticks between two clock reads: tens of microseconds of work at the cheapest loop. */
const CHECK_EVERY = 1024

/** What a budget reads: a monotonic clock (ms) and whether the client asked to cancel. */
export interface BudgetSource {
  now(): number
  canceled(): boolean
}

export class StatementBudget {
  private countdown = CHECK_EVERY
  private readonly deadline: number
  private readonly source: BudgetSource | null

  /** `deadline` on the source's clock; Infinity: none. */
  constructor(deadline: number, source: BudgetSource | null) {
    this.source = source
    this.deadline = deadline
  }

  /** One unit of work; cheap enough for every row of every loop. */
  tick(): void {
    if (--this.countdown > 0) return
    this.countdown = CHECK_EVERY
    this.check()
  }

  /** `n` units at once (a loop that does its work in chunks, a size known up front). */
  spend(n: number): void {
    this.countdown -= n
    if (this.countdown > 0) return
    this.countdown = CHECK_EVERY
    this.check()
  }

  /** Throws 57014 if the statement is over its deadline or canceled. */
  check(): void {
    const s = this.source
    if (s === null) return
    if (s.canceled()) throw new SqlError(SqlState.queryCanceled, 'canceling statement due to user request')
    if (s.now() >= this.deadline) throw new SqlError(SqlState.queryCanceled, 'canceling statement due to statement timeout')
  }
}

/** A budget that never runs out: contexts outside a client's statement (conflict resolvers). */
export const UNLIMITED_BUDGET = new StatementBudget(Infinity, null)

/** Milliseconds on a monotonic clock (wall-clock steps never cut a statement short). */
export function monotonicNow(): number {
  return performance.now()
}
