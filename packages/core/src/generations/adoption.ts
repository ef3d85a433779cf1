/**
 * Adopting a generation (docs/decisions/0012-generations.md): a replica switching to a
 * newer generation re-applies, as writes of its own, each of its own entries the new
 * state lacks or holds an older version of (same value, same timestamp, same
 * dependencies), so nothing it wrote is lost and policies resolve as before. Its entries
 * that are dead by the delete rule are not re-applied.
 */
import type * as Y from 'yjs'
import { WRITER_SEP, entryKey, splitEntryKey } from '../codec/row-key.js'
import { entryCl, entryHlc } from '../codec/writer-entry.js'
import { allEntryKeys, isDropped, type EntrySource } from './overlays.js'

/**
 * This node's (`writer`'s) entries, read from `source` before the switch, against the
 * new generation's `nextMap`: `reapply`, the entries to write again there, and `own`,
 * every key of this node's held before (all settled now: re-applied, or dead).
 */
export function entriesToReapply(source: EntrySource, writer: string, nextMap: Y.Map<unknown>): { reapply: Array<[string, unknown]>; own: string[] } {
  const reapply: Array<[string, unknown]> = []
  const own: string[] = []
  const suffix = WRITER_SEP + writer
  for (const k of new Set(allEntryKeys(source.map, source.prevs))) {
    if (!k.endsWith(suffix)) continue
    own.push(k)
    const r = source.raw(k)
    if (r === undefined) continue
    const there = nextMap.get(k)
    if (there !== undefined && entryHlc(there) >= entryHlc(r)) continue
    if (there === undefined && !keepsOnAdoption(source, writer, k, r, nextMap)) continue
    reapply.push([k, r])
  }
  return { reapply, own }
}

/**
 * Whether this node's entry `r` under key `k`, which the new generation `nextMap` lacks,
 * is re-applied there. Not when it is dead by the delete rule: superseded by a delete
 * (or re-insert) this node already holds, or a write to a row the new generation dropped
 * as stably deleted: the builder held this node's entry for that row (`isDropped`), or
 * another writer's entry for it at the same causal length that is also gone. Otherwise
 * it is a write the builder never saw (made offline, say), and kept.
 */
function keepsOnAdoption(source: EntrySource, writer: string, k: string, r: unknown, nextMap: Y.Map<unknown>): boolean {
  const split = splitEntryKey(k)
  if (split === null) return false
  const cl = entryCl(r)
  if (cl < source.rowEntries(split[0]).cl) return false
  if (isDropped(k, r, nextMap)) return false
  for (const w of source.writers) {
    if (w === writer) continue
    const ek = entryKey(split[0], w)
    const x = source.raw(ek)
    if (x !== undefined && entryCl(x) === cl && nextMap.get(ek) === undefined && isDropped(ek, x, nextMap)) return false
  }
  return true
}
