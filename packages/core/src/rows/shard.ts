/**
 * A shard: the replication unit (docs/decisions/0002-shard-documents.md). One Y.Doc
 * holding the rows of one table incarnation and partition, and the materialized rows
 * resolved from it. This file holds the document, local writes, the integration of
 * remote updates and the materialized rows; the merge rules live in merge/, row
 * resolution in row-resolver.ts, and building, adopting and draining generations in
 * generations/.
 *
 * Layout of the Y.Doc:
 * - top-level map `rows`: flat writer entries `rowKey U+0000 nodeId` (codec/writer-entry.ts);
 * - one top-level Y.Text per (row, text column, causal length), named
 *   `U+0003 rowKey U+0000 columnKey U+0000 cl`: top-level types are identified by name, so
 *   two nodes that create the same text concurrently share one, and no edit is lost;
 * - top-level map `frontier`, written once by the builder of a generation
 *   (generations/overlays.ts).
 *
 * Invariant: after every Yjs transaction on the doc, `rows` holds exactly the resolution
 * of the entries of every row that transaction touched, and a change event has been
 * emitted for each row whose resolution differs. Local writes and remote updates take
 * this same path (the doc's `afterTransaction`), so they cannot disagree.
 */
import * as Y from 'yjs'
import { decodeRowKey, entryKey, splitEntryKey, WRITER_SEP } from '../codec/row-key.js'
import { encodeEntry, entryCl, entryHlc, parseEntry, type WriterEntry } from '../codec/writer-entry.js'
import { fnv1a } from '../codec/checksum.js'
import type { TableView } from '../catalog/table-view.js'
import { assert } from '../errors/assert.js'
import { entriesToReapply } from '../generations/adoption.js'
import { isDrained } from '../generations/drain.js'
import { allEntryKeys, countingEntries, newestEntry, type EntrySource, type HeldGeneration } from '../generations/overlays.js'
import { GenerationBuild, hasHalfAppliedWrites, writeGeneration } from '../generations/rewrite.js'
import { clAfter, deleteUpdateConflict, isLive } from '../merge/causal-length.js'
import type { ResolverLookup } from '../merge/policy.js'
import { setText } from '../merge/text.js'
import type { ConflictRecord, Row, RowChange, Value } from '../types.js'
import { KeptDeleteSet, snapshotDigest } from '../yjs/kept-delete-set.js'
import { deletedItemCount, fitContent, hasPendingUpdates, itemValue, LeanDoc, mapItems, whileUpdating } from '../yjs/yjs-internals.js'
import { UpdateSlicer } from '../yjs/update-slices.js'
import { freshEntryText, localEntry, type LocalWriteContext } from './local-write.js'
import type { RowWrite } from './row-write.js'
import { readSingleWriterRow, resolveLiveRow, type ResolveContext } from './row-resolver.js'
import { rowHash, sameRow } from './row-hash.js'
import { snapshotRows, snapshotStateVector, stateVectorField, viewFingerprint, type LogPosition, type ShardRowCapture, type ShardRowSnapshot } from './row-snapshot.js'
import type { StoredRecord } from '../api.js'

export const LOCAL_ORIGIN = 'local'
export const REMOTE_ORIGIN = 'remote'
/** Origin of Yjs transactions that restore stored state or keep books: nothing to persist or publish. */
export const LOAD_ORIGIN = 'load'
const TEXT_PREFIX = '\u0003'
/** Updated or deleted rows `rowsHash` may leave unsummed before it sums them anyway (a bulk rewrite's rows, hashed as they come). */
const MAX_UNSUMMED = 1024

/** A row change as the replica hands it on (the shard fills in table and origin). */
export type ShardRowChange = RowChange

/** A generation being built in parts (`Shard.beginGeneration`). */
export interface PendingGeneration {
  readonly generation: number
  readonly build: GenerationBuild
  /** The generation and digest the shard had when the build began. */
  readonly from: number
  readonly digest: number
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
  private currentDoc: Y.Doc
  private currentMap: Y.Map<unknown>
  /**
   * Set while the rows came from a row snapshot and the stored records that hold them
   * are not yet applied to the document (see `restoreRows`): the first use of the
   * document applies them (`doc`, `map`), and what the snapshot knows of the document
   * (digest, garbage, entry count) answers until then.
   */
  private deferred: Deferred | null = null
  /** Set while deferred records are applied: the rows are known, only the books are kept. */
  private booksOnly = false
  /** Counts the document's transactions and loads: a shard whose count stands still is idle (ShardHibernation). */
  activity = 0
  /** Hibernated documents loaded again, and those whose digest then differed from the one kept (a bug: none expected). */
  wakes = 0
  wakeMismatches = 0
  /**
   * Older generations still holding entries the current one lacks (writes their owners
   * have not re-applied yet), oldest first. Read-only overlays (generations/overlays.ts).
   */
  readonly prevs: HeldGeneration[] = []
  /** Every node that has an entry in this shard. */
  readonly writers = new Set<string>()
  /**
   * The writers with an entry of each row, in any generation (a writer alone, as a
   * string, saves a set per row). Kept wherever `writers` learns of an entry, so a row
   * is resolved from its own writers: the catalog shard has an entry per member, and
   * going through every writer of the shard per row made each catalog change O(members)
   * per replica (issue 20). May name writers whose entries are gone (looked up, absent).
   * Kept only once the shard has a second writer: while `writers` holds one, every row's
   * writer is that one, and a map of every row to the same name was memory and a map
   * insert per row for nothing (issue 13). `noteWriter` fills it from the entries when
   * the second writer appears.
   */
  private readonly rowWriters = new Map<string, string | Set<string>>()
  /** Materialized rows by row key. Empty while the table is unknown. */
  readonly rows = new Map<string, Row>()
  generation = 0
  /** Deleted rows whose entries generations built here dropped (their delete was stable). */
  tombstonesDropped = 0
  private view: TableView | null = null
  private readonly hooks: ShardHooks
  private readonly resolveContext: ResolveContext
  private readonly writeContext: LocalWriteContext
  private textNames = new Map<unknown, string>()
  /** Entries this node wrote in the current Yjs transaction, already parsed (saves re-parsing on materialize). */
  private readonly written = new Map<string, { raw: string; entry: WriterEntry }>()
  /** Rows this node wrote in the current Yjs transaction while it was their only writer: already resolved. */
  private readonly resolvedLocally = new Map<string, Row | null>()
  /**
   * While a sliced commit holds the shard (`hold`): the rows its Yjs transactions touched,
   * resolved only at `release`, so the materialized rows show none of the commit until
   * all of it is in (local: this node's writes; remote: peers' updates meanwhile). Null
   * when not held.
   */
  private held: { local: Set<string>; remote: Set<string>; all: boolean } | null = null
  private digestCache: number | null = null
  /** Order-independent hash of the materialized rows (see `rowsHash`) but those in `unsummed`. */
  private rowsSum = 0
  /**
   * Rows updated or deleted since `rowsSum` last took them in, each with the hash of the
   * row it held then (int32). `rowsHash` brings the sum up to date: a row rewritten by many
   * commits between two digests (pgbench's one branch row) is hashed twice, not twice per
   * commit. A new row is summed at once (a bulk load's rows pay nothing more). Bounded by
   * MAX_UNSUMMED.
   */
  private readonly unsummed = new Map<string, number>()
  private deletedCache = 0
  /** The current generation's delete set, kept per transaction: a digest costs the changes since the last, not the shard. */
  private readonly deletes = new KeptDeleteSet()
  /**
   * Keys of the current generation's `rows` map whose newest item is deleted (a remote
   * overwrite whose delete arrived before its new value), kept after every transaction:
   * the live entry count without walking the map.
   */
  private readonly absentKeys = new Set<string>()
  /**
   * Row keys resolved as deleted that still hold entries (`deletedRowKeys`), kept as rows
   * are resolved; null when a generation switch or an unknown table left it to be rebuilt
   * by one scan.
   */
  private deletedRows: Set<string> | null = null
  /** The 'update' listener a local transaction registers, alone in its Set (`whileUpdating`). */
  private readonly localUpdateListener: Set<(update: Uint8Array) => void>
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
  /** Inside applyRemoteTogether: remote updates join one Yjs transaction. */
  private together = false
  /** Set while `transactLocal` runs: the only place local writes may happen. */
  private writing = false
  private readonly countMalformed = (): void => this.hooks.onMalformed()

  constructor(id: string, clientID: number, writer: string, hooks: ShardHooks) {
    this.id = id
    this.hooks = hooks
    this.clientID = clientID
    this.writer = writer
    this.currentDoc = this.newDoc(clientID)
    this.currentMap = this.currentDoc.getMap('rows')
    this.localUpdateListener = new Set([(update: Uint8Array) => hooks.onUpdate(this, update, LOCAL_ORIGIN)])
    this.resolveContext = {
      resolvers: hooks.resolvers,
      text: (rowKey, skey, cl) => this.doc.getText(textName(rowKey, skey, cl)).toString(),
      onConflict: hooks.onConflict,
    }
    this.writeContext = {
      resolvers: hooks.resolvers,
      visible: (rowKey, writer, own) => (this.alone(writer) ? (own !== null ? [[writer, own]] : []) : this.visibleEntries(rowKey).entries),
      setText: (rowKey, skey, cl, text) => setText(this.doc.getText(textName(rowKey, skey, cl)), text),
    }
  }

  /** The current generation's document; replaced when a new generation is adopted. */
  get doc(): Y.Doc {
    if (this.deferred !== null) this.applyDeferred()
    return this.currentDoc
  }

  set doc(doc: Y.Doc) {
    this.currentDoc = doc
  }

  /** The current generation's `rows` map. */
  get map(): Y.Map<unknown> {
    if (this.deferred !== null) this.applyDeferred()
    return this.currentMap
  }

  set map(map: Y.Map<unknown>) {
    this.currentMap = map
  }

  private newDoc(clientID: number): Y.Doc {
    const doc = new LeanDoc({ gc: true })
    doc.clientID = clientID
    doc.on('afterTransaction', (tr: Y.Transaction) => this.afterTransaction(tr))
    return doc
  }

  /**
   * Notes that `writer` has an entry of the row. Called once the entry is in one of the
   * generations' maps, or just before it is put there (a local write): the rows of the
   * sole writer are read back from those maps when a second writer appears.
   */
  private noteWriter(rowKey: string, writer: string): void {
    if (this.writers.size <= 1) {
      if (this.writers.size === 0 || this.writers.has(writer)) {
        this.writers.add(writer)
        return
      }
      this.keepRowWriters()
    }
    this.writers.add(writer)
    const known = this.rowWriters.get(rowKey)
    if (known === undefined) this.rowWriters.set(rowKey, writer)
    else if (typeof known === 'string') {
      if (known !== writer) this.rowWriters.set(rowKey, new Set([known, writer]))
    } else known.add(writer)
  }

  /** The second writer is here: every entry key so far (deleted ones too) names the first. */
  private keepRowWriters(): void {
    const sole = this.writers.values().next().value as string
    for (const map of [this.map, ...this.prevs.map((p) => p.map)]) {
      for (const ek of mapItems(map).keys()) {
        const split = splitEntryKey(ek)
        if (split !== null && split[1] === sole) this.rowWriters.set(split[0], sole)
      }
    }
  }

  private writersOf(rowKey: string): Iterable<string> {
    if (this.writers.size <= 1) return this.writers
    const known = this.rowWriters.get(rowKey)
    return known === undefined ? [] : typeof known === 'string' ? [known] : known
  }

  /** A key's newest entry across the current and older generations (generations/overlays.ts). */
  private raw(ek: string): unknown {
    return newestEntry(ek, this.map, this.prevs)
  }

  /** The shard's entries as generation building, adoption and draining read them. */
  private entrySource(): EntrySource {
    return { map: this.map, prevs: this.prevs, writers: this.writers, raw: (ek) => this.raw(ek), rowEntries: (rowKey) => this.rowEntries(rowKey, false) }
  }

  /** Timestamp of a writer's newest entry for a row, across generations; null if none. */
  entryTimestamp(rowKey: string, writer: string): number | null {
    const r = this.raw(entryKey(rowKey, writer))
    if (r === undefined) return null
    const h = entryHlc(r)
    return h < 0 ? null : h
  }

  /**
   * True when the table has text columns (or the shard holds Y.Texts anyway): generations
   * do not rebuild Y.Texts, so such shards are never compacted. Decided from the schema,
   * so every replica agrees even before any text was written.
   */
  get hasText(): boolean {
    if (this.view?.info.columns.some((c) => c.kind === 'text')) return true
    // A row snapshot is taken only of a document holding no Y.Text (rowSnapshot).
    if (this.deferred !== null) return false
    for (const name of this.doc.share.keys()) if (name.startsWith(TEXT_PREFIX)) return true
    return false
  }

  /** See generations/rewrite.ts: the builder waits while a remote overwrite is half applied. */
  hasHalfAppliedWrites(ignore: (writer: string) => boolean): boolean {
    return hasHalfAppliedWrites(this.map, ignore)
  }

  // ---- generations (generations/) -------------------------------------------------

  /**
   * Rewrites this shard, on the node that builds generations, as generation `generation`
   * (generations/rewrite.ts): a fresh document whose base is written by client id
   * `builderClient`, leaving out the rows in `stableDeleted` (deleted, and the delete
   * stable: see Housekeeper.stableDeletes). Returns the new state, whole.
   */
  rewriteAsGeneration(generation: number, builderClient: number, stableDeleted: ReadonlySet<string> = new Set()): Uint8Array {
    assert(generation > this.generation, 'a new generation is above the current one')
    const doc = this.newDoc(builderClient)
    const dropped = writeGeneration(this.entrySource(), doc, stableDeleted)
    return this.switchToBuilt(generation, doc, dropped)
  }

  /**
   * Starts building generation `generation` in parts (`GenerationBuild.step`, the event
   * loop served between them); `finishGeneration` switches to it. Null when the shard
   * holds an older generation, is held or hibernated: `rewriteAsGeneration` then.
   */
  beginGeneration(generation: number, builderClient: number, stableDeleted: ReadonlySet<string>): PendingGeneration | null {
    assert(generation > this.generation, 'a new generation is above the current one')
    if (this.prevs.length > 0 || this.held !== null || this.deferred !== null) return null
    const build = new GenerationBuild(this.entrySource(), this.newDoc(builderClient), stableDeleted)
    return { generation, build, from: this.generation, digest: this.digest() }
  }

  /**
   * Switches to a generation built in parts and returns its state, whole; null (the build
   * dropped) when the shard changed since it began (a write, a remote update, another
   * generation, a hold, hibernation): the next round builds again.
   */
  finishGeneration(pending: PendingGeneration): Uint8Array | null {
    const unchanged = this.generation === pending.from && this.prevs.length === 0 && this.held === null && this.deferred === null && this.digest() === pending.digest
    if (!unchanged) {
      pending.build.doc.destroy()
      return null
    }
    return this.switchToBuilt(pending.generation, pending.build.doc, pending.build.dropped)
  }

  private switchToBuilt(generation: number, doc: Y.Doc, dropped: ReadonlySet<string>): Uint8Array {
    this.tombstonesDropped += dropped.size
    // From here on this node writes into the new generation under its own client id,
    // and has no earlier session of its own in it to chain onto.
    doc.clientID = this.clientID
    this.chained = true
    for (const p of this.prevs) p.doc.destroy()
    this.prevs.length = 0
    this.doc.destroy()
    this.doc = doc
    this.map = doc.getMap<unknown>('rows')
    this.generation = generation
    this.digestCache = null
    this.newGenerationBooks()
    return Y.encodeStateAsUpdate(doc)
  }

  /**
   * Switches to generation `generation` whose state is `state`, re-applying this node's
   * own entries it lacks (generations/adoption.ts). The old document stays as an overlay
   * until drained. Returns the re-applied entry count.
   */
  adoptGeneration(generation: number, state: Uint8Array): number {
    assert(generation > this.generation, 'an adopted generation is above the current one')
    const next = this.newDoc(this.clientID)
    Y.applyUpdate(next, state, LOAD_ORIGIN)
    const nextMap = next.getMap<unknown>('rows')
    const { reapply, own } = entriesToReapply(this.entrySource(), this.writer, nextMap)
    const old = { generation: this.generation, doc: this.doc, map: this.map }
    this.prevs.push(old)
    this.doc = next
    this.map = nextMap
    this.generation = generation
    this.digestCache = null
    this.newGenerationBooks()
    this.chained = true
    for (const k of nextMap.keys()) {
      const split = splitEntryKey(k)
      if (split !== null) this.noteWriter(split[0], split[1])
    }
    // This node's own entries are settled now (re-applied, or dead by the delete rule):
    // the old generation keeps only other writers' entries, still to be re-applied.
    this.quiet = true
    try {
      old.doc.transact(() => {
        for (const k of own) old.map.delete(k)
      }, LOAD_ORIGIN)
    } finally {
      this.quiet = false
    }
    if (reapply.length > 0) this.transactLocal(() => {
      for (const [k, r] of reapply) nextMap.set(k, r)
    })
    return reapply.length
  }

  /**
   * Drops older generations, oldest first, while the oldest is drained
   * (generations/drain.ts; `settled` vouches for writers). Returns the generations dropped.
   */
  dropDrained(settled: (writer: string) => boolean): number[] {
    const dropped: number[] = []
    const source = this.entrySource()
    while (this.prevs.length > 0) {
      const oldest = this.prevs[0]!
      if (!isDrained(oldest, source, settled)) break
      this.prevs.shift()
      oldest.doc.destroy()
      dropped.push(oldest.generation)
      this.deletedRows = null
    }
    return dropped
  }

  /** Brings back an older generation from storage (at load, before rows are resolved). */
  restorePrevious(generation: number, state: Uint8Array): void {
    assert(generation < this.generation, 'an overlay is older than the current generation')
    const doc = this.newDoc(this.clientID)
    Y.applyUpdate(doc, state, LOAD_ORIGIN)
    const map = doc.getMap<unknown>('rows')
    // Held before its writers are noted: a second writer met among them reads the first's rows from every map.
    this.prevs.push({ generation, doc, map })
    this.prevs.sort((a, b) => a.generation - b.generation)
    for (const k of map.keys()) {
      const split = splitEntryKey(k)
      if (split !== null) this.noteWriter(split[0], split[1])
    }
    this.deletedRows = null
  }

  /** Resets what is kept per generation after a switch to a new current document (one scan; the switch costs as much). */
  private newGenerationBooks(): void {
    this.deletes.reset(this.doc)
    this.absentKeys.clear()
    for (const [k, item] of mapItems(this.map)) if (item.deleted) this.absentKeys.add(k)
    this.deletedRows = null
  }

  // ---- holds (a sliced commit: docs/decisions/0038-sliced-commits.md) ---------------------

  /** True while a sliced commit holds the shard (`hold` .. `release`). */
  get isHeld(): boolean {
    return this.held !== null
  }

  /**
   * Starts a hold: local transactions from now on change the document but not the
   * materialized rows, which keep showing the rows as they were; `release` resolves every
   * row changed meanwhile, in one step.
   */
  hold(): void {
    assert(this.held === null, () => `shard ${this.id} is held already`)
    // A hibernated document is loaded before the first slice writes into it.
    if (this.deferred !== null) this.applyDeferred()
    this.held = { local: new Set(), remote: new Set(), all: false }
  }

  /** Ends a hold: resolves the rows changed during it and returns what changed. */
  release(): ShardRowChange[] {
    const held = this.held
    assert(held !== null, () => `shard ${this.id} is not held`)
    this.held = null
    try {
      if (held.all) return this.setView(this.view, 'remote')
      for (const k of held.local) held.remote.delete(k)
      return [...this.rematerialize(held.remote, 'remote'), ...this.rematerialize(held.local, 'local')]
    } finally {
      this.written.clear()
      this.resolvedLocally.clear()
    }
  }

  /** Re-resolves every row (after a generation switch), returning what changed. */
  rematerializeAll(origin: 'local' | 'remote'): ShardRowChange[] {
    const keys = new Set<string>(this.rows.keys())
    for (const k of allEntryKeys(this.map, this.prevs)) {
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

  /**
   * Rows resolved as deleted that still hold writers' entries (tombstones not yet dropped).
   * Kept as rows are resolved: costs the number of such rows, not of all rows (one scan
   * after a generation switch).
   */
  deletedRowKeys(): string[] {
    if (this.deletedRows === null) {
      const out = new Set<string>()
      for (const k of allEntryKeys(this.map, this.prevs)) {
        const split = splitEntryKey(k)
        if (split !== null && !this.rows.has(split[0])) out.add(split[0])
      }
      this.deletedRows = out
    }
    return [...this.deletedRows]
  }

  /** Whether some row resolved as deleted still holds writers' entries. */
  hasDeletedRows(): boolean {
    return this.deletedRows === null ? this.deletedRowKeys().length > 0 : this.deletedRows.size > 0
  }

  /** Writers' entries the given rows hold (one per writer of each, across generations). */
  entriesOfRows(rowKeys: Iterable<string>): number {
    let n = 0
    for (const k of rowKeys) {
      const w = this.writersOf(k)
      n += w instanceof Set ? w.size : Array.isArray(w) ? w.length : [...w].length
    }
    return n
  }

  /** Live entries of the current generation (what `map.size` counts, without walking the map). */
  get entryCount(): number {
    if (this.deferred !== null) return this.deferred.entries
    return mapItems(this.map).size - this.absentKeys.size
  }

  /**
   * Recomputes from scratch what this shard keeps up to date per change (the digest and
   * garbage count, `entryCount`, `deletedRowKeys`) and describes the first that differs; null when all agree. For the
   * simulator, which audits them as it goes.
   */
  auditBooks(): string | null {
    const snapshot = Y.snapshot(this.doc)
    const digest = snapshotDigest(snapshot)
    if (this.digest() !== digest) return `shard ${this.id}: digest ${this.digest()}, recomputed ${digest}`
    if (this.deletedCache !== deletedItemCount(snapshot)) return `shard ${this.id}: ${this.deletedCache} deleted items kept, ${deletedItemCount(snapshot)} counted`
    if (this.entryCount !== this.map.size) return `shard ${this.id}: entryCount ${this.entryCount}, map holds ${this.map.size}`
    if (this.deletedRows !== null) {
      const kept = [...this.deletedRows].sort()
      this.deletedRows = null
      const scanned = this.deletedRowKeys().sort()
      if (kept.join('\u0001') !== scanned.join('\u0001')) return `shard ${this.id}: deleted rows kept [${kept}], scanned [${scanned}]`
    }
    return null
  }

  /** Keeps `deletedRows` for a row just resolved: deleted (or unresolvable) while entries of it remain. */
  private trackDeleted(rowKey: string): void {
    const deleted = this.deletedRows
    if (deleted === null) return
    if (!this.rows.has(rowKey) && this.holdsEntries(rowKey)) deleted.add(rowKey)
    else deleted.delete(rowKey)
  }

  /** Whether any generation holds a live entry of the row. */
  private holdsEntries(rowKey: string): boolean {
    for (const w of this.writersOf(rowKey)) {
      const ek = entryKey(rowKey, w)
      if (this.map.get(ek) !== undefined) return true
      for (const p of this.prevs) if (p.map.get(ek) !== undefined) return true
    }
    return false
  }

  // ---- table and digests --------------------------------------------------------

  get table(): TableView | null {
    return this.view
  }

  viewName(): string | undefined {
    return this.view?.info.name
  }

  /** Sets the table view and re-resolves every row; returns the rows that changed. */
  setView(view: TableView | null, origin: 'local' | 'remote' = 'remote'): ShardRowChange[] {
    this.view = view
    if (this.held !== null) {
      // Held: every row is resolved at release, under this view.
      this.held.all = true
      return []
    }
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
    // Every row holding entries is resolved below: the deleted ones are known afresh.
    if (view !== null) this.deletedRows = new Set()
    try {
      return this.rematerialize(keys, origin)
    } finally {
      this.prefetched = null
    }
  }

  /** Hash of state vector and delete set: equal hashes mean equal content. Cached until the next update. */
  digest(): number {
    if (this.deferred !== null) {
      this.deletedCache = this.deferred.garbage
      return this.deferred.digest
    }
    if (this.digestCache === null) {
      this.deletedCache = this.deletes.count()
      this.digestCache = this.deletes.digest(this.doc)
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
    for (const p of this.prevs) h = fnv1a(Y.encodeSnapshot(Y.snapshot(p.doc)), Math.imul(h ^ p.generation, 0x01000193) >>> 0)
    return h
  }

  /**
   * Hash of the materialized rows, independent of their order: replicas holding the same
   * Yjs state must agree on it. Anti-entropy compares it to catch content that differs
   * under equal state vectors (see ShardDigest.rows).
   */
  get rowsHash(): number {
    if (this.unsummed.size > 0) this.sumRows()
    return this.rowsSum
  }

  /** Takes the rows in `unsummed` into `rowsSum`. */
  private sumRows(): void {
    let sum = this.rowsSum
    for (const [key, before] of this.unsummed) {
      sum -= before
      const now = this.rows.get(key)
      if (now !== undefined) sum += rowHash(key, now)
    }
    this.rowsSum = sum >>> 0
    this.unsummed.clear()
  }

  /** Notes that the row under `key` changed from `before` to `after` (`rows` holds it already), for `rowsHash`. */
  private rowChanged(key: string, before: Row | null, after: Row | null): void {
    if (this.unsummed.has(key)) return
    if (before === null) {
      // Absent when last summed and unchanged since: the new row joins the sum now.
      if (after !== null) this.rowsSum = (this.rowsSum + rowHash(key, after)) >>> 0
      return
    }
    this.unsummed.set(key, rowHash(key, before) | 0)
    if (this.unsummed.size >= MAX_UNSUMMED) this.sumRows()
  }

  /** Number of live rows. */
  get size(): number {
    return this.rows.size
  }

  /** The current generation's Yjs state vector. */
  stateVector(): Uint8Array {
    if (this.deferred?.stateVector !== undefined) return this.deferred.stateVector
    return Y.encodeStateVector(this.doc)
  }

  /**
   * The current generation's state as one Yjs update: all of it, or only what a holder of
   * `stateVector` lacks. Throws when `stateVector` is malformed.
   */
  encodeState(stateVector?: Uint8Array): Uint8Array {
    // A hibernated document's one record is its state, encoded when it was put away.
    if (stateVector === undefined && this.deferred?.ownClient === true) return this.deferred.read()[0]!.data
    if (stateVector === undefined) return Y.encodeStateAsUpdate(this.doc)
    // A peer reading what it lacks uses the document as a write does (ShardHibernation).
    this.activity++
    return Y.encodeStateAsUpdate(this.doc, stateVector)
  }

  /**
   * What a holder of `stateVector` lacks now, as causally ordered slices of at most
   * `maxStructs` Yjs structs encoded one by one, the delete set in the last
   * (yjs/update-slices.ts); one update when it is that small. Throws when `stateVector`
   * is malformed.
   */
  sliceState(stateVector: Uint8Array, maxStructs: number): { readonly whole: boolean; next(): Uint8Array | null } {
    const slicer = new UpdateSlicer(this.doc, stateVector, maxStructs)
    // Each slice a peer is sent uses the document as a write does: a shard being sent is
    // not put away under the sending (ShardHibernation), which would end it early.
    return {
      whole: slicer.whole,
      next: () => {
        this.activity++
        return slicer.next()
      },
    }
  }

  // ---- rows and the delete rule ------------------------------------------------------

  /** Writers of entries carrying the row's causal length (its current life, or its delete). */
  liveWriters(rowKey: string): string[] {
    const { cl, raws } = this.rowEntries(rowKey, false)
    return raws.filter(([, raw]) => entryCl(raw) === cl).map(([w]) => w)
  }

  /** The row's causal length: 0 absent, odd live, even deleted (merge/causal-length.ts). */
  rowCl(rowKey: string): number {
    if (this.prevs.length > 0) return this.rowEntries(rowKey, false).cl
    // One generation (countingEntries' case without older ones): the largest of the
    // writers' causal lengths, read without collecting the entries (asked per row written).
    let cl = 0
    for (const w of this.writersOf(rowKey)) {
      const raw = this.map.get(entryKey(rowKey, w))
      if (raw === undefined) continue
      const c = entryCl(raw)
      if (c < 0) this.countMalformed()
      else if (c > cl) cl = c
    }
    return cl
  }

  /**
   * Each writer's entry that counts for a row across generations, and the row's causal
   * length from them (generations/overlays.ts `countingEntries`). With `cache`, entries
   * this node wrote in the current Yjs transaction are taken as already parsed.
   */
  private rowEntries(rowKey: string, cache = true): { cl: number; raws: Array<[string, unknown]> } {
    return countingEntries(rowKey, this.writersOf(rowKey), this.map, this.prevs, cache ? this.written : null, this.countMalformed)
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
    if (!isLive(cl)) return { cl, entries }
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
    if (this.prefetched !== null && !view.special) {
      const row = readSingleWriterRow(this.prefetched.get(rowKey), rowKey, view)
      if (row === undefined) {
        this.hooks.onMalformed()
        return null
      }
      return row
    }
    const { cl, entries } = this.visibleEntries(rowKey)
    if (!isLive(cl) && cl > 0 && this.hooks.onConflict !== undefined) this.noteDeleteConflicts(rowKey, cl, view)
    if (!isLive(cl) || entries.length === 0) return null
    return resolveLiveRow(rowKey, cl, entries, view, this.resolveContext)
  }

  /** Reports a delete that won over updates made after it (merge/causal-length.ts). */
  private noteDeleteConflicts(rowKey: string, cl: number, view: TableView): void {
    const deletes: Array<[string, number]> = []
    const updates: Array<[string, WriterEntry]> = []
    for (const [w, raw] of this.rowEntries(rowKey, false).raws) {
      const c = entryCl(raw)
      if (c === cl) deletes.push([w, entryHlc(raw)])
      else if (c === cl - 1) {
        const e = parseEntry(raw)
        if (e !== null) updates.push([w, e])
      }
    }
    const decided = deleteUpdateConflict(deletes, updates, (skey) => view.nameByStorageKey.get(skey) ?? skey)
    if (decided === null) return
    this.hooks.onConflict!({ table: view.info.name, key: decodeRowKey(rowKey, view.info.primaryKey.length), column: null, ...decided })
  }

  private rematerialize(keys: Iterable<string>, origin: 'local' | 'remote'): ShardRowChange[] {
    const changes: ShardRowChange[] = []
    if (this.held !== null) {
      const into = origin === 'local' ? this.held.local : this.held.remote
      for (const k of keys) into.add(k)
      return changes
    }
    if (this.view === null) {
      // Unresolved rows count as deleted until the table is known: rebuilt then.
      this.deletedRows = null
      return changes
    }
    const table = this.view.info.name
    for (const key of keys) {
      const change = this.rematerializeRow(key, table, origin)
      if (change !== null) changes.push(change)
      this.trackDeleted(key)
    }
    return changes
  }

  private rematerializeRow(key: string, table: string, origin: 'local' | 'remote'): ShardRowChange | null {
    const before = this.rows.get(key) ?? null
    let after: Row | null
    try {
      const known = this.resolvedLocally.get(key)
      after = known !== undefined ? known : this.resolveRow(key)
    } catch {
      // A row key or entry a broken peer made up: the row stays unresolved, never a crash.
      this.hooks.onMalformed()
      return null
    }
    if (after === null) {
      if (before === null) return null
      this.rows.delete(key)
    } else {
      if (before !== null && sameRow(before, after)) return null
      this.rows.set(key, after)
    }
    this.rowChanged(key, before, after)
    return { table, key, before, after, origin }
  }

  // ---- row snapshots (row-snapshot.ts) ------------------------------------------------

  /**
   * True when the shard can be put in a row snapshot: it has a table, holds no older
   * generation, no Y.Text (its rows are not all in the entries) and no part of an update
   * still waiting for its dependencies.
   */
  qualifiesForRowSnapshot(): boolean {
    const view = this.view
    if (view === null || this.prevs.length > 0 || view.info.columns.some((c) => c.kind === 'text')) return false
    if (this.deferred === null) {
      if (hasPendingUpdates(this.currentDoc)) return false
      for (const name of this.currentDoc.share.keys()) if (name.startsWith(TEXT_PREFIX)) return false
    }
    return true
  }

  /**
   * This shard's rows and books as a row snapshot of its storage log at `position` (where
   * the log stands now), its rows not yet encoded (row-snapshot.ts, `encodeRowSnapshotSteps`);
   * null when the shard does not qualify (`qualifiesForRowSnapshot`). `id` names the part;
   * `fingerprint` is the view's `viewFingerprint` when the caller has it already.
   */
  rowCapture(position: LogPosition, id: number, fingerprint?: string): ShardRowCapture | null {
    const view = this.view
    if (view === null || !this.qualifiesForRowSnapshot()) return null
    const digest = this.digest()
    const stateVector = this.knownStateVector()
    return {
      head: {
        shard: this.id,
        id,
        generation: this.generation,
        records: position.records,
        bytes: position.bytes,
        last: position.last,
        view: fingerprint ?? viewFingerprint(view),
        digest,
        garbage: this.deletedCache,
        entries: this.entryCount,
        rowsHash: this.rowsHash,
        writers: [...this.writers],
        deleted: this.deletedRowKeys(),
      },
      stateVector: stateVector !== null ? stateVectorField(stateVector) : undefined,
      columns: view.layout.map((c) => c.name),
      keyColumns: view.info.primaryKey,
      keys: [...this.rows.keys()],
      rows: [...this.rows.values()],
    }
  }

  /** The state vector when known without loading a deferred document; null otherwise. */
  private knownStateVector(): Uint8Array | null {
    if (this.deferred === null) return Y.encodeStateVector(this.currentDoc)
    return this.deferred.stateVector ?? null
  }

  /**
   * Puts back the rows of a row snapshot taken of this shard when its log held exactly
   * `records` (the loader checked generation, record count and view), leaving the records
   * unapplied until the document is first used. Only on a fresh shard with its view set.
   * Throws on a malformed row list, leaving the shard as it was.
   */
  restoreRows(snapshot: ShardRowSnapshot, read: () => StoredRecord[]): void {
    assert(this.view !== null && this.rows.size === 0 && this.prevs.length === 0 && this.deferred === null, 'rows restored into a fresh shard')
    try {
      snapshotRows(snapshot, this.view!.layout.map((c) => c.name), this.rows)
    } catch (err) {
      this.rows.clear()
      throw err
    }
    this.generation = snapshot.generation
    this.rowsSum = snapshot.rowsHash
    this.unsummed.clear()
    for (const w of snapshot.writers) this.writers.add(w)
    this.deletedRows = new Set(snapshot.deleted)
    const stateVector = snapshotStateVector(snapshot, decodesAsStateVector)
    this.deferred = { read, digest: snapshot.digest, garbage: snapshot.garbage, entries: snapshot.entries, ...(stateVector !== undefined ? { stateVector } : {}) }
  }

  /**
   * At load, after `restoreRows`: applies the snapshot's records, then the records the log
   * holds after the snapshot's position, resolving only the rows those touch (the doc's
   * `afterTransaction`, as for any update). The rows are then what all the records resolve to.
   */
  applyAfterSnapshot(later: readonly StoredRecord[]): void {
    if (this.deferred !== null) this.applyDeferred()
    const doc = this.currentDoc
    doc.transact(() => {
      for (const r of later) if (r.generation === this.generation) Y.applyUpdate(doc, r.data, LOAD_ORIGIN)
    }, LOAD_ORIGIN)
  }

  /**
   * Frees the document of a shard nobody has written for a while (issue 13: the Yjs
   * items and entry strings are most of a row's memory, its encoded state a tenth of
   * them; docs/decisions/0037-shard-hibernation.md): keeps the state as one encoded
   * update and what the deferred state answers with (digest, garbage, entry count, state
   * vector), the rows and the books staying as they are. The first use of the document
   * applies the update again (`wake`); the client id stays, so this session's writes
   * continue its clock where they stopped. Returns false, changing nothing, for a
   * shard that does not qualify (`qualifiesForRowSnapshot`: an older generation held, a
   * Y.Text, an update waiting for its dependencies) or is deferred already.
   */
  hibernate(): boolean {
    if (this.deferred !== null || this.held !== null || this.writing || this.together || !this.qualifiesForRowSnapshot()) return false
    const old = this.currentDoc
    const digest = this.digest()
    const stateVector = Y.encodeStateVector(old)
    const state = Y.encodeStateAsUpdate(old)
    const entries = this.entryCount
    // Kept as rows are resolved; null would mean a scan of the entries while deferred.
    this.deletedRowKeys()
    if (this.unsummed.size > 0) this.sumRows()
    const generation = this.generation
    const record: StoredRecord = { generation, kind: 'snapshot', data: state }
    this.deferred = { read: () => [record], digest, garbage: this.deletedCache, entries, stateVector, ownClient: true }
    old.destroy()
    this.currentDoc = this.newDoc(this.clientID)
    this.currentMap = this.currentDoc.getMap('rows')
    // The books (writers, delete set, absent keys, deleted rows) describe the state put
    // away, which is the state loaded back: they stay, and the load only applies items.
    this.textNames = new Map()
    this.digestCache = null
    return true
  }

  /** True while the rows came from a row snapshot and the document is not loaded yet. */
  get isDeferred(): boolean {
    return this.deferred !== null
  }

  /**
   * Reads and applies the records a row snapshot stood for, keeping the books (writers,
   * deletes, absent keys) but not resolving rows: the snapshot's rows are their
   * resolution. A generation or digest that then differs from the snapshot's means the
   * rows may too: they are resolved afresh (and counted as malformed, which no correct
   * run does). A record storage finds damaged throws here, at first use.
   */
  private applyDeferred(): void {
    const d = this.deferred!
    this.deferred = null
    const doc = this.currentDoc
    const records = d.read()
    if (d.ownClient === true) {
      this.wake(d, records)
      return
    }
    this.booksOnly = true
    try {
      applyRecords(doc, records)
    } finally {
      this.booksOnly = false
    }
    if (records.length > 0 && records[0]!.generation === this.generation && this.digest() === d.digest) return
    if (records.length > 0) this.generation = records[0]!.generation
    this.resolveAfresh()
  }

  /**
   * Loads a hibernated document back (`hibernate`): its books were kept, so the items are
   * applied with none kept (`quiet`), then the document's digest is checked against the
   * one put away. The state holds this session's own items: applied under the session's
   * id, Yjs would take them for another client's use of it, log so and give the document
   * a new id; they are applied under a stand-in id, set back after, so the store continues
   * this session's clock.
   */
  private wake(d: Deferred, records: StoredRecord[]): void {
    const doc = this.currentDoc
    const own = this.clientID
    doc.clientID = standInClient(own)
    this.quiet = true
    try {
      applyRecords(doc, records)
    } finally {
      this.quiet = false
      doc.clientID = own
    }
    this.wakes++
    if (snapshotDigest(Y.snapshot(doc)) === d.digest) return
    // Not the document put away (no run has shown it): books and rows afresh from it.
    this.wakeMismatches++
    this.digestCache = null
    this.newGenerationBooks()
    this.resolveAfresh()
  }

  /**
   * Resolves every row of the current document anew, its writers noted again, counting it
   * as malformed (a loaded state that is not the expected one).
   */
  private resolveAfresh(): void {
    this.hooks.onMalformed()
    this.rows.clear()
    this.rowsSum = 0
    this.unsummed.clear()
    this.deletedRows = new Set()
    const keys = new Set<string>()
    for (const k of this.currentMap.keys()) {
      const split = splitEntryKey(k)
      if (split === null) continue
      this.noteWriter(split[0], split[1])
      keys.add(split[0])
    }
    this.rematerialize(keys, 'remote')
  }

  /** Frees the documents (the replica is closing); never loads a deferred one. */
  destroy(): void {
    this.deferred = null
    this.currentDoc.destroy()
    for (const p of this.prevs) p.doc.destroy()
  }

  // ---- local writes ------------------------------------------------------------------

  /**
   * Runs local writes as one Yjs transaction and hands its encoded update to the replica.
   * Yjs encodes an update only while someone listens, so the listener is attached for
   * local transactions alone: remote updates are persisted as received, not re-encoded.
   */
  transactLocal(fn: () => void): void {
    const doc = this.doc
    whileUpdating(doc, this.localUpdateListener, () =>
      doc.transact(() => {
        this.writing = true
        try {
          this.chainSessions()
          fn()
        } finally {
          this.writing = false
        }
      }, LOCAL_ORIGIN),
    )
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
    for (const [key, item] of mapItems(this.map)) {
      if (item.deleted || item.id.client === this.clientID || !key.endsWith(suffix)) continue
      const l = latest.get(item.id.client)
      if (l === undefined || item.id.clock > l.clock) latest.set(item.id.client, { key, clock: item.id.clock })
    }
    for (const { key } of latest.values()) this.map.set(key, this.map.get(key))
  }

  /** True when `writer` is the shard's only writer and no older generation is held: its entry is the row. */
  private alone(writer: string): boolean {
    return this.prevs.length === 0 && (this.writers.size === 0 || (this.writers.size === 1 && this.writers.has(writer)))
  }

  /**
   * Applies one committed transaction's writes to rows of this shard, as this node.
   * Must run inside `transactLocal`.
   */
  applyWrite(rowKey: string, write: RowWrite, writer: string, hlc: number, keyValues?: readonly Value[]): void {
    const view = this.view
    assert(view !== null, () => `shard ${this.id} has no table`)
    assert(this.writing, 'local writes run inside transactLocal')
    const key = entryKey(rowKey, writer)
    const alone = this.alone(writer)
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
    const newCl = clAfter(rowCl, write)
    if (!write.live) {
      // A delete of a live row ends its life; of an absent or deleted one, nothing.
      if (newCl !== rowCl) {
        const raw = encodeEntry({ cl: newCl, hlc, cols: new Map() })
        this.noteWriter(rowKey, writer)
        this.map.set(key, raw)
        this.hooks.onLocalEntry?.(this, key, raw)
        if (alone) this.resolvedLocally.set(rowKey, null)
      }
      return
    }
    const own = ownRaw !== undefined && entryCl(ownRaw) === newCl ? parseEntry(ownRaw) : null
    if (alone && own === null && !view.special && keyValues !== undefined && write.incr.size === 0) {
      // Sole writer starting its entry of a plain row (a bulk INSERT's every row): the
      // entry's text and the row straight from the write, no entry objects in between.
      const raw = freshEntryText(view, write, newCl, hlc)
      this.noteWriter(rowKey, writer)
      this.map.set(key, raw)
      this.hooks.onLocalEntry?.(this, key, raw)
      const row: Row = {}
      for (const c of view.layout) row[c.name] = c.pkAt >= 0 ? keyValues[c.pkAt]! : write.cols.get(c.name) ?? null
      this.resolvedLocally.set(rowKey, row)
      return
    }
    const others = newCl === rowCl && !alone ? this.visibleEntries(rowKey).entries.filter(([w]) => w !== writer) : []
    const entry = localEntry(view, write, rowKey, writer, hlc, newCl, newCl === rowCl, own, others, this.writeContext)
    const raw = encodeEntry(entry)
    if (!alone || view.special) this.written.set(key, { raw, entry })
    // Known as the row's writer before the transaction ends: a later write of the row in it reads this entry.
    this.noteWriter(rowKey, writer)
    this.map.set(key, raw)
    this.hooks.onLocalEntry?.(this, key, raw)
    if (alone && !view.special && keyValues !== undefined) {
      // Sole writer of a plain row: its values are the row, nothing to resolve.
      const row: Row = {}
      for (const c of view.layout) row[c.name] = c.pkAt >= 0 ? keyValues[c.pkAt]! : entry.cols.get(c.skey)?.value ?? null
      this.resolvedLocally.set(rowKey, row)
    }
  }

  /**
   * Deletes every other writer's entry of a row `writer` has just written (in the same
   * `transactLocal`, after `applyWrite`), so none of their values stays in the document:
   * Yjs deletes their items and garbage collection drops the content, in every copy the
   * deletion reaches. For last-write-wins rows only, where the entry just written is the
   * newest and so the row resolves as before. It must carry the row's causal length: a
   * dead row this writer did not delete gets a tombstone entry of its own that keeps it;
   * a live row this writer has no entry of at its causal length is left as it is.
   * A concurrent write not seen here is another Yjs item and stays. Returns the entries deleted.
   */
  dropOtherEntries(rowKey: string, writer: string, hlc: number): number {
    assert(this.writing, 'local writes run inside transactLocal')
    const { cl, raws } = this.rowEntries(rowKey, false)
    const others = raws.filter(([w]) => w !== writer)
    if (others.length === 0) return 0
    const own = raws.find(([w]) => w === writer)
    if (own === undefined || entryCl(own[1]) !== cl) {
      if (isLive(cl)) return 0
      const key = entryKey(rowKey, writer)
      const raw = encodeEntry({ cl, hlc, cols: new Map() })
      this.noteWriter(rowKey, writer)
      this.map.set(key, raw)
      this.hooks.onLocalEntry?.(this, key, raw)
    }
    for (const [w] of others) this.map.delete(entryKey(rowKey, w))
    return others.length
  }

  /** Every writer's value of `column` in every row of the document, dead rows included, by row key. */
  entryValues(column: string): Map<string, Value[]> {
    const skey = this.view?.storageKeys.get(column) ?? column
    const out = new Map<string, Value[]>()
    for (const [k, raw] of this.map) {
      const split = splitEntryKey(k)
      const w = split === null ? undefined : parseEntry(raw)?.cols.get(skey)
      if (split === null || w === undefined) continue
      const list = out.get(split[0])
      if (list === undefined) out.set(split[0], [w.value])
      else list.push(w.value)
    }
    return out
  }

  // ---- remote updates and integration ------------------------------------------------

  /**
   * Applies a remote update; true if it must be persisted: it brought something new, or
   * part of it waits for missing dependencies (Yjs keeps that part pending, and the
   * update that later completes it does not carry it). Throws on garbage.
   */
  applyRemote(update: Uint8Array, origin: string): boolean {
    if (this.together) {
      // Inside applyRemoteTogether: whether it brought anything is known only at the end.
      Y.applyUpdate(this.doc, update, origin)
      return true
    }
    this.changedByLast = false
    Y.applyUpdate(this.doc, update, origin)
    return this.changedByLast || hasPendingUpdates(this.doc)
  }

  /**
   * Runs `fn` with the remote updates it applies (`applyRemote`) in one Yjs transaction:
   * the document's state vector is computed twice for all of them rather than twice for
   * each (O(writers of the document) each time), and the rows they touch are resolved
   * once, when `fn` returns. Each update applied in it counts as bringing something (it is
   * persisted: a duplicate costs a log record, never a lost change).
   */
  applyRemoteTogether(fn: () => void): void {
    if (this.together) {
      fn()
      return
    }
    this.together = true
    try {
      Y.transact(this.doc, fn, REMOTE_ORIGIN)
    } finally {
      this.together = false
    }
  }

  private afterTransaction(tr: Y.Transaction): void {
    this.activity++
    if (this.quiet) return
    if (tr.doc === this.doc && this.doc.clientID !== this.clientID) {
      // Yjs saw structs under this session's client id arrive from elsewhere (only a bug
      // or a lying peer can send them) and moved the document to a new id: follow it, so
      // later documents of this shard never write under the contested id either.
      this.clientID = this.doc.clientID
      this.hooks.onMalformed()
    }
    if (tr.doc === this.doc) this.deletes.note(tr)
    if (tr.changed.size > 0 || tr.deleteSet.clients.size > 0) {
      this.digestCache = null
      this.changedByLast = true
    }
    const keys = new Set<string>()
    const remote = tr.origin !== LOCAL_ORIGIN && !this.booksOnly
    const raws = remote ? new Map<string, unknown>() : null
    let maxHlc = -1
    for (const [type, subs] of tr.changed) {
      const current = type === (this.map as unknown)
      if (current || this.prevs.some((p) => (p.map as unknown) === type)) {
        const items = mapItems(this.map)
        // The entry is the current document's item's value when no older generation may hold a newer one.
        const alone = current && this.prevs.length === 0
        for (const sub of subs) {
          if (sub === null) continue
          let item: Y.Item | undefined
          if (current) {
            item = items.get(sub)
            if (item?.deleted === true) this.absentKeys.add(sub)
            else this.absentKeys.delete(sub)
            // Decoded from an update or from storage: held in an array of its size.
            if (remote && item !== undefined && !item.deleted) fitContent(item)
          }
          const split = splitEntryKey(sub)
          if (split === null) {
            this.hooks.onMalformed()
            continue
          }
          this.noteWriter(split[0], split[1])
          if (this.booksOnly) continue
          keys.add(split[0])
          if (raws !== null) {
            const raw = alone ? itemValue(item) : this.raw(sub)
            raws.set(split[0], raw)
            const hlc = entryHlc(raw)
            if (hlc > maxHlc) maxHlc = hlc
          }
        }
      } else {
        if (this.booksOnly) continue
        const name = this.textNameOf(type)
        if (name === undefined) continue
        const end = name.indexOf(WRITER_SEP)
        if (end > 1) keys.add(name.slice(1, end))
      }
    }
    if (maxHlc >= 0) this.hooks.observe(maxHlc)
    if (this.held !== null) {
      // Resolved at release. A peer's entry of a row this node wrote meanwhile makes the
      // row's local resolution (its only writer's values) stale.
      if (remote) for (const k of keys) this.resolvedLocally.delete(k)
      this.rematerialize(keys, tr.origin === LOCAL_ORIGIN ? 'local' : 'remote')
      return
    }
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
}

/**
 * Applies a shard's stored records as one load, in one Yjs transaction, one after another:
 * merging them into one update first decoded and encoded every record once more before
 * applying it (a tenth of a start's time for a shard written in many transactions).
 */
export function applyRecords(doc: Y.Doc, records: readonly StoredRecord[]): void {
  if (records.length === 1) {
    Y.applyUpdate(doc, records[0]!.data, LOAD_ORIGIN)
    return
  }
  doc.transact(() => {
    for (const r of records) Y.applyUpdate(doc, r.data, LOAD_ORIGIN)
  }, LOAD_ORIGIN)
}

/** What a shard whose document is not loaded answers with (`restoreRows`, `hibernate`). */
interface Deferred {
  read: () => StoredRecord[]
  digest: number
  garbage: number
  entries: number
  /** Known when the document was hibernated; a start from a row snapshot does not know it. */
  stateVector?: Uint8Array
  /** The records hold this session's own items (a hibernated document). */
  ownClient?: boolean
}

/** Whether `bytes` decode as a Yjs state vector. */
function decodesAsStateVector(bytes: Uint8Array): boolean {
  try {
    Y.decodeStateVector(bytes)
    return true
  } catch {
    return false
  }
}

/** A Yjs client id other than `own`, for one load (`applyDeferred`). */
function standInClient(own: number): number {
  return (own ^ 0x5bd1e995) >>> 0 || 1
}

/** Name of the top-level Y.Text of a text column of a row in one of its lives. */
export function textName(rowKey: string, columnKey: string, cl: number): string {
  return TEXT_PREFIX + rowKey + WRITER_SEP + columnKey + WRITER_SEP + cl
}
