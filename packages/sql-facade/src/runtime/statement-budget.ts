/**
 * How long one statement may keep the node busy and how much it may hold: its
 * statement_timeout deadline, the client's cancel request, and its statement_mem bound. Statements run synchronously on the event loop, so the
 * executor calls `tick()` in every loop that grows with the data (scans, joins, sorts,
 * aggregates, set-returning functions, recursive CTEs, DML loops); a tick is a counter
 * decrement, and only every CHECK_EVERY ticks is the clock read and the cancel flag looked at.
 *
 * The executor materializes every intermediate result (a relation's rows are an array),
 * so a cross join, a sort or a grouped result of millions of rows could outgrow the heap
 * and end the process for every client. `hold(rows, width)` counts what such a loop
 * builds: an estimate per row (its array and one slot per value; values themselves are
 * shared with the rows they came from, and single large values are bounded where they are
 * made: text-size.ts, arrays). The count only grows during a statement (freed arrays are
 * not subtracted, except the results PL/pgSQL reads and drops: `releaseTo`), so it bounds what the statement holds at once from above; past
 * `memoryLimit` bytes the statement fails with 53200 and the node goes on serving.
 *
 * A statement that may run off the main thread (session/offload-eligibility.ts) gets an
 * offload point: once its run has lasted past it, the check throws `OffloadSignal`, never
 * seen by a client, and the session runs the statement again elsewhere over a snapshot
 * (session/statement-offload.ts, docs/decisions/0031-statement-offload.md).
 *
 * Invariants: a budget belongs to one statement; once it has thrown, every later check
 * throws the same condition (the statement cannot continue past a failed check); a
 * budget without a deadline and without a cancel source never throws; the offload
 * point records that it fired, so a run that swallowed the signal is still discarded.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

/** Ticks between two clock reads: tens of microseconds of work at the cheapest loop. */
const CHECK_EVERY = 1024
/** PL/pgSQL loop iterations between two reads of the clock for plpgsql_hold_timeout. */
const LOOP_CHECK_EVERY = 256

/** Estimated bytes of one materialized row: the array object and its backing store headers. */
export const ROW_BYTES = 48
/** Estimated bytes per value slot of a row (a pointer, or an inline small integer). */
export const VALUE_BYTES = 8

/** What a budget reads: a monotonic clock (ms) and whether the client asked to cancel. */
export interface BudgetSource {
  now(): number
  canceled(): boolean
}

/**
 * Where a statement may stop running here: `at` on the budget source's clock. Whether it
 * may move is decided only there (`movable`, asked once, or again when it postpones): a statement that ends sooner,
 * the common case, pays nothing for the question.
 */
export interface OffloadPoint {
  at: number
  /** Set by the first check past `at` that moves it: the run's result, if it returns one anyway, is not used. */
  fired: boolean
  /**
   * Asked at the first check past `at`; false disarms the point and the statement runs on
   * here, unless it moved `at` later (a write not yet far enough to judge): asked again then.
   */
  movable(): boolean
}

/**
 * Thrown by a budget check past the statement's offload point: the statement stops here
 * and is run again off the main thread. Not a SqlError: it must never reach a client.
 */
export class OffloadSignal extends Error {
  constructor() {
    super('statement moved off the main thread')
    this.name = 'OffloadSignal'
  }
}

export class StatementBudget {
  private countdown = CHECK_EVERY
  private readonly deadline: number
  private readonly source: BudgetSource | null
  private readonly memoryLimit: number
  private readonly offload: OffloadPoint | null
  /** Estimated bytes of rows materialized so far (only grows). */
  private held = 0
  /** plpgsql_hold_timeout in ms (0: none), read at the first loop check; null: not bounded. */
  private readonly holdLimit: (() => number) | null
  /** Since when the statement has held the event loop (its start, or its last pause). */
  private holdingSince: number
  /** When a PL/pgSQL loop that cannot pause is stopped; undefined: not read yet. */
  private holdUntil: number | undefined = undefined
  private loopCountdown = LOOP_CHECK_EVERY
  private holdExceeded = false

  /**
   * `deadline` on the source's clock; Infinity: none. `memoryLimit` in bytes (statement_mem);
   * Infinity: none. `offload`: where the statement stops to run elsewhere; null: never.
   */
  constructor(deadline: number, source: BudgetSource | null, memoryLimit = Infinity, offload: OffloadPoint | null = null, holdLimit: (() => number) | null = null) {
    this.source = source
    this.deadline = deadline
    this.memoryLimit = memoryLimit
    this.offload = offload
    this.holdLimit = holdLimit
    this.holdingSince = holdLimit !== null && source !== null ? source.now() : 0
  }

  /**
   * One iteration of a PL/pgSQL loop that cannot pause (called per row, from a trigger,
   * inside an expression: docs/decisions/0039-pausable-plpgsql.md): once the statement
   * has held the event loop longer than the node's plpgsql_hold_timeout, every other
   * client waiting all along, it is canceled (57014) instead of holding it for ever.
   */
  loopTick(): void {
    // Once past it, every iteration of every loop stops the statement: a handler catching
    // query_canceled around an inner loop cannot keep an outer one going.
    if (this.holdExceeded) throw this.holdError()
    if (--this.loopCountdown > 0) return
    this.loopCountdown = LOOP_CHECK_EVERY
    const s = this.source
    if (s === null || this.holdLimit === null) return
    if (this.holdUntil === undefined) {
      const ms = this.holdLimit()
      this.holdUntil = ms > 0 ? this.holdingSince + ms : Infinity
    }
    if (s.now() < this.holdUntil) return
    this.holdExceeded = true
    throw this.holdError()
  }

  private holdError(): SqlError {
    const ms = this.holdLimit?.() ?? 0
    return new SqlError(SqlState.queryCanceled, `canceling statement due to plpgsql_hold_timeout (${ms} ms)`, {
      detail: 'PL/pgSQL called per row, from a trigger or inside an expression runs on the node\'s event loop to its end, every other client waiting meanwhile.',
      hint: 'Call the function as SELECT f(..) or run the loop in a DO block, where it pauses between iterations; a superuser may raise plpgsql_hold_timeout (0: no bound).',
    })
  }

  /** The statement paused (other clients were served): it holds the event loop anew from now. */
  resumed(): void {
    if (this.holdLimit === null || this.source === null) return
    this.holdingSince = this.source.now()
    this.holdUntil = undefined
  }

  /**
   * `rows` rows of `width` values materialized (kept in an array, a hash table, a sort
   * buffer, a result): throws 53200 once the statement's estimate passes statement_mem.
   */
  hold(rows: number, width: number): void {
    this.held += rows * (ROW_BYTES + width * VALUE_BYTES)
    if (this.held > this.memoryLimit) throw this.overMemory()
  }

  /** Estimated bytes materialized so far by the statement. */
  heldBytes(): number {
    return this.held
  }

  /**
   * What was materialized since `mark` (a `heldBytes()` reading) is gone: a PL/pgSQL
   * expression's or statement's result once read, so a loop running a million of them
   * holds one at a time, not a million.
   */
  releaseTo(mark: number): void {
    if (mark < this.held) this.held = mark
  }

  private overMemory(): SqlError {
    const mb = (n: number) => `${Math.round(n / (1024 * 1024))}MB`
    return new SqlError(SqlState.outOfMemory, 'out of memory', {
      detail: `The statement materialized about ${mb(this.held)} of rows (joins, sorts, groups, results held in memory), more than statement_mem (${mb(this.memoryLimit)}).`,
      hint: 'Narrow the statement (a WHERE clause, a LIMIT, an aggregate), or raise statement_mem for this session.',
    })
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

  /**
   * From here on the statement does not move (its offload point, if any, no longer
   * fires): the part that could run elsewhere is done, and what follows has effects only
   * the event loop may have (an INSERT .. SELECT once its source rows are in hand).
   */
  stayHere(): void {
    const o = this.offload
    if (o !== null && !o.fired) o.at = Infinity
  }

  /** Throws 57014 if the statement is over its deadline or canceled; OffloadSignal past its offload point. */
  check(): void {
    const s = this.source
    if (s === null) return
    if (s.canceled()) throw new SqlError(SqlState.queryCanceled, 'canceling statement due to user request')
    const now = s.now()
    if (now >= this.deadline) throw new SqlError(SqlState.queryCanceled, 'canceling statement due to statement timeout')
    const o = this.offload
    if (o !== null && now >= o.at) {
      if (!o.fired) {
        const at = o.at
        // Not movable: never asked again, unless it asked to be asked later (moved `at`).
        if (!o.movable()) {
          if (o.at === at) o.at = Infinity
          return
        }
      }
      o.fired = true
      throw new OffloadSignal()
    }
  }
}

/** A budget that never runs out: contexts outside a client's statement (conflict resolvers). */
export const UNLIMITED_BUDGET = new StatementBudget(Infinity, null)

/** Milliseconds on a monotonic clock (wall-clock steps never cut a statement short). */
export function monotonicNow(): number {
  return performance.now()
}
