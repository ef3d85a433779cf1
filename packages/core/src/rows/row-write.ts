/**
 * A row write: what one committed transaction does to one row, as the transaction
 * buffers it (LocalTransaction) and the shard applies it (Shard.applyWrite).
 */
import type { Value } from '../types.js'

/** What a committed transaction does to one row. */
export interface RowWrite {
  /** The row exists after the transaction. */
  live: boolean
  /** Every earlier column value is discarded (the row was deleted, then written again). */
  reset: boolean
  /** Register and text columns set, by column name. */
  cols: Map<string, Value>
  /** Counter deltas, by column name (`NO_INCREMENTS` when there are none). */
  incr: ReadonlyMap<string, number | bigint>
  /** Columns of `cols` holding defaults an INSERT filled in (they yield to explicit values). */
  dflt?: ReadonlySet<string>
}

/** Shared empty increments: most row writes have none, and a Map per row costs. */
export const NO_INCREMENTS: ReadonlyMap<string, number | bigint> = new Map()
