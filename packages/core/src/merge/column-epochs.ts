/**
 * Column epochs: how a column keeps its values when its kind changes between register and
 * counter (SQL: ALTER COLUMN .. SET (conflict_resolution_policy = 'counter')).
 *
 * Each change of kind starts a new epoch with its own storage key inside writer entries;
 * the column definition lists the kinds of the earlier epochs (`ColumnInfo.epochs`, oldest
 * first; the current kind is the last). Writes go to the current epoch only. The value is
 * folded over the epochs, oldest first:
 *   - a register epoch replaces the value when anyone wrote it (resolved by the column's
 *     policy), else the value of the epochs before it shows through;
 *   - a counter epoch adds its contributions to the value before it.
 *
 * So a register converted to a counter keeps each row's value as the counter's base, and a
 * node that has not yet seen the conversion and keeps writing the register (or adding to
 * the old counter) changes that base: every replica folds the same entries the same way,
 * whatever order the conversion and the writes arrive in, and no write is dropped.
 * Changing the kind needs no row to be rewritten. `MAX_COLUMN_EPOCHS` bounds the fold.
 */
import type { ColumnInfo, ColumnKind, Value } from '../types.js'
import { addCounter } from './counter.js'

export const MAX_COLUMN_EPOCHS = 32

/** Storage key of epoch `epoch` of a column stored under `storageKey` (U+0000 cannot occur in a column name). */
export function epochKey(storageKey: string, epoch: number): string {
  return epoch === 0 ? storageKey : `${storageKey}\u0000${epoch}`
}

/** Storage key a write to `col` goes to: its current epoch's. */
export function writeKey(col: ColumnInfo, storageKey: string): string {
  return epochKey(storageKey, col.epochs?.length ?? 0)
}

export function hasEpochs(col: ColumnInfo): boolean {
  return col.epochs !== undefined && col.epochs.length > 0
}

/**
 * The column's value from epochs 0..`upto`. `register(key)` resolves the register values
 * written under `key` (undefined when there are none); `sum(key)` adds the counter
 * contributions under `key` (null when there are none).
 */
export function foldEpochs(col: ColumnInfo, storageKey: string, upto: number, register: (key: string) => Value | undefined, sum: (key: string) => Value): Value {
  const kinds: ColumnKind[] = [...(col.epochs ?? []), col.kind]
  let v: Value = null
  for (let i = 0; i <= upto && i < kinds.length; i++) {
    const key = epochKey(storageKey, i)
    if (kinds[i] === 'counter') {
      const s = sum(key)
      if (s !== null) v = addCounter(v, s)
    } else {
      const r = register(key)
      if (r !== undefined) v = r
    }
  }
  return v
}
