/**
 * Building a generation (docs/decisions/0012-generations.md): on the member that builds a
 * shard's generations, a fresh document holding, for every key, its newest entry across
 * all generations, and nothing of the history that overwrote older values. Rows whose
 * delete is stable are left out whole, tombstone included. Everything else the builder
 * held is in it, so no older generation needs to stay as an overlay, and no row changes.
 */
import type * as Y from 'yjs'
import { entryKey, splitEntryKey } from '../codec/row-key.js'
import { entryHlc } from '../codec/writer-entry.js'
import { mapItems } from '../yjs/yjs-internals.js'
import { FRONTIER_MAP, allEntryKeys, type EntrySource } from './overlays.js'

/**
 * Writes the new generation into `doc` (fresh, its base client id already set) from
 * `source`, leaving out the rows in `stableDeleted`. Returns the rows left out.
 */
export function writeGeneration(source: EntrySource, doc: Y.Doc, stableDeleted: ReadonlySet<string>): Set<string> {
  const map = doc.getMap<unknown>('rows')
  const keys = [...new Set(allEntryKeys(source.map, source.prevs))].sort()
  const frontier = heldFrontier(source)
  const dropped = new Set<string>()
  doc.transact(() => {
    if (source.prevs.length === 0) {
      // One generation: every entry counts.
      for (const k of keys) {
        const split = splitEntryKey(k)
        if (split === null) continue
        if (stableDeleted.has(split[0])) dropped.add(split[0])
        else map.set(k, source.map.get(k))
      }
    } else {
      const rowKeys = new Set<string>()
      for (const k of keys) {
        const split = splitEntryKey(k)
        if (split !== null) rowKeys.add(split[0])
      }
      for (const rowKey of rowKeys) {
        if (stableDeleted.has(rowKey)) {
          dropped.add(rowKey)
          continue
        }
        // Every entry that still counts (not dropped with a tombstone, not hidden by one).
        for (const [w, r] of source.rowEntries(rowKey).raws) map.set(entryKey(rowKey, w), r)
      }
    }
    writeFrontier(doc, frontier)
  }, 'load')
  return dropped
}

/**
 * What the builder held of each writer, cumulative over generations: lets every replica
 * tell a dropped row from one the builder never saw (see isDropped).
 */
function heldFrontier(source: EntrySource): Map<string, number> {
  const frontier = new Map<string, number>()
  const note = (writer: string, h: number) => {
    if (h > (frontier.get(writer) ?? -1)) frontier.set(writer, h)
  }
  for (const m of [source.map, ...source.prevs.map((p) => p.map)]) {
    for (const [w, h] of m.doc!.getMap(FRONTIER_MAP).entries()) if (typeof h === 'number') note(w, h)
    for (const [k, r] of m.entries()) {
      const split = splitEntryKey(k)
      if (split !== null) note(split[1], entryHlc(r))
    }
  }
  return frontier
}

function writeFrontier(doc: Y.Doc, frontier: ReadonlyMap<string, number>): void {
  const f = doc.getMap<number>(FRONTIER_MAP)
  for (const w of [...frontier.keys()].sort()) f.set(w, frontier.get(w)!)
}

/**
 * The same generation as `writeGeneration` writes, for a shard holding no older
 * generation, written in parts (`step`), so the builder's event loop serves others
 * between them (docs/decisions/0038-sliced-commits.md, "Generations"). Its keys and
 * frontier are taken at the start and each part reads the entries as they are then: the
 * owner checks that the shard did not change meanwhile before using it.
 */
export class GenerationBuild {
  readonly dropped = new Set<string>()
  readonly doc: Y.Doc
  private readonly source: EntrySource
  private readonly stableDeleted: ReadonlySet<string>
  private readonly map: Y.Map<unknown>
  private readonly keys: string[]
  private readonly frontier: Map<string, number>
  private next = 0

  constructor(source: EntrySource, doc: Y.Doc, stableDeleted: ReadonlySet<string>) {
    if (source.prevs.length > 0) throw new Error('a generation over older ones is built in one step')
    this.source = source
    this.doc = doc
    this.stableDeleted = stableDeleted
    this.map = doc.getMap<unknown>('rows')
    this.keys = [...source.map.keys()].sort()
    this.frontier = heldFrontier(source)
  }

  /** Writes up to `count` more keys (the frontier with the last); true once all are written. */
  step(count: number): boolean {
    const end = Math.min(this.keys.length, this.next + count)
    this.doc.transact(() => {
      for (; this.next < end; this.next++) {
        const k = this.keys[this.next]!
        const split = splitEntryKey(k)
        if (split === null) continue
        if (this.stableDeleted.has(split[0])) this.dropped.add(split[0])
        else this.map.set(k, this.source.map.get(k))
      }
      if (this.next >= this.keys.length) writeFrontier(this.doc, this.frontier)
    }, 'load')
    return this.next >= this.keys.length
  }
}

/**
 * True while some key of the current generation reads as absent because a remote
 * update's delete of its old value arrived before the new value (Yjs applies a delete
 * at once but holds back a struct whose predecessors are missing). Keys are never
 * removed otherwise, so a generation built now would leave out an entry the builder
 * held, and its frontier would make that entry look dropped: the builder waits.
 * Writers `ignore` says are gone for good do not hold it back.
 */
export function hasHalfAppliedWrites(map: Y.Map<unknown>, ignore: (writer: string) => boolean): boolean {
  for (const [key, item] of mapItems(map)) {
    if (!item.deleted) continue
    const split = splitEntryKey(key)
    if (split === null || !ignore(split[1])) return true
  }
  return false
}
