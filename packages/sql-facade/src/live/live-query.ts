/**
 * One live query: a SELECT run on its own read-only session, re-run whenever a change
 * could affect its result, its result handed to the listener each time it differs from
 * the last one handed.
 *
 * What "could affect" means is the run's read footprint (read-footprint.ts): the keys,
 * index ranges and scanned tables it read. A point lookup or an indexed filter so re-runs
 * only for changes to its rows; a scan re-runs for any change to its table. Changes to
 * the shape of what it reads (tables, indexes, views, types, functions, privileges)
 * re-run every live query.
 *
 * Incremental: a query whose rows are each one row of one table (incremental-result.ts)
 * keeps its result row by row after a whole run; a change to rows of that table then
 * runs the query over the changed rows only and puts what they give in place. A change
 * to anything else it read, more changed rows than MAX_INCREMENTAL_KEYS (or a quarter
 * of its rows), or a failure, runs it whole again.
 *
 * Invariants: at most one run at a time; a change that arrives while a run is under way
 * and touches what it read (or is reading) causes one more run after it, so the last
 * result handed always reflects every change made before the run that produced it.
 * Listeners are never called after `stop`.
 */
import type { Replica, RowChange } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { JsValue, QueryResult } from '../result-format.js'
import type { Session, SessionOptions } from '../session/session.js'
import { ReadFootprint } from './read-footprint.js'
import { IncrementalResult, incrementalPlan, windowSlice, type IncrementalPlan } from './incremental-result.js'
import type { Int8Output } from '../result-format.js'

/** Changed rows handed on incrementally at most per step (beyond, and beyond a quarter of the rows, a whole run). */
const MAX_INCREMENTAL_KEYS = 1000

/** Called with the query's rows each time they change (and once at the start). */
export type LiveRowsListener = (rows: QueryResult['rows'], result: QueryResult) => void

export interface LiveQueryOptions {
  /**
   * A run after the first failed (its table dropped, a privilege revoked): the query stays
   * subscribed and re-runs when the catalog changes. A table held only elsewhere fails
   * here too, and ends the query.
   */
  onError?: (err: Error) => void
}

/** What a live query needs from its database. */
export interface LiveQueryHost {
  session(options: SessionOptions): Session
  readonly replica: Replica
  readonly int8: Int8Output
}

export class LiveQuery {
  private readonly sql: string
  private readonly params: unknown[]
  private readonly onRows: LiveRowsListener
  private readonly onError: (err: Error) => void
  private readonly session: Session
  /** What the last finished run read; null before the first. */
  private footprint: ReadFootprint | null = null
  /** What the run under way has read so far. */
  private recording: ReadFootprint | null = null
  private last: QueryResult | null = null
  private running = false
  /** A whole run is due. */
  private dirty = false
  private stopped = false
  private readonly host: LiveQueryHost
  /** The parsed SELECT (libpg_query JSON): planned again at each whole run, as the catalog may have changed. */
  private readonly select: Record<string, unknown> | null
  /** Set when the query can be kept row by row (incremental-result.ts), as of the last whole run. */
  private plan: IncrementalPlan | null = null
  /** The result row by row, while it is kept so (null: the next run is whole). */
  private rows: IncrementalResult | null = null
  /** The rows of `rows` shown: all, or a LIMIT/OFFSET's slice. */
  private slice = { start: 0, end: Infinity }
  /** Changed rows of the plan's table not yet handed on, by row key. */
  private changed = new Map<string, RowChange>()
  /** Runs over changed rows only, and whole runs (for tests and diagnostics). */
  readonly runs = { incremental: 0, whole: 0 }

  constructor(host: LiveQueryHost, sql: string, params: unknown[], onRows: LiveRowsListener, options: LiveQueryOptions, select: Record<string, unknown> | null = null) {
    this.host = host
    this.select = select
    this.sql = sql
    this.params = params
    this.onRows = onRows
    this.onError = options.onError ?? (() => {})
    this.session = host.session({ readObserver: (table, read) => this.recording?.record(table, read) })
  }

  /** The first run: its rows go to the listener; a failure rejects (nothing was subscribed). */
  async start(): Promise<void> {
    // Running from the start: a change arriving meanwhile asks for one more run after this one.
    this.running = true
    try {
      await this.session.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY')
      await this.deliverWhole(await this.runOnce())
    } finally {
      this.running = false
    }
    if (this.dirty || this.changed.size > 0) this.rerun()
  }

  get isStopped(): boolean {
    return this.stopped
  }

  /** Row changes settled on the replica: re-runs if one touches what the query read. */
  onChanges(changes: readonly RowChange[]): void {
    if (this.stopped) return
    // While a whole run reads, what it has read so far; else what the last one read.
    const fp = this.recording ?? this.footprint
    let due = false
    for (const c of changes) {
      if (fp !== null && !fp.affectedBy(c)) continue
      due = true
      if (fp !== null && this.recording === null && this.rows !== null && c.table === this.plan!.table) this.changed.set(c.key, c)
      else this.dirty = true
    }
    if (due) this.rerun()
  }

  /** The shape of what queries read may have changed: re-run. */
  onShapeChange(): void {
    if (this.stopped) return
    this.dirty = true
    this.rerun()
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    void this.session.close()
  }

  private rerun(): void {
    if (this.running) return
    this.running = true
    void this.loop()
  }

  /** Runs until no change arrived during the last run. */
  private async loop(): Promise<void> {
    try {
      // Never inside the replica's change dispatch: the run starts after it returns.
      await Promise.resolve()
      while (!this.stopped && (this.dirty || this.changed.size > 0)) {
        const rows = this.rows
        const whole = this.dirty || rows === null || this.changed.size > MAX_INCREMENTAL_KEYS || this.changed.size > Math.max(64, rows.size / 4)
        try {
          if (whole) {
            this.dirty = false
            this.changed.clear()
            this.rows = null
            await this.deliverWhole(await this.runOnce())
          } else if (!(await this.runChanged(rows))) {
            this.dirty = true
          }
        } catch (err) {
          this.rows = null
          // A failed step is followed by a whole run; a failed whole run waits for the next change.
          if (whole) this.changed.clear()
          else this.dirty = true
          if (!this.stopped && whole) this.onError(err instanceof Error ? err : new Error(String(err)))
        }
      }
    } finally {
      this.running = false
    }
  }

  /** Runs the query over the changed rows only and puts what they give in place; false: run it whole. */
  private async runChanged(rows: IncrementalResult): Promise<boolean> {
    const keys = rows.keysOf(this.changed.values())
    this.changed = new Map()
    this.runs.incremental++
    this.session.rowRestriction = { table: this.plan!.table, keys }
    let result: QueryResult
    try {
      // Without its LIMIT/OFFSET: those apply to the rows kept, not to the changed ones.
      result = await this.session.query(this.plan!.window?.sql ?? this.sql, this.params)
    } finally {
      this.session.rowRestriction = null
    }
    // Changes to these rows during the run are in `changed` again: the next step takes them.
    if (!rows.apply(keys, result)) return false
    this.deliver(rows.result(this.slice))
    return true
  }

  /**
   * Hands a whole run's rows on, and keeps them row by row when the query allows it. A
   * LIMIT/OFFSET query runs once more without them, to keep every row it could show
   * (its footprint then is that run's: a change to any of those rows is followed).
   */
  private async deliverWhole(result: QueryResult): Promise<void> {
    this.deliver(result)
    const plan = this.select === null ? null : incrementalPlan(this.select, this.host.replica, this.sql)
    const slice = plan === null ? null : windowSlice(plan, this.params)
    this.plan = slice === null ? null : plan
    // Only if nothing changed since the run read the table (then it runs whole again).
    const unchanged = (): boolean => !this.dirty && this.changed.size === 0 && !this.stopped
    if (this.plan === null || slice === null || !unchanged()) return
    let full = result
    if (this.plan.window !== null) {
      full = await this.runOnce(this.plan.window.sql)
      if (!unchanged()) return
    }
    this.slice = slice
    this.rows = IncrementalResult.build(this.plan, this.host.replica, this.host.int8, full)
  }

  private async runOnce(sql = this.sql): Promise<QueryResult> {
    this.runs.whole++
    const fp = new ReadFootprint()
    this.recording = fp
    let result: QueryResult
    try {
      result = await this.session.query(sql, this.params)
    } finally {
      this.recording = null
    }
    this.footprint = fp
    if (fp.remote.size > 0) {
      this.stop()
      const table = [...fp.remote][0]!
      throw new SqlError(SqlState.featureNotSupported, `a live query follows tables held on this node only: "${table}" is held in another region`)
    }
    return result
  }

  private deliver(result: QueryResult): void {
    if (this.stopped || (this.last !== null && sameRows(this.last, result))) return
    this.last = result
    this.onRows(result.rows, result)
  }
}

function sameRows(a: QueryResult, b: QueryResult): boolean {
  if (a.fields.length !== b.fields.length || a.rowArrays.length !== b.rowArrays.length) return false
  for (let i = 0; i < a.fields.length; i++) if (a.fields[i]!.name !== b.fields[i]!.name || a.fields[i]!.oid !== b.fields[i]!.oid) return false
  for (let r = 0; r < a.rowArrays.length; r++) {
    const x = a.rowArrays[r]!
    const y = b.rowArrays[r]!
    for (let c = 0; c < x.length; c++) if (!sameValue(x[c]!, y[c]!)) return false
  }
  return true
}

function sameValue(x: JsValue, y: JsValue): boolean {
  if (x instanceof Uint8Array || y instanceof Uint8Array) {
    if (!(x instanceof Uint8Array && y instanceof Uint8Array) || x.length !== y.length) return false
    return x.every((v, i) => v === y[i])
  }
  return x === y || (typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y))
}
