/**
 * The delete rule (docs/decisions/0006-deletes.md): every writer entry carries the row's
 * causal length as its writer saw it, odd = live, even = deleted. An insert into an
 * absent or deleted row bumps it to the next odd number, a delete of a live row to the
 * next even one. The row's causal length is the greatest among its entries, and only
 * entries carrying it contribute values. So:
 * - a delete wins over a concurrent update (the update carries the older causal length);
 * - an insert after a delete brings the row back with only the values written after it;
 * - concurrent deletes are one delete, concurrent re-inserts merge per column.
 */
import type { ConflictRecord, ConflictValue, Value } from '../types.js'

/** Whether a row with this causal length exists (0 is a row never written). */
export function isLive(cl: number): boolean {
  return cl % 2 === 1
}

/**
 * Causal length a row has after a write, given its causal length before: a delete ends a
 * live life, a write starts a new life of an absent row, and one that discards every
 * earlier value (`reset`: the row was deleted and written again) skips a whole life.
 */
export function clAfter(baseCl: number, w: { live: boolean; reset: boolean }): number {
  const live = isLive(baseCl)
  if (!w.live) return live ? baseCl + 1 : baseCl
  if (!live) return baseCl + 1
  return w.reset ? baseCl + 2 : baseCl
}

/**
 * The delete_update conflict of a deleted row, if any: writes to its previous life made
 * after the delete by writers that had not seen it (they would carry the delete's causal
 * length otherwise). The delete won over them. `deletes` are the writers whose entries
 * carry the delete, with their timestamps; `updates` the entries of the life before;
 * `columnName` names a column by its entry key. Null when no update came after the delete.
 */
export function deleteUpdateConflict(
  deletes: ReadonlyArray<readonly [string, number]>,
  updates: ReadonlyArray<readonly [string, { hlc: number; cols: ReadonlyMap<string, { value: Value }> }]>,
  columnName: (skey: string) => string,
): Pick<ConflictRecord, 'kind' | 'policy' | 'winner' | 'losers'> | null {
  let deletedAt = Number.POSITIVE_INFINITY
  for (const [, at] of deletes) deletedAt = Math.min(deletedAt, at)
  const losers: ConflictValue[] = []
  for (const [w, e] of updates) {
    if (e.hlc <= deletedAt) continue
    const values: Record<string, string | null> = {}
    for (const [skey, cw] of e.cols) {
      const v = cw.value
      values[columnName(skey)] = v === null ? null : v instanceof Uint8Array ? `\\x${[...v].map((b) => b.toString(16).padStart(2, '0')).join('')}` : String(v)
    }
    losers.push({ writer: w, value: JSON.stringify(values), hlc: e.hlc })
  }
  if (losers.length === 0) return null
  return {
    kind: 'delete_update',
    policy: 'delete_wins',
    winner: { writer: deletes.map(([w]) => w).sort()[0]!, value: null, hlc: deletedAt },
    losers,
  }
}
