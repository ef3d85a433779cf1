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
 * It also keeps the document's **digest** (`digest`, `snapshotDigest`): a sum of one term
 * per client, hashed from the client's id, its clock and its deleted ranges, so that a
 * change costs the terms of the clients it touched. A hash of the whole encoded snapshot
 * cost a pass over every client after each change, and the catalog has a client per
 * member session: at 300 simulated peers 8 % of the CPU (issue 20).
 *
 * Invariant: `snapshot()` equals `Y.snapshot(doc)` (same maximal ranges, so the same
 * encoding), and `digest(doc)` equals `snapshotDigest(Y.snapshot(doc))`, provided `note`
 * saw every transaction of the document since `reset`. The simulator audits both
 * (Shard.auditBooks).
 */
import * as Y from 'yjs'

interface Range {
  clock: number
  len: number
}

/** Multiplies in a 32-bit word, FNV style, 16 bits at a time. */
function mixWord(h: number, w: number): number {
  h = Math.imul(h ^ (w & 0xffff), 0x01000193)
  return Math.imul(h ^ (w >>> 16), 0x01000193)
}

/** Mixes a non-negative integer below 2^53 (a client id, clock or length). */
function mixNumber(h: number, n: number): number {
  return mixWord(mixWord(h, n >>> 0), Math.floor(n / 0x100000000) >>> 0)
}

/** One client's term of the digest: its id, clock and deleted ranges, avalanched so that terms add well. */
function clientTerm(client: number, clock: number, ranges: readonly Range[] | undefined): number {
  let h = mixNumber(mixNumber(0x811c9dc5, client), clock)
  if (ranges !== undefined) for (const r of ranges) h = mixNumber(mixNumber(h, r.clock), r.len)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * The digest of a snapshot computed from scratch: equal snapshots (state vector and delete
 * set) give equal digests. What `KeptDeleteSet.digest` keeps up to date.
 */
export function snapshotDigest(snapshot: Y.Snapshot): number {
  let sum = 0
  for (const [client, clock] of snapshot.sv) {
    const ranges = snapshot.ds.clients.get(client)
    sum = (sum + clientTerm(client, clock, ranges?.map((d) => ({ clock: d.clock, len: d.len })))) >>> 0
  }
  return sum
}

export class KeptDeleteSet {
  /** Per client: disjoint maximal ranges, by clock. */
  private ranges = new Map<number, Range[]>()
  /** Ranges noted since the last merge: [client, clock, len], possibly overlapping. */
  private pending: Array<[number, number, number]> = []
  private total = 0
  /** Per client: its term of the digest, as of the last `digest`. */
  private terms = new Map<number, number>()
  private termSum = 0
  /** Clients a transaction touched since the last `digest`: their terms are recomputed. */
  private touched = new Set<number>()
  /** Every client's term is recomputed at the next `digest` (after `reset`). */
  private allTouched = true

  /** Starts over from the document as it is (one walk of its structs). */
  reset(doc: Y.Doc): void {
    this.ranges = new Map()
    this.pending = []
    this.total = 0
    this.terms = new Map()
    this.termSum = 0
    this.touched = new Set()
    this.allTouched = true
    for (const [client, items] of Y.createDeleteSetFromStructStore(doc.store).clients) {
      const copy = items.map((d) => ({ clock: d.clock, len: d.len }))
      for (const d of copy) this.total += d.len
      this.ranges.set(client, copy)
    }
  }

  /** Records what one transaction of the document deleted (call from its `afterTransaction`). */
  note(tr: Y.Transaction): void {
    for (const [client, items] of tr.deleteSet.clients) {
      this.touched.add(client)
      const before = tr.beforeState.get(client) ?? 0
      for (const d of items) if (d.clock < before) this.pending.push([client, d.clock, Math.min(d.clock + d.len, before) - d.clock])
    }
    const clients = tr.doc.store.clients
    for (const [client, after] of tr.afterState) {
      const before = tr.beforeState.get(client) ?? 0
      if (after <= before) continue
      this.touched.add(client)
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

  /**
   * The document's digest (see the module header): `snapshotDigest(Y.snapshot(doc))`,
   * recomputing only the terms of the clients touched since the last call.
   */
  digest(doc: Y.Doc): number {
    this.merge()
    if (this.allTouched) {
      for (const client of doc.store.clients.keys()) this.touched.add(client)
      this.allTouched = false
    }
    for (const client of this.touched) {
      const clock = Y.getState(doc.store, client)
      const term = clock > 0 ? clientTerm(client, clock, this.ranges.get(client)) : 0
      this.termSum = (this.termSum - (this.terms.get(client) ?? 0) + term) >>> 0
      if (term === 0) this.terms.delete(client)
      else this.terms.set(client, term)
    }
    this.touched.clear()
    return this.termSum
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
