/**
 * A shard: the replication unit (DESIGN.md decision 2). One Y.Doc holding the rows of one
 * table incarnation and partition, and the materialized rows resolved from it.
 *
 * Layout of the Y.Doc:
 * - top-level map `rows`: flat writer entries `rowKey U+0000 nodeId` (see writer-entry.ts);
 * - one top-level Y.Text per (row, text column, causal length), named
 *   `U+0003 rowKey U+0000 columnKey U+0000 cl`: top-level types are identified by name, so
 *   two nodes that create the same text concurrently share one, and no edit is lost;
 * - top-level map `frontier`, written once by the builder of a generation: per writer,
 *   the newest timestamp of its entries the builder held (see `isDropped`).
 *
 * Invariant: after every Yjs transaction on the doc, `rows` holds exactly the resolution
 * of the entries of every row that transaction touched, and a change event has been
 * emitted for each row whose resolution differs. Local writes and remote updates take
 * this same path (the doc's `afterTransaction`), so they cannot disagree.
 */
import * as Y from 'yjs'
import { addCounter, subtractCounter } from '../merge/counter.js'
import { foldEpochs, hasEpochs, writeKey } from '../merge/column-epochs.js'
import { contenders, policyName, resolve, type Candidate, type ResolverLookup } from '../merge/policy.js'
import type { ColumnInfo, ConflictRecord, ConflictValue, PolicySpec, Row, RowChange, TableInfo, Value } from '../types.js'
import { encodeEntry, entryBorn, entryCl, entryHlc, parseEntry, scanEntry, validDeps, type ColumnWrite, type WriterEntry } from '../codec/writer-entry.js'
import { decodeRowKey, entryKey, splitEntryKey, WRITER_SEP } from '../codec/row-key.js'

export const LOCAL_ORIGIN = 'local'
export const REMOTE_ORIGIN = 'remote'
const TEXT_PREFIX = '\u0003'

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

/** A row change as the replica hands it on (the shard fills in table and origin). */
export type ShardRowChange = RowChange

/** How a shard sees its table: set by the replica from the catalog. */
export interface TableView {
  info: TableInfo
  /** Effective policy per register column (column, table, or cluster default). */
  policies: Map<string, PolicySpec>
  /** Entry key of each column (differs from the name after DROP + ADD of one name). */
  storageKeys: Map<string, string>
  /** Columns by name. */
  columns: Map<string, ColumnInfo>
  /** True when some column is a counter or text column (no single-writer fast path). */
  special: boolean
  /** Per column in table order: name, entry key, and position in the primary key (-1 if none). */
  layout: Array<{ name: string; skey: string; pkAt: number }>
  /** Non-key column names by entry key. */
  nameByStorageKey: Map<string, string>
}

export function tableLayout(info: TableInfo, storageKeys: Map<string, string>): TableView['layout'] {
  return info.columns.map((c) => ({ name: c.name, skey: storageKeys.get(c.name) ?? c.name, pkAt: info.primaryKey.indexOf(c.name) }))
}

export interface ShardHooks {
  onRows(shard: Shard, changes: ShardRowChange[], origin: string): void
  onUpdate(shard: Shard, update: Uint8Array, origin: unknown): void
  resolvers: ResolverLookup
  /** Counts entries that failed validation (a peer sent something malformed). */
  onMalformed(): void
  /** Feeds timestamps of remote writes to the hybrid clock. */
  observe(hlc: number): void
  /** Sees every entry this node writes for a local transaction (ReplicaOptions.onLocalEntry). */
  onLocalEntry?: (shard: Shard, key: string, entry: string) => void
  /** Sees each conflict a resolution decided (may repeat: the replica keeps one of each). */
  onConflict?: (conflict: ConflictRecord) => void
}

export class Shard {
  readonly id: string
  /** The current generation's document; replaced when a new generation is adopted. */
  doc: Y.Doc
  map: Y.Map<unknown>
  /**
   * Older generations still holding entries the current one lacks (writes their owners
   * have not re-applied yet), oldest first. Read-only overlays: each key resolves to its
   * newest entry across all generations, so adopting a generation never hides a write.
   */
  readonly prevs: Array<{ generation: number; doc: Y.Doc; map: Y.Map<unknown> }> = []
  /** Every node that has an entry in this shard. */
  readonly writers = new Set<string>()
  /** Materialized rows by row key. Empty while the table is unknown. */
  readonly rows = new Map<string, Row>()
  generation = 0
  /** Deleted rows whose entries generations built here dropped (their delete was stable). */
  tombstonesDropped = 0
  private view: TableView | null = null
  private readonly hooks: ShardHooks
  private textNames = new Map<unknown, string>()
  /** Entries this node wrote in the current Yjs transaction, already parsed (saves re-parsing on materialize). */
  private readonly written = new Map<string, { raw: string; entry: WriterEntry }>()
  /** Rows this node wrote in the current Yjs transaction while it was their only writer: already resolved. */
  private readonly resolvedLocally = new Map<string, Row | null>()
  private digestCache: number | null = null
  /** Order-independent hash of the materialized rows (see `rowsHash`), kept up to date by rematerialize. */
  private rowsSum = 0
  private deletedCache = 0
  private readonly onLocalUpdate: (update: Uint8Array) => void
  /** Set by a transaction that integrated something new. */
  private changedByLast = false
  /** Single-writer shards during setView: row key -> that writer's raw entry. */
  private prefetched: Map<string, unknown> | null = null

  /** This session's Yjs client id (a new one every start). */
  private clientID: number
  /** The node this replica writes as. */
  private readonly writer: string
  /** Set once this process's first local write has chained onto its earlier sessions' writes. */
  private chained = false
  /** Set while the shard edits an older generation's document for its own bookkeeping. */
  private quiet = false

  constructor(id: string, clientID: number, writer: string, hooks: ShardHooks) {
    this.id = id
    this.hooks = hooks
    this.clientID = clientID
    this.writer = writer
    this.doc = this.newDoc(clientID)
    this.map = this.doc.getMap('rows')
    this.onLocalUpdate = (update: Uint8Array) => hooks.onUpdate(this, update, LOCAL_ORIGIN)
  }

  private newDoc(clientID: number): Y.Doc {
    const doc = new Y.Doc({ gc: true })
    doc.clientID = clientID
    doc.on('afterTransaction', (tr: Y.Transaction) => this.afterTransaction(tr))
    return doc
  }

  /**
   * A key's newest entry across the current and older generations (by entry timestamp).
   * It may be one the current generation dropped (see `isDropped`): such an entry still
   * counts for the row's causal length (a dropped delete still hides what it deleted),
   * but contributes no value.
   */
  private raw(ek: string): unknown {
    const cur = this.map.get(ek)
    if (this.prevs.length === 0) return cur
    let best = cur
    let bestHlc = cur === undefined ? -2 : entryHlc(cur)
    for (const p of this.prevs) {
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

  /** The newest timestamp of `writer`'s entries the builder of the generation of `map` held; -1 if none. */
  private frontierOf(map: Y.Map<unknown>, writer: string): number {
    const f = (map.doc?.getMap('frontier').get(writer) as number | undefined) ?? -1
    return typeof f === 'number' ? f : -1
  }

  /**
   * True when a generation (whose `rows` map is `map`, lacking the key `ek`) dropped this
   * entry's row: its builder held this writer's entries up to a timestamp at or past the
   * entry's `born`, so it held this writer's entry for the row at this causal length
   * (a node's writes reach others in order: Yjs integrates one client's structs only
   * contiguously, and `chainSessions` links a restarted node's writes to its earlier
   * ones). Yet the generation has no entry under that key, and a generation leaves out
   * a key only when the row's delete was stable. So the entry is a late write to a row
   * whose tombstone was dropped: the delete wins, as it would have over the tombstone.
   */
  private isDropped(ek: string, raw: unknown, map: Y.Map<unknown>): boolean {
    const split = splitEntryKey(ek)
    if (split === null) return false
    // A key the generation holds at all, even one that reads as absent for a moment (a
    // remote overwrite whose delete arrived before its new value), was not dropped.
    if ((map as unknown as { _map: Map<string, unknown> })._map.has(ek)) return false
    const born = entryBorn(raw)
    return born >= 0 && born <= this.frontierOf(map, split[1])
  }

  /** Timestamp of a writer's newest entry for a row, across generations; null if none. */
  entryTimestamp(rowKey: string, writer: string): number | null {
    const r = this.raw(entryKey(rowKey, writer))
    if (r === undefined) return null
    const h = entryHlc(r)
    return h < 0 ? null : h
  }

  /** Every entry key held by any generation. */
  private *allEntryKeys(): Iterable<string> {
    yield* this.map.keys()
    for (const p of this.prevs) yield* p.map.keys()
  }

  /**
   * True when the table has text columns (or the shard holds Y.Texts anyway): generations
   * do not rebuild Y.Texts, so such shards are never compacted. Decided from the schema,
   * so every replica agrees even before any text was written.
   */
  get hasText(): boolean {
    if (this.view?.info.columns.some((c) => c.kind === 'text')) return true
    for (const name of this.doc.share.keys()) if (name.startsWith(TEXT_PREFIX)) return true
    return false
  }

  /**
   * True while some key of the current generation reads as absent because a remote
   * update's delete of its old value arrived before the new value (Yjs applies a delete
   * at once but holds back a struct whose predecessors are missing). Keys are never
   * removed otherwise, so a generation built now would leave out an entry the builder
   * held, and its frontier would make that entry look dropped: the builder waits.
   * Writers `ignore` says are gone for good do not hold it back.
   */
  hasHalfAppliedWrites(ignore: (writer: string) => boolean): boolean {
    for (const [key, item] of (this.map as unknown as { _map: Map<string, Y.Item> })._map) {
      if (!item.deleted) continue
      const split = splitEntryKey(key)
      if (split === null || !ignore(split[1])) return true
    }
    return false
  }

  /**
   * Rewrites this shard, on the node that builds generations, as generation `generation`:
   * a fresh document (its base written by client id `builderClient`) holding, for every
   * key, its newest entry across all generations, and nothing of the history that
   * overwrote older values. Rows in `stableDeleted` (deleted, and the delete stable: see
   * Replica.stableDeletes) are left out whole, tombstone included. Everything else this
   * node held is in it, so no older generation needs to stay as an overlay, and no row
   * changes. Returns the new state, whole.
   */
  rewriteAsGeneration(generation: number, builderClient: number, stableDeleted: ReadonlySet<string> = new Set()): Uint8Array {
    const doc = this.newDoc(builderClient)
    const map = doc.getMap<unknown>('rows')
    const keys = [...new Set(this.allEntryKeys())].sort()
    // What this builder held of each writer, cumulative over generations: lets every
    // replica tell a dropped row from one the builder never saw (see isDropped).
    const frontier = new Map<string, number>()
    const note = (writer: string, h: number) => {
      if (h > (frontier.get(writer) ?? -1)) frontier.set(writer, h)
    }
    for (const m of [this.map, ...this.prevs.map((p) => p.map)]) {
      for (const [w, h] of m.doc!.getMap('frontier').entries()) if (typeof h === 'number') note(w, h)
      for (const [k, r] of m.entries()) {
        const split = splitEntryKey(k)
        if (split !== null) note(split[1], entryHlc(r))
      }
    }
    const dropped = new Set<string>()
    doc.transact(() => {
      if (this.prevs.length === 0) {
        // One generation: every entry counts.
        for (const k of keys) {
          const split = splitEntryKey(k)
          if (split === null) continue
          if (stableDeleted.has(split[0])) dropped.add(split[0])
          else map.set(k, this.map.get(k))
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
          for (const [w, r] of this.rowEntries(rowKey, false).raws) map.set(entryKey(rowKey, w), r)
        }
      }
      const f = doc.getMap<number>('frontier')
      for (const w of [...frontier.keys()].sort()) f.set(w, frontier.get(w)!)
    }, 'load')
    this.tombstonesDropped += dropped.size
    // From here on this node writes into the new generation under its own client id,
    // and has no earlier session of its own in it to chain onto.
    doc.clientID = this.clientID
    this.chained = true
    for (const p of this.prevs) p.doc.destroy()
    this.prevs.length = 0
    this.doc.destroy()
    this.doc = doc
    this.map = map
    this.generation = generation
    this.digestCache = null
    return Y.encodeStateAsUpdate(doc)
  }

  /**
   * Switches to generation `generation` whose state is `state`. This node's own entries
   * the new state lacks, or holds older versions of, are re-applied as its own writes
   * (same values, same timestamps), so nothing it wrote is lost and policies resolve as
   * before. The old document stays as an overlay until drained. Returns the re-applied
   * row count.
   */
  adoptGeneration(generation: number, state: Uint8Array): number {
    const next = this.newDoc(this.clientID)
    Y.applyUpdate(next, state, 'load')
    const nextMap = next.getMap<unknown>('rows')
    const mine: Array<[string, unknown]> = []
    const own: string[] = []
    const suffix = WRITER_SEP + this.writer
    for (const k of new Set(this.allEntryKeys())) {
      if (!k.endsWith(suffix)) continue
      own.push(k)
      const r = this.raw(k)
      if (r === undefined) continue
      const there = nextMap.get(k)
      if (there !== undefined && entryHlc(there) >= entryHlc(r)) continue
      if (there === undefined && !this.keepsOnAdoption(k, r, nextMap)) continue
      mine.push([k, r])
    }
    const old = { generation: this.generation, doc: this.doc, map: this.map }
    this.prevs.push(old)
    this.doc = next
    this.map = nextMap
    this.generation = generation
    this.digestCache = null
    this.chained = true
    for (const k of nextMap.keys()) {
      const split = splitEntryKey(k)
      if (split !== null) this.writers.add(split[1])
    }
    // This node's own entries are settled now (re-applied, or dead by the delete rule):
    // the old generation keeps only other writers' entries, still to be re-applied.
    this.quiet = true
    try {
      old.doc.transact(() => {
        for (const k of own) old.map.delete(k)
      }, 'load')
    } finally {
      this.quiet = false
    }
    if (mine.length > 0) this.transactLocal(() => {
      for (const [k, r] of mine) nextMap.set(k, r)
    })
    return mine.length
  }

  /**
   * Whether this node's entry `r` under key `k`, which the new generation `nextMap` lacks,
   * is re-applied there. Not when it is dead by the delete rule: superseded by a delete
   * (or re-insert) this node already holds, or a write to a row the new generation dropped
   * as stably deleted: the builder held this node's entry for that row (`isDropped`), or
   * another writer's entry for it at the same causal length that is also gone. Otherwise
   * it is a write the builder never saw (made offline, say), and kept.
   */
  private keepsOnAdoption(k: string, r: unknown, nextMap: Y.Map<unknown>): boolean {
    const split = splitEntryKey(k)
    if (split === null) return false
    const cl = entryCl(r)
    if (cl < this.rowCl(split[0])) return false
    if (this.isDropped(k, r, nextMap)) return false
    for (const w of this.writers) {
      if (w === this.writer) continue
      const ek = entryKey(split[0], w)
      const x = this.raw(ek)
      if (x !== undefined && entryCl(x) === cl && nextMap.get(ek) === undefined && this.isDropped(ek, x, nextMap)) return false
    }
    return true
  }

  /**
   * Drops older generations whose every entry is matched by a newer one, is dead, or
   * belongs to a writer `settled` vouches for: gone for good (departed), or known to have
   * moved to the current generation and to hold exactly what this replica holds there,
   * so it re-applied all it keeps and this replica has it (what it did not re-apply is
   * dead by the delete rule, decided from its own view). Returns the generations dropped.
   */
  dropDrained(settled: (writer: string) => boolean): number[] {
    const dropped: number[] = []
    while (this.prevs.length > 0) {
      const oldest = this.prevs[0]!
      let drained = true
      for (const [k, r] of oldest.map.entries()) {
        const split = splitEntryKey(k)
        if (split === null || settled(split[1])) continue
        const h = entryHlc(r)
        let covered = false
        const cur = this.map.get(k)
        if (cur !== undefined && entryHlc(cur) >= h) covered = true
        if (!covered) {
          const state = this.rowEntries(split[0], false)
          // Dropped with a tombstone or hidden by one: it never counts again.
          if (cur === undefined && !state.raws.some(([w]) => w === split[1])) covered = true
          // A causal length below the row's can never show again (causal lengths only grow).
          else if (entryCl(r) < state.cl) covered = true
        }
        for (let i = 1; !covered && i < this.prevs.length; i++) {
          const o = this.prevs[i]!.map.get(k)
          if (o !== undefined && entryHlc(o) >= h) covered = true
        }
        if (!covered) {
          drained = false
          break
        }
      }
      if (!drained) break
      this.prevs.shift()
      oldest.doc.destroy()
      dropped.push(oldest.generation)
    }
    return dropped
  }

  /** Brings back an older generation from storage (at load, before rows are resolved). */
  restorePrevious(generation: number, state: Uint8Array): void {
    const doc = this.newDoc(this.clientID)
    Y.applyUpdate(doc, state, 'load')
    const map = doc.getMap<unknown>('rows')
    for (const k of map.keys()) {
      const split = splitEntryKey(k)
      if (split !== null) this.writers.add(split[1])
    }
    this.prevs.push({ generation, doc, map })
    this.prevs.sort((a, b) => a.generation - b.generation)
  }

  /** Re-resolves every row (after a generation switch), returning what changed. */
  rematerializeAll(origin: 'local' | 'remote'): ShardRowChange[] {
    const keys = new Set<string>(this.rows.keys())
    for (const k of this.allEntryKeys()) {
      const split = splitEntryKey(k)
      if (split !== null) keys.add(split[0])
    }
    return this.rematerialize(keys, origin)
  }

  /**
   * Items the current generation keeps only as history: overwritten entries (and deleted
   * text). What a new generation would drop. Computed with the digest, cached likewise.
   */
  garbage(): number {
    this.digest()
    return this.deletedCache
  }

  get table(): TableView | null {
    return this.view
  }

  /** Sets the table view and re-resolves every row; returns the rows that changed. */
  setView(view: TableView | null, origin: 'local' | 'remote' = 'remote'): ShardRowChange[] {
    this.view = view
    const keys = new Set<string>(this.rows.keys())
    // With one writer, each entry is a whole row: read them in one pass instead of
    // looking every row up again (this is the cold catch-up path).
    const single = this.writers.size === 1 && this.prevs.length === 0 ? new Map<string, unknown>() : null
    for (const [k, raw] of this.map.entries()) {
      const split = splitEntryKey(k)
      if (split === null) continue
      keys.add(split[0])
      single?.set(split[0], raw)
    }
    for (const p of this.prevs) {
      for (const k of p.map.keys()) {
        const split = splitEntryKey(k)
        if (split !== null) keys.add(split[0])
      }
    }
    this.prefetched = single
    try {
      return this.rematerialize(keys, origin)
    } finally {
      this.prefetched = null
    }
  }

  /** Hash of state vector and delete set: equal hashes mean equal content. Cached until the next update. */
  digest(): number {
    if (this.digestCache === null) {
      const snapshot = Y.snapshot(this.doc)
      let deleted = 0
      for (const ranges of snapshot.ds.clients.values()) for (const r of ranges) deleted += r.len
      this.deletedCache = deleted
      const snap = Y.encodeSnapshot(snapshot)
      let h = 0x811c9dc5
      for (let i = 0; i < snap.length; i++) {
        h ^= snap[i]!
        h = Math.imul(h, 0x01000193)
      }
      this.digestCache = h >>> 0
    }
    return this.digestCache
  }

  /**
   * Digest of everything that decides the rows: the current generation and any older
   * ones still held. Equal between replicas only when they show the same rows for the
   * same reasons (for convergence checks; anti-entropy compares current generations).
   */
  fullDigest(): number {
    let h = this.digest()
    for (const p of this.prevs) {
      const sv = Y.encodeSnapshot(Y.snapshot(p.doc))
      h = Math.imul(h ^ p.generation, 0x01000193) >>> 0
      for (let i = 0; i < sv.length; i++) h = Math.imul(h ^ sv[i]!, 0x01000193) >>> 0
    }
    return h
  }

  /** Writers of entries carrying the row's causal length (its current life, or its delete). */
  liveWriters(rowKey: string): string[] {
    const { cl, raws } = this.rowEntries(rowKey, false)
    return raws.filter(([, raw]) => entryCl(raw) === cl).map(([w]) => w)
  }

  /** The row's causal length: 0 absent, odd live, even deleted. */
  rowCl(rowKey: string): number {
    return this.rowEntries(rowKey, false).cl
  }

  /**
   * Each writer's newest entry for a row, across generations, that counts for it, and
   * the row's causal length from them. An older generation's entry under a key the
   * current generation lacks does not count when that generation dropped it
   * (`isDropped`), nor when its causal length is at most that of such a dropped entry of
   * the row (it belongs to the life the dropped delete ended, or is that delete). An entry
   * the current generation holds always counts: its row was not dropped, or it was
   * written after the drop (a new life, which dropped entries must not hide).
   */
  private rowEntries(rowKey: string, cache = true): { cl: number; raws: Array<[string, unknown]> } {
    const raws: Array<[string, unknown]> = []
    let cl = 0
    let droppedCl = 0
    let older: Array<[string, unknown, number]> | null = null
    for (const w of this.writers) {
      const ek = entryKey(rowKey, w)
      // Written by this node in the current Yjs transaction: nothing else can have changed it.
      const cached = cache ? this.written.get(ek) : undefined
      if (cached !== undefined) {
        if (cached.entry.cl > cl) cl = cached.entry.cl
        raws.push([w, cached.entry])
        continue
      }
      const raw = this.raw(ek)
      if (raw === undefined) continue
      const c = entryCl(raw)
      if (c < 0) {
        this.hooks.onMalformed()
        continue
      }
      if (this.prevs.length === 0 || this.map.get(ek) !== undefined) {
        if (c > cl) cl = c
        raws.push([w, raw])
      } else if (this.isDropped(ek, raw, this.map)) {
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


  /**
   * Runs local writes as one Yjs transaction and hands its encoded update to the replica.
   * Yjs encodes an update only while someone listens, so the listener is attached for
   * local transactions alone: remote updates are persisted as received, not re-encoded.
   */
  transactLocal(fn: () => void): void {
    this.doc.on('update', this.onLocalUpdate)
    try {
      this.doc.transact(() => {
        this.chainSessions()
        fn()
      }, LOCAL_ORIGIN)
    } finally {
      this.doc.off('update', this.onLocalUpdate)
    }
  }

  /**
   * On this process's first local write to the current generation, writes again (same
   * value) the last entry each earlier session of this node wrote there, so the new
   * session's writes depend on them: Yjs integrates them only after everything the
   * earlier sessions wrote, and a node's writes reach every peer in order, across
   * restarts too (`isDropped` relies on it).
   */
  private chainSessions(): void {
    if (this.chained) return
    this.chained = true
    const latest = new Map<number, { key: string; clock: number }>()
    const suffix = WRITER_SEP + this.writer
    for (const [key, item] of (this.map as unknown as { _map: Map<string, Y.Item> })._map) {
      if (item.deleted || item.id.client === this.clientID || !key.endsWith(suffix)) continue
      const l = latest.get(item.id.client)
      if (l === undefined || item.id.clock > l.clock) latest.set(item.id.client, { key, clock: item.id.clock })
    }
    for (const { key } of latest.values()) this.map.set(key, this.map.get(key))
  }

  /**
   * Applies a remote update; true if it must be persisted: it brought something new, or
   * part of it waits for missing dependencies (Yjs keeps that part pending, and the
   * update that later completes it does not carry it). Throws on garbage.
   */
  applyRemote(update: Uint8Array, origin: string): boolean {
    this.changedByLast = false
    Y.applyUpdate(this.doc, update, origin)
    return this.changedByLast || this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null
  }

  private afterTransaction(tr: Y.Transaction): void {
    if (this.quiet) return
    if (tr.doc === this.doc && this.doc.clientID !== this.clientID) {
      // Yjs saw structs under this session's client id arrive from elsewhere (only a bug
      // or a lying peer can send them) and moved the document to a new id: follow it, so
      // later documents of this shard never write under the contested id either.
      this.clientID = this.doc.clientID
      this.hooks.onMalformed()
    }
    if (tr.changed.size > 0 || tr.deleteSet.clients.size > 0) {
      this.digestCache = null
      this.changedByLast = true
    }
    const keys = new Set<string>()
    const remote = tr.origin !== LOCAL_ORIGIN
    const raws = remote ? new Map<string, unknown>() : null
    let maxHlc = -1
    for (const [type, subs] of tr.changed) {
      if (type === (this.map as unknown) || this.prevs.some((p) => (p.map as unknown) === type)) {
        for (const sub of subs) {
          if (sub === null) continue
          const split = splitEntryKey(sub)
          if (split === null) {
            this.hooks.onMalformed()
            continue
          }
          this.writers.add(split[1])
          keys.add(split[0])
          if (raws !== null) {
            const raw = this.raw(sub)
            raws.set(split[0], raw)
            const hlc = entryHlc(raw)
            if (hlc > maxHlc) maxHlc = hlc
          }
        }
      } else {
        const name = this.textNameOf(type)
        if (name === undefined) continue
        const end = name.indexOf(WRITER_SEP)
        if (end > 1) keys.add(name.slice(1, end))
      }
    }
    if (maxHlc >= 0) this.hooks.observe(maxHlc)
    if (keys.size === 0) {
      this.written.clear()
      this.resolvedLocally.clear()
      return
    }
    // A single-writer shard: the raw entries just read are the whole rows.
    if (raws !== null && this.writers.size === 1 && this.prevs.length === 0 && raws.size === keys.size) this.prefetched = raws
    let changes: ShardRowChange[]
    try {
      changes = this.rematerialize(keys, tr.origin === LOCAL_ORIGIN ? 'local' : 'remote')
    } finally {
      this.prefetched = null
    }
    this.written.clear()
    this.resolvedLocally.clear()
    if (changes.length > 0) this.hooks.onRows(this, changes, tr.origin === LOCAL_ORIGIN ? LOCAL_ORIGIN : REMOTE_ORIGIN)
  }

  private textNameOf(type: unknown): string | undefined {
    let name = this.textNames.get(type)
    if (name === undefined) {
      this.textNames = new Map()
      for (const [n, t] of this.doc.share) if (n.startsWith(TEXT_PREFIX)) this.textNames.set(t, n)
      name = this.textNames.get(type)
    }
    return name
  }

  private rematerialize(keys: Iterable<string>, origin: 'local' | 'remote'): ShardRowChange[] {
    const changes: ShardRowChange[] = []
    if (this.view === null) return changes
    const table = this.view.info.name
    for (const key of keys) {
      const before = this.rows.get(key) ?? null
      let after: Row | null
      try {
        const known = this.resolvedLocally.get(key)
        after = known !== undefined ? known : this.resolveRow(key)
      } catch {
        // A row key or entry a broken peer made up: the row stays unresolved, never a crash.
        this.hooks.onMalformed()
        continue
      }
      if (after === null) {
        if (before === null) continue
        this.rows.delete(key)
      } else {
        if (before !== null && sameRow(before, after)) continue
        this.rows.set(key, after)
        this.rowsSum = (this.rowsSum + rowHash(key, after)) >>> 0
      }
      if (before !== null) this.rowsSum = (this.rowsSum - rowHash(key, before)) >>> 0
      changes.push({ table, key, before, after, origin })
    }
    return changes
  }

  /** Rows resolved as deleted that still hold writers' entries (tombstones not yet dropped). */
  deletedRowKeys(): string[] {
    const out = new Set<string>()
    for (const k of this.allEntryKeys()) {
      const split = splitEntryKey(k)
      if (split !== null && !this.rows.has(split[0])) out.add(split[0])
    }
    return [...out]
  }

  /** Entries of one row by writer, only those carrying the row's causal length. */
  private visibleEntries(rowKey: string): { cl: number; entries: Array<[string, WriterEntry]> } {
    let cl = 0
    const raws: Array<[string, unknown]> = []
    if (this.prefetched !== null) {
      const raw = this.prefetched.get(rowKey)
      const w = this.writers.values().next().value as string
      const c = entryCl(raw)
      if (raw !== undefined && c < 0) this.hooks.onMalformed()
      if (c > 0) {
        cl = c
        raws.push([w, raw])
      }
    } else {
      const state = this.rowEntries(rowKey)
      cl = state.cl
      raws.push(...state.raws)
    }
    const entries: Array<[string, WriterEntry]> = []
    if (cl % 2 === 0) return { cl, entries }
    for (const [w, raw] of raws) {
      if (typeof raw === 'object') {
        const e = raw as WriterEntry
        if (e.cl === cl) entries.push([w, e])
        continue
      }
      if (entryCl(raw) !== cl) continue
      const e = parseEntry(raw)
      if (e === null) {
        this.hooks.onMalformed()
        continue
      }
      entries.push([w, e])
    }
    return { cl, entries }
  }

  private resolveRow(rowKey: string): Row | null {
    const view = this.view!
    if (this.prefetched !== null && !view.special) return this.readSingle(rowKey, view)
    const { cl, entries } = this.visibleEntries(rowKey)
    if (cl % 2 === 0 && cl > 0 && this.hooks.onConflict !== undefined) this.noteDeleteConflicts(rowKey, cl, view)
    if (cl % 2 === 0 || entries.length === 0) return null
    const row: Row = {}
    const info = view.info
    const pk = info.primaryKey
    const keyValues = decodeRowKey(rowKey, pk.length)
    if (entries.length === 1 && !view.special) {
      // One writer: every value is its own, nothing to resolve.
      const cols = entries[0]![1].cols
      for (const c of view.layout) row[c.name] = c.pkAt >= 0 ? keyValues[c.pkAt]! : cols.get(c.skey)?.value ?? null
      return row
    }
    for (let i = 0; i < info.columns.length; i++) {
      const col = info.columns[i]!
      const pkAt = pk.indexOf(col.name)
      if (pkAt >= 0) {
        row[col.name] = keyValues[pkAt]!
        continue
      }
      const skey = view.storageKeys.get(col.name) ?? col.name
      row[col.name] = this.resolveColumn(rowKey, cl, col, skey, entries, view, keyValues)
    }
    return row
  }

  /**
   * A deleted row whose previous life holds a write made after the delete by a writer
   * that had not seen it (it would carry the delete's causal length otherwise): the
   * delete won over a concurrent update.
   */
  private noteDeleteConflicts(rowKey: string, cl: number, view: TableView): void {
    let deletedAt = Number.POSITIVE_INFINITY
    const deleters: string[] = []
    const updates: Array<[string, WriterEntry]> = []
    for (const [w, raw] of this.rowEntries(rowKey, false).raws) {
      const c = entryCl(raw)
      if (c === cl) {
        deletedAt = Math.min(deletedAt, entryHlc(raw))
        deleters.push(w)
      } else if (c === cl - 1) {
        const e = parseEntry(raw)
        if (e !== null) updates.push([w, e])
      }
    }
    const losers: ConflictValue[] = []
    for (const [w, e] of updates) {
      if (e.hlc <= deletedAt) continue
      const values: Record<string, string | null> = {}
      for (const [skey, cw] of e.cols) {
        const v = cw.value
        values[view.nameByStorageKey.get(skey) ?? skey] = v === null ? null : v instanceof Uint8Array ? `\\x${[...v].map((b) => b.toString(16).padStart(2, '0')).join('')}` : String(v)
      }
      losers.push({ writer: w, value: JSON.stringify(values), hlc: e.hlc })
    }
    if (losers.length === 0) return
    this.hooks.onConflict!({
      table: view.info.name,
      key: decodeRowKey(rowKey, view.info.primaryKey.length),
      column: null,
      kind: 'delete_update',
      policy: 'delete_wins',
      winner: { writer: deleters.sort()[0]!, value: null, hlc: deletedAt },
      losers,
    })
  }

  /** Row of a single-writer shard straight from its one entry, without intermediate objects. */
  private readSingle(rowKey: string, view: TableView): Row | null {
    const raw = this.prefetched!.get(rowKey)
    if (raw === undefined) return null
    const row: Row = {}
    const keyValues = decodeRowKey(rowKey, view.info.primaryKey.length)
    for (const c of view.layout) row[c.name] = c.pkAt >= 0 ? keyValues[c.pkAt]! : null
    const head = scanEntry(raw, (skey, value, _hlc, depsStart, depsEnd) => {
      if (depsEnd > depsStart && !validDeps(raw as string, depsStart, depsEnd)) return false
      const name = view.nameByStorageKey.get(skey)
      if (name !== undefined) row[name] = value
      return true
    })
    if (head === null) {
      this.hooks.onMalformed()
      return null
    }
    return head.cl % 2 === 1 ? row : null
  }

  private resolveColumn(rowKey: string, cl: number, col: ColumnInfo, skey: string, entries: Array<[string, WriterEntry]>, view: TableView, keyValues: Value[]): Value {
    if (hasEpochs(col)) return this.foldColumn(col, skey, entries, view, col.epochs!.length)
    if (col.kind === 'counter') return sumCounter(entries, skey)
    const candidates = concurrentValues(entries, skey)
    const policy = col.kind === 'text' ? 'last_write_wins' : view.policies.get(col.name) ?? 'last_write_wins'
    const v = resolve(policy, candidates, this.hooks.resolvers, { table: view.info.name, column: col })
    if (col.kind === 'text' && v !== null) return this.doc.getText(textName(rowKey, skey, cl)).toString()
    if (candidates.length > 1 && col.kind === 'register' && this.hooks.onConflict !== undefined) this.noteColumnConflict(col, skey, entries, candidates, policy, v, view, keyValues)
    return v
  }

  /** A column whose kind changed, from its epochs 0..upto (merge/column-epochs.ts). */
  private foldColumn(col: ColumnInfo, skey: string, entries: Array<[string, WriterEntry]>, view: TableView, upto: number): Value {
    const policy = view.policies.get(col.name) ?? 'last_write_wins'
    return foldEpochs(
      col,
      skey,
      upto,
      (key) => {
        const candidates = concurrentValues(entries, key)
        return candidates.length === 0 ? undefined : resolve(policy, candidates, this.hooks.resolvers, { table: view.info.name, column: col })
      },
      (key) => sumCounter(entries, key),
    )
  }

  /**
   * Concurrent values of one column a policy chose between: an insert_insert when every
   * one of them was written by its writer's first write of this life of the row (its
   * insert), else an update_update.
   */
  private noteColumnConflict(col: ColumnInfo, skey: string, entries: Array<[string, WriterEntry]>, candidates: Candidate[], policy: PolicySpec, v: Value, view: TableView, keyValues: Value[]): void {
    const contending = contenders(candidates)
    if (contending.length < 2) return
    const inserts = contending.every((c) => {
      const e = entries.find(([w]) => w === c.writer)?.[1]
      return e !== undefined && (e.born ?? e.hlc) === e.cols.get(skey)?.hlc
    })
    let winnerAt = contending.findIndex((c) => sameValue(c.value, v))
    if (policy === 'last_write_wins') winnerAt = contending.length - 1
    else if (policy === 'first_write_wins') winnerAt = 0
    const winner: ConflictValue = winnerAt >= 0 ? toConflictValue(contending[winnerAt]!) : { writer: policyName(policy), value: v, hlc: Math.max(...contending.map((c) => c.hlc)) }
    this.hooks.onConflict!({
      table: view.info.name,
      key: keyValues,
      column: col.name,
      kind: inserts ? 'insert_insert' : 'update_update',
      policy: policyName(policy),
      winner,
      losers: contending.filter((_c, i) => i !== winnerAt).map(toConflictValue),
    })
  }

  /**
   * Applies one committed transaction's writes to rows of this shard, as this node.
   * Must run inside `doc.transact(.., LOCAL_ORIGIN)`.
   */
  applyWrite(rowKey: string, write: RowWrite, writer: string, hlc: number, keyValues?: readonly Value[]): void {
    const view = this.view
    if (view === null) throw new Error(`shard ${this.id} has no table`)
    const key = entryKey(rowKey, writer)
    const alone = this.prevs.length === 0 && (this.writers.size === 0 || (this.writers.size === 1 && this.writers.has(writer)))
    let rowCl = 0
    let ownRaw: unknown
    if (alone) {
      ownRaw = this.map.get(key)
      if (ownRaw !== undefined) rowCl = Math.max(0, entryCl(ownRaw))
    } else {
      const state = this.rowEntries(rowKey, false)
      rowCl = state.cl
      ownRaw = state.raws.find(([w]) => w === writer)?.[1]
    }
    const baseLive = rowCl % 2 === 1
    if (!write.live) {
      if (baseLive) {
        const raw = encodeEntry({ cl: rowCl + 1, hlc, cols: new Map() })
        this.map.set(key, raw)
        this.hooks.onLocalEntry?.(this, key, raw)
        if (alone) this.resolvedLocally.set(rowKey, null)
      }
      return
    }
    const newCl = !baseLive ? rowCl + 1 : write.reset ? rowCl + 2 : rowCl
    const own = ownRaw !== undefined && entryCl(ownRaw) === newCl ? parseEntry(ownRaw) : null
    // Still the same life of the row for this writer: it keeps its birth time.
    const born = own === null ? hlc : own.born ?? own.hlc
    const cols = own !== null ? own.cols : new Map<string, ColumnWrite>()
    const others = newCl === rowCl && !alone ? this.visibleEntries(rowKey).entries.filter(([w]) => w !== writer) : []
    write.cols.forEach((value, name) => {
      const col = view.columns.get(name)
      if (col === undefined) return
      const stored = view.storageKeys.get(name) ?? name
      const skey = writeKey(col, stored)
      if (col.kind === 'counter') {
        // Setting a counter sets the total: this writer's share is what the rest lacks.
        let rest = sumCounter(others, skey)
        if (hasEpochs(col) && newCl === rowCl) {
          const visible: Array<[string, WriterEntry]> = alone ? (own !== null ? [[writer, own]] : []) : this.visibleEntries(rowKey).entries
          rest = addCounter(rest, this.foldColumn(col, stored, visible, view, col.epochs!.length - 1))
        }
        cols.set(skey, { value: subtractCounter(value, rest), hlc, deps: null })
        return
      }
      const seen = others.length === 0 ? null : concurrentValues(others, skey)
      const deps = seen === null || seen.length === 0 ? null : seen.map((c) => [c.writer, c.hlc] as const)
      if (col.kind === 'text') {
        if (value !== null) setText(this.doc.getText(textName(rowKey, skey, newCl)), String(value))
        cols.set(skey, { value: value === null ? null : 1, hlc, deps })
      } else {
        cols.set(skey, write.dflt?.has(name) === true ? { value, hlc, deps, dflt: true } : { value, hlc, deps })
      }
    })
    for (const [name, delta] of write.incr) {
      const col = view.columns.get(name)
      const stored = view.storageKeys.get(name) ?? name
      const skey = col === undefined ? stored : writeKey(col, stored)
      const mine = cols.get(skey)?.value ?? 0
      cols.set(skey, { value: addCounter(mine, delta), hlc, deps: null })
    }
    const entry: WriterEntry = { cl: newCl, hlc, born, cols }
    const raw = encodeEntry(entry)
    if (!alone || view.special) this.written.set(key, { raw, entry })
    this.map.set(key, raw)
    this.hooks.onLocalEntry?.(this, key, raw)
    if (alone && !view.special && keyValues !== undefined) {
      // Sole writer of a plain row: its values are the row, nothing to resolve.
      const row: Row = {}
      for (const c of view.layout) row[c.name] = c.pkAt >= 0 ? keyValues[c.pkAt]! : cols.get(c.skey)?.value ?? null
      this.resolvedLocally.set(rowKey, row)
    }
  }

  /**
   * Hash of the materialized rows, independent of their order: replicas holding the same
   * Yjs state must agree on it. Anti-entropy compares it to catch content that differs
   * under equal state vectors (see ShardDigest.rows).
   */
  get rowsHash(): number {
    return this.rowsSum
  }

  /** Number of live rows. */
  get size(): number {
    return this.rows.size
  }
}

export function textName(rowKey: string, columnKey: string, cl: number): string {
  return TEXT_PREFIX + rowKey + WRITER_SEP + columnKey + WRITER_SEP + cl
}

/** Values of one column nobody has superseded: the multi-value register's current set. */
function concurrentValues(entries: Array<[string, WriterEntry]>, skey: string): Candidate[] {
  const all: Array<{ writer: string; w: ColumnWrite }> = []
  for (const [writer, e] of entries) {
    const w = e.cols.get(skey)
    if (w !== undefined) all.push({ writer, w })
  }
  if (all.length <= 1) return all.map(({ writer, w }) => ({ writer, value: w.value, hlc: w.hlc }))
  const out: Candidate[] = []
  for (const a of all) {
    let superseded = false
    for (const b of all) {
      if (b === a || b.w.deps === null) continue
      for (const [dw, dt] of b.w.deps) {
        if (dw === a.writer && dt >= a.w.hlc) {
          superseded = true
          break
        }
      }
      if (superseded) break
    }
    if (!superseded) out.push(a.w.dflt === true ? { writer: a.writer, value: a.w.value, hlc: a.w.hlc, dflt: true } : { writer: a.writer, value: a.w.value, hlc: a.w.hlc })
  }
  return out
}

function sumCounter(entries: Array<[string, WriterEntry]>, skey: string): Value {
  let sum: number | bigint = 0
  let any = false
  for (const [, e] of entries) {
    const w = e.cols.get(skey)
    if (w === undefined || w.value === null) continue
    any = true
    sum = addCounter(sum, w.value)
  }
  return any ? sum : null
}

/** Replaces a Y.Text's content by editing only the part that differs, so concurrent edits elsewhere survive. */
function setText(text: Y.Text, next: string): void {
  const prev = text.toString()
  if (prev === next) return
  let start = 0
  const max = Math.min(prev.length, next.length)
  while (start < max && prev.charCodeAt(start) === next.charCodeAt(start)) start++
  let endPrev = prev.length
  let endNext = next.length
  while (endPrev > start && endNext > start && prev.charCodeAt(endPrev - 1) === next.charCodeAt(endNext - 1)) {
    endPrev--
    endNext--
  }
  if (endPrev > start) text.delete(start, endPrev - start)
  if (endNext > start) text.insert(start, next.slice(start, endNext))
}

/** FNV-1a over a row's key and its values, each tagged with its type. */
function rowHash(key: string, row: Row): number {
  let h = 0x811c9dc5
  const str = (s: string) => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
    h = Math.imul(h ^ 0xff, 0x01000193)
  }
  str(key)
  for (const name in row) {
    str(name)
    const v = row[name]!
    if (v === null) str('\u0000n')
    else if (v instanceof Uint8Array) {
      h = Math.imul(h ^ 0x62, 0x01000193)
      for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v[i]!, 0x01000193)
    } else str(`${typeof v}:${String(v)}`)
  }
  return h >>> 0
}

function toConflictValue(c: Candidate): ConflictValue {
  return { writer: c.writer, value: c.value, hlc: c.hlc }
}

function sameValue(x: Value, y: Value): boolean {
  if (x === y) return true
  if (x instanceof Uint8Array && y instanceof Uint8Array) return x.length === y.length && x.every((b, i) => b === y[i])
  return false
}

function sameRow(a: Row, b: Row): boolean {
  for (const k in b) {
    const x = a[k]
    const y = b[k]
    if (x === y) continue
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      if (x.length !== y.length || x.some((v, i) => v !== y[i])) return false
      continue
    }
    return false
  }
  for (const k in a) if (!(k in b)) return false
  return true
}
