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
 * Invariants: at most one run at a time; a change that arrives while a run is under way
 * and touches what it read (or is reading) causes one more run after it, so the last
 * result handed always reflects every change made before the run that produced it.
 * Listeners are never called after `stop`.
 */
import type { RowChange } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { JsValue, QueryResult } from '../result-format.js'
import type { Session, SessionOptions } from '../session/session.js'
import { ReadFootprint } from './read-footprint.js'

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
  private dirty = false
  private stopped = false

  constructor(host: LiveQueryHost, sql: string, params: unknown[], onRows: LiveRowsListener, options: LiveQueryOptions) {
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
      this.deliver(await this.runOnce())
    } finally {
      this.running = false
    }
    if (this.dirty) this.rerun()
  }

  get isStopped(): boolean {
    return this.stopped
  }

  /** Row changes settled on the replica: re-runs if one touches what the query read. */
  onChanges(changes: readonly RowChange[]): void {
    if (this.stopped) return
    const fp = this.running ? this.recording : this.footprint
    if (fp === null || changes.some((c) => fp.affectedBy(c))) this.rerun()
  }

  /** The shape of what queries read may have changed: re-run. */
  onShapeChange(): void {
    if (!this.stopped) this.rerun()
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    void this.session.close()
  }

  private rerun(): void {
    if (this.running) {
      this.dirty = true
      return
    }
    this.running = true
    void this.loop()
  }

  /** Runs until no change arrived during the last run. */
  private async loop(): Promise<void> {
    try {
      // Never inside the replica's change dispatch: the run starts after it returns.
      await Promise.resolve()
      while (!this.stopped) {
        this.dirty = false
        try {
          this.deliver(await this.runOnce())
        } catch (err) {
          if (!this.stopped) this.onError(err instanceof Error ? err : new Error(String(err)))
        }
        if (!this.dirty) break
      }
    } finally {
      this.running = false
    }
  }

  private async runOnce(): Promise<QueryResult> {
    const fp = new ReadFootprint()
    this.recording = fp
    let result: QueryResult
    try {
      result = await this.session.query(this.sql, this.params)
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
