/**
 * A document's delete set, kept transaction by transaction instead of rebuilt from every
 * struct (`Y.snapshot` walks the whole struct store: a million rows cost a million steps
 * after each change, where a change costs only the structs it touched).
 *
 * The delete set of a document is the set of clocks, per client, whose structs are
 * deleted. Yjs never undeletes, so it only grows, and a transaction adds exactly:
 * - the ranges of its own delete set below the state it started from (structs that
 *   existed and were deleted now), and
 * - the deleted structs among those it integrated (its clocks from the state before to
 *   the state after): items deleted at once, and GC structs, which arrive deleted and
 *   never enter a transaction's delete set.
 *
 * Invariant: `snapshot()` equals `Y.snapshot(doc)` (same maximal ranges, so the same
 * encoding and digest) provided `note` saw every transaction of the document since
 * `reset`. The simulator audits it (Shard.auditBooks).
 */
import * as Y from 'yjs'

interface Range {
  clock: number
  len: number
}

export class KeptDeleteSet {
  /** Per client: disjoint maximal ranges, by clock. */
  private ranges = new Map<number, Range[]>()
  /** Ranges noted since the last merge: [client, clock, len], possibly overlapping. */
  private pending: Array<[number, number, number]> = []
  private total = 0

  /** Starts over from the document as it is (one walk of its structs). */
  reset(doc: Y.Doc): void {
    this.ranges = new Map()
    this.pending = []
    this.total = 0
    for (const [client, items] of Y.createDeleteSetFromStructStore(doc.store).clients) {
      const copy = items.map((d) => ({ clock: d.clock, len: d.len }))
      for (const d of copy) this.total += d.len
      this.ranges.set(client, copy)
    }
  }

  /** Records what one transaction of the document deleted (call from its `afterTransaction`). */
  note(tr: Y.Transaction): void {
    for (const [client, items] of tr.deleteSet.clients) {
      const before = tr.beforeState.get(client) ?? 0
      for (const d of items) if (d.clock < before) this.pending.push([client, d.clock, Math.min(d.clock + d.len, before) - d.clock])
    }
    const clients = tr.doc.store.clients
    for (const [client, after] of tr.afterState) {
      const before = tr.beforeState.get(client) ?? 0
      if (after <= before) continue
      const structs = clients.get(client)
      if (structs === undefined) continue
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const s = structs[i]!
        if (s.id.clock >= after) break
        if (!s.deleted) continue
        const from = Math.max(s.id.clock, before)
        this.pending.push([client, from, Math.min(s.id.clock + s.length, after) - from])
      }
    }
  }

  /** Clocks deleted, over all clients (overwritten map values and deleted text: history). */
  count(): number {
    this.merge()
    return this.total
  }

  /** The document's snapshot (delete set and state vector), as `Y.snapshot` would build it. */
  snapshot(doc: Y.Doc): Y.Snapshot {
    this.merge()
    const ds = Y.createDeleteSet()
    for (const [client, ranges] of this.ranges) if (ranges.length > 0) ds.clients.set(client, ranges)
    const sv = new Map<number, number>()
    for (const client of doc.store.clients.keys()) sv.set(client, Y.getState(doc.store, client))
    return Y.createSnapshot(ds, sv)
  }

  /** Folds the pending ranges in: per client with some, one pass over its ranges. */
  private merge(): void {
    if (this.pending.length === 0) return
    const byClient = new Map<number, Range[]>()
    for (const [client, clock, len] of this.pending) {
      if (len <= 0) continue
      let list = byClient.get(client)
      if (list === undefined) {
        list = []
        byClient.set(client, list)
      }
      list.push({ clock, len })
    }
    this.pending = []
    for (const [client, added] of byClient) {
      added.sort((a, b) => a.clock - b.clock)
      const old = this.ranges.get(client) ?? []
      const out: Range[] = []
      let i = 0
      let j = 0
      while (i < old.length || j < added.length) {
        const next = j >= added.length || (i < old.length && old[i]!.clock <= added[j]!.clock) ? old[i++]! : added[j++]!
        const last = out[out.length - 1]
        if (last !== undefined && next.clock <= last.clock + last.len) {
          const end = Math.max(last.clock + last.len, next.clock + next.len)
          this.total += end - (last.clock + last.len)
          last.len = end - last.clock
        } else {
          out.push({ clock: next.clock, len: next.len })
          this.total += next.len
        }
      }
      // The old ranges were counted already: take them out again.
      for (const r of old) this.total -= r.len
      this.ranges.set(client, out)
    }
  }
}
