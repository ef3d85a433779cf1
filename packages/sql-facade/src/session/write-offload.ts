/**
 * Long UPDATEs and DELETEs whose WHERE is evaluated off the main thread ("the worker as an
 * index", decision 0031). An eligible write (offload-eligibility.ts, `offloadWriteTarget`)
 * that runs past `offload_after` is stopped like a SELECT; the session snapshots its
 * table and the catalog, and a worker runs the statement over the snapshot in `collect`
 * mode (runtime/target-rows.ts): it finds the target rows and returns their primary keys,
 * writing nothing. Meanwhile `ChangedKeys` notes the key of every row of the table that
 * changes here, by any session or by replication (the replica's change events, the ones
 * secondary indexes are kept by), from the instant the snapshot is taken. The statement
 * then runs on the event loop as always, its target-row scan reading only the worker's
 * keys and the changed ones (`restrict`), its full WHERE evaluated again on each.
 *
 * Why that is the answer of a whole run: a row not among them is, now, the row the
 * snapshot held; the WHERE depends on that row, on the tables its subqueries and user
 * functions read (the snapshot holds them too, and any change to one of their rows, or
 * to any other row of the target when a subquery reads it, lapses the restriction), on
 * the catalog (unchanged, or the restriction lapses), on the session's settings and on
 * the statement's time, which the worker and the run here share (now() is pinned to the
 * statement's start): so it does not match now, since it did not there. Every other read
 * of the statement (unique and foreign key checks, SET and RETURNING subqueries) sees the
 * whole table.
 *
 * Invariants: changes are followed from the synchronous stretch that takes the snapshot
 * until the statement's last run ends (a run stopped by a row lock runs again with the
 * changes made meanwhile); past MAX_CHANGED_KEYS changes, at a change to a table the
 * WHERE reads, or once the catalog moved or the table stopped being held whole here, the
 * restriction lapses and the scan reads every row. A write that completed on the event
 * loop is never run again.
 */
import { decodeRowKey, encodeRowKey, type RowChange, type Value } from '@concord/core'
import type { TargetKeyRestriction } from '../runtime/target-rows.js'

/** Most rows of a table whose write may move (the snapshot's bytes are bounded too: MAX_OFFLOAD_SNAPSHOT_BYTES). */
export const MAX_OFFLOAD_WRITE_ROWS = 1_000_000

/** Most target rows a worker returns; past it the statement runs whole here (it is no longer a few rows among many). */
export const MAX_OFFLOAD_TARGET_KEYS = 50_000

/** Most row changes of the table followed while the worker runs; past it the statement runs whole here. */
export const MAX_CHANGED_KEYS = 10_000

/**
 * What taking a snapshot costs the event loop per row of the table, about (µs): measured
 * 0.85 (300,000 rows of four columns, 22 MB, 255 ms) on an idle 2-core machine, 2.1
 * (100,000 rows, 213 ms) on a busy one.
 */
const SNAPSHOT_MICROS_PER_ROW = 1

/**
 * How long taking the snapshot of a table of `rows` rows holds the event loop, about. A
 * write moves only once it has run that long here: a write that would end sooner is
 * never moved (for a cheap WHERE, a column equal to a constant at 0.5 µs a row, the
 * snapshot costs more than the whole scan), and one that moves has held other clients
 * at most about twice what the snapshot costs before they are served again (the rent or
 * buy rule: pay for the move only after having paid as much for not moving).
 */
export function snapshotCostMs(rows: number): number {
  return (rows * SNAPSHOT_MICROS_PER_ROW) / 1000
}

/** Where row changes are heard: the replica. */
export interface RowChangeSource {
  on(event: 'change', fn: (changes: RowChange[]) => void): () => void
}

/**
 * The keys of one table's rows changed since it started listening (inserted, updated,
 * deleted, moved), to which the worker's keys are added when it answers: the rows the
 * statement's run here reads (`restriction`). A change to a row of a table in `reads`
 * (those the WHERE's subqueries and functions read, the target among them when they read
 * it) lapses it: the match of rows that did not change may then have changed.
 */
export class ChangedKeys {
  readonly table: string
  private readonly arity: number
  private readonly reads: ReadonlySet<string>
  private readonly keys = new Map<string, Value[]>()
  private changes = 0
  /** More changes than MAX_CHANGED_KEYS, or a change to a table the WHERE reads: `keys` no longer covers them. */
  overflowed = false
  private stopListening: (() => void) | null

  constructor(source: RowChangeSource, table: string, arity: number, reads: ReadonlySet<string> = new Set()) {
    this.table = table
    this.arity = arity
    this.reads = reads
    this.stopListening = source.on('change', (changes) => this.note(changes))
  }

  private note(changes: readonly RowChange[]): void {
    if (this.overflowed) return
    for (const c of changes) {
      if (this.reads.has(c.table)) {
        this.overflowed = true
        this.keys.clear()
        return
      }
      if (c.table !== this.table || this.keys.has(c.key)) continue
      if (++this.changes > MAX_CHANGED_KEYS) {
        this.overflowed = true
        this.keys.clear()
        return
      }
      try {
        this.keys.set(c.key, decodeRowKey(c.key, this.arity))
      } catch {
        // A key that does not decode (a table redefined meanwhile): the restriction lapses.
        this.overflowed = true
        return
      }
    }
  }

  /** Adds the keys the worker found. */
  add(found: readonly Value[][]): void {
    for (const k of found) this.keys.set(encodeRowKey(k), k)
  }

  /**
   * The restriction the statement's run here reads its target rows through: the keys as
   * they stand at each run (a run stopped by a row lock runs again with the changes made
   * meanwhile). `valid`: the catalog and the table's placement are as at the snapshot.
   */
  restriction(valid: () => boolean): TargetKeyRestriction {
    return { kind: 'restrict', table: this.table, keys: this.keys, applies: () => !this.overflowed && valid() }
  }

  stop(): void {
    this.stopListening?.()
    this.stopListening = null
  }
}
