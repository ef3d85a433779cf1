/**
 * Older generations a shard still holds as read-only overlays, and how a key resolves
 * across them (docs/decisions/0012-generations.md).
 *
 * Each key resolves to its newest entry (by entry timestamp) across the current and the
 * older generations, so adopting a generation never hides a write. Such an entry may be
 * one the current generation dropped with its row's tombstone (`isDropped`): it still
 * counts for the row's causal length (a dropped delete still hides what it deleted) but
 * contributes no value.
 *
 * Every generation carries a `frontier` map, written once by its builder: per writer, the
 * newest timestamp of its entries the builder held, cumulative over generations.
 */
import type * as Y from 'yjs'
import { entryKey, splitEntryKey } from '../codec/row-key.js'
import { entryBorn, entryCl, entryHlc } from '../codec/writer-entry.js'
import { holdsKey } from '../yjs/yjs-internals.js'

/** Name of a generation document's top-level map holding its builder's frontier. */
export const FRONTIER_MAP = 'frontier'

/** An older generation held until drained. */
export interface HeldGeneration {
  generation: number
  doc: Y.Doc
  map: Y.Map<unknown>
}

/** A key's newest entry across the current generation (`current`) and the older ones. */
export function newestEntry(ek: string, current: Y.Map<unknown>, prevs: readonly HeldGeneration[]): unknown {
  const cur = current.get(ek)
  if (prevs.length === 0) return cur
  let best = cur
  let bestHlc = cur === undefined ? -2 : entryHlc(cur)
  for (const p of prevs) {
    const r = p.map.get(ek)
    if (r === undefined) continue
    const h = entryHlc(r)
    if (h > bestHlc) {
      best = r
      bestHlc = h
    }
  }
  return best
}

/** Every entry key held by any generation (a key held by several appears once per generation). */
export function* allEntryKeys(current: Y.Map<unknown>, prevs: readonly HeldGeneration[]): Iterable<string> {
  yield* current.keys()
  for (const p of prevs) yield* p.map.keys()
}

/** The newest timestamp of `writer`'s entries the builder of the generation of `map` held; -1 if none. */
export function frontierOf(map: Y.Map<unknown>, writer: string): number {
  const f = (map.doc?.getMap(FRONTIER_MAP).get(writer) as number | undefined) ?? -1
  return typeof f === 'number' ? f : -1
}

/**
 * True when a generation (whose `rows` map is `map`, lacking the key `ek`) dropped this
 * entry's row: its builder held this writer's entries up to a timestamp at or past the
 * entry's `born`, so it held this writer's entry for the row at this causal length
 * (a node's writes reach others in order: Yjs integrates one client's structs only
 * contiguously, and `Shard.chainSessions` links a restarted node's writes to its earlier
 * ones). Yet the generation has no entry under that key, and a generation leaves out
 * a key only when the row's delete was stable. So the entry is a late write to a row
 * whose tombstone was dropped: the delete wins, as it would have over the tombstone.
 */
export function isDropped(ek: string, raw: unknown, map: Y.Map<unknown>): boolean {
  const split = splitEntryKey(ek)
  if (split === null) return false
  // A key the generation holds at all, even one that reads as absent for a moment (a
  // remote overwrite whose delete arrived before its new value), was not dropped.
  if (holdsKey(map, ek)) return false
  const born = entryBorn(raw)
  return born >= 0 && born <= frontierOf(map, split[1])
}

/**
 * Each writer's newest entry for a row, across generations, that counts for it, and the
 * row's causal length from them. An older generation's entry under a key the current
 * generation lacks does not count when that generation dropped it (`isDropped`), nor
 * when its causal length is at most that of such a dropped entry of the row (it belongs
 * to the life the dropped delete ended, or is that delete). An entry the current
 * generation holds always counts: its row was not dropped, or it was written after the
 * drop (a new life, which dropped entries must not hide).
 *
 * `written`: entries this node wrote in the current Yjs transaction, already parsed
 * (nothing else can have changed them). Malformed entries count as absent, and are
 * reported to `onMalformed`.
 */
export function countingEntries(
  rowKey: string,
  writers: Iterable<string>,
  current: Y.Map<unknown>,
  prevs: readonly HeldGeneration[],
  written: ReadonlyMap<string, { entry: { cl: number } }> | null,
  onMalformed: () => void,
): { cl: number; raws: Array<[string, unknown]> } {
  const raws: Array<[string, unknown]> = []
  let cl = 0
  let droppedCl = 0
  let older: Array<[string, unknown, number]> | null = null
  for (const w of writers) {
    const ek = entryKey(rowKey, w)
    const cached = written !== null ? written.get(ek) : undefined
    if (cached !== undefined) {
      if (cached.entry.cl > cl) cl = cached.entry.cl
      raws.push([w, cached.entry])
      continue
    }
    const raw = newestEntry(ek, current, prevs)
    if (raw === undefined) continue
    const c = entryCl(raw)
    if (c < 0) {
      onMalformed()
      continue
    }
    if (prevs.length === 0 || current.get(ek) !== undefined) {
      if (c > cl) cl = c
      raws.push([w, raw])
    } else if (isDropped(ek, raw, current)) {
      if (c > droppedCl) droppedCl = c
    } else {
      if (older === null) older = []
      older.push([w, raw, c])
    }
  }
  for (const [w, raw, c] of older ?? []) {
    if (c <= droppedCl) continue
    if (c > cl) cl = c
    raws.push([w, raw])
  }
  return { cl, raws }
}

/** What building, adopting and draining generations read of a shard's entries. */
export interface EntrySource {
  /** The current generation's `rows` map. */
  readonly map: Y.Map<unknown>
  /** Older generations held, oldest first. */
  readonly prevs: readonly HeldGeneration[]
  /** Every node that has an entry in the shard. */
  readonly writers: ReadonlySet<string>
  /** A key's newest entry across generations (`newestEntry`). */
  raw(ek: string): unknown
  /** Each writer's entry that counts for a row, and the row's causal length from them. */
  rowEntries(rowKey: string): { cl: number; raws: Array<[string, unknown]> }
}
