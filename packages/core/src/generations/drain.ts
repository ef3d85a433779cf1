/**
 * Draining overlays (docs/decisions/0012-generations.md): an older generation is dropped
 * once nothing in it can show again.
 */
import { splitEntryKey } from '../codec/row-key.js'
import { entryCl, entryHlc } from '../codec/writer-entry.js'
import type { EntrySource, HeldGeneration } from './overlays.js'

/**
 * True when every entry of `oldest` (the oldest generation `source` holds) is matched by a
 * newer one at least as new, is dead, or belongs to a writer `settled` vouches for: gone
 * for good (departed), or known to have moved to the current generation and to hold
 * exactly what this replica holds there, so it re-applied all it keeps and this replica
 * has it (what it did not re-apply is dead by the delete rule, decided from its own view).
 */
export function isDrained(oldest: HeldGeneration, source: EntrySource, settled: (writer: string) => boolean): boolean {
  for (const [k, r] of oldest.map.entries()) {
    const split = splitEntryKey(k)
    if (split === null || settled(split[1])) continue
    const h = entryHlc(r)
    let covered = false
    const cur = source.map.get(k)
    if (cur !== undefined && entryHlc(cur) >= h) covered = true
    if (!covered) {
      const state = source.rowEntries(split[0])
      // Dropped with a tombstone or hidden by one: it never counts again.
      if (cur === undefined && !state.raws.some(([w]) => w === split[1])) covered = true
      // A causal length below the row's can never show again (causal lengths only grow).
      else if (entryCl(r) < state.cl) covered = true
    }
    for (let i = 1; !covered && i < source.prevs.length; i++) {
      const o = source.prevs[i]!.map.get(k)
      if (o !== undefined && entryHlc(o) >= h) covered = true
    }
    if (!covered) return false
  }
  return true
}
