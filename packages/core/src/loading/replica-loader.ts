/**
 * Loading: a replica's state as its storage holds it, read back at open. The change
 * sequence resumes above its persisted value; the catalog shard loads first, then the
 * caller builds the tables from it (`catalogLoaded`), then every table shard loads (its
 * records merged and applied in one step, under the generation of its first record: the
 * snapshot, when there is one), its rows resolved as they are applied, in the same pass
 * that decodes them; then the older generations kept as overlays (the caller resolves
 * again the rows of the shards that got one).
 *
 * A row snapshot left by a clean close (rows/row-snapshot.ts) stands in for that pass:
 * a table shard whose stored log still has the generation and record count the snapshot
 * was taken at, whose table view has the same fingerprint, and which has no overlay gets
 * the snapshot's rows, and its records are applied only when its document is first used
 * (Shard.restoreRows); they are still read here, so storage verifies them at open and a
 * damaged data file stops the open as before. The snapshot is cleared (`clearRowSnapshot`) before anything else
 * is written, so it never outlives the state it describes.
 *
 * Invariants: loading writes nothing back (its Yjs transactions carry the load origin,
 * which the change pipeline never persists), except removing an overlay that no longer
 * belongs to any shard. A shard is loaded as one document: records of another generation
 * than its first are left out (see `sameDocument`). A shard whose records do not apply is
 * corrupt: the replica does not open (internalError) rather than run without it.
 */
import * as Y from 'yjs'
import type { Storage, StoredRecord } from '../api.js'
import { LSN_META_KEY } from '../changes/local-sequence.js'
import { ConcordError } from '../errors/concord-error.js'
import { isPreviousId, parsePreviousId } from '../generations/generation-id.js'
import { CATALOG_SHARD } from '../placement/shard-id.js'
import { decodeRowSnapshot, ROW_SNAPSHOT_META_KEY, viewFingerprint, type ShardRowSnapshot } from '../rows/row-snapshot.js'
import { LOAD_ORIGIN, type Shard } from '../rows/shard.js'

/** What loading fills in. */
export interface LoadTarget {
  readonly storage: Storage
  /** Resumes the change sequence from its persisted value (undefined: none). */
  restoreSequence(saved: Uint8Array | undefined): void
  shard(id: string): Shard | undefined
  createShard(id: string): Shard
  /** A shard's storage log holds `records` records. */
  loadedLog(id: string, records: number): void
  /** Removes something storage holds that belongs to nothing any more. */
  removeStored(id: string): void
  /** An older generation of `shard` was restored as an overlay. */
  restoredOverlay(shard: Shard): void
  /** The catalog shard is in (or storage holds none): table shards created from now on get their tables' views. */
  catalogLoaded(): void
  /** A row snapshot was found: the clock and replay time it was taken at. */
  restoredSnapshot(hlc: number, replayedMs: number | null): void
  /** Clears the stored row snapshot, ahead of every later storage write. */
  clearRowSnapshot(): void
}

/** Reads everything `target.storage` holds into `target`. */
export async function loadReplica(target: LoadTarget): Promise<void> {
  target.restoreSequence(await target.storage.getMeta(LSN_META_KEY))
  const snapshot = decodeRowSnapshot(await target.storage.getMeta(ROW_SNAPSHOT_META_KEY))
  const ids = await target.storage.shards()
  const overlaid = new Set(ids.map((id) => parsePreviousId(id)?.shard).filter((id) => id !== undefined))
  const snapshots = new Map<string, ShardRowSnapshot>()
  if (snapshot !== null) {
    target.clearRowSnapshot()
    target.restoredSnapshot(snapshot.hlc, snapshot.replayedMs)
    for (const s of snapshot.shards) if (!overlaid.has(s.shard)) snapshots.set(s.shard, s)
  }
  const rank = (id: string) => (id === CATALOG_SHARD ? 0 : isPreviousId(id) ? 2 : 1)
  const order = [...ids].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
  let catalogDone = false
  for (const id of order) {
    if (!catalogDone && id !== CATALOG_SHARD) {
      target.catalogLoaded()
      catalogDone = true
    }
    const stored = await target.storage.load(id)
    if (stored.length === 0) continue
    if (isPreviousId(id)) {
      loadPrevious(target, id, stored)
      continue
    }
    const records = sameDocument(stored)
    const shard = target.shard(id) ?? target.createShard(id)
    target.loadedLog(id, stored.length)
    const rows = snapshots.get(id)
    if (rows !== undefined && restored(shard, rows, stored.length, records[0]!.generation, () => records)) continue
    try {
      applyAll(shard.doc, records)
      shard.generation = records[0]!.generation
    } catch (err) {
      throw new ConcordError('internalError', `storage of shard ${id} is corrupt: ${String(err)}`)
    }
  }
  if (!catalogDone) target.catalogLoaded()
}

/** Gives `shard` its rows from its part of a row snapshot if that still describes the stored log; false when it does not. */
function restored(shard: Shard, rows: ShardRowSnapshot, count: number, generation: number, read: () => StoredRecord[]): boolean {
  const view = shard.table
  if (view === null || generation !== rows.generation || count !== rows.records) return false
  if (viewFingerprint(view) !== rows.view) return false
  try {
    shard.restoreRows(rows, read)
    return true
  } catch {
    return false
  }
}

/** Restores an older generation kept as an overlay (see Housekeeper.adoptGeneration). */
function loadPrevious(target: LoadTarget, id: string, records: StoredRecord[]): void {
  const parsed = parsePreviousId(id)
  const shard = parsed === null ? undefined : target.shard(parsed.shard)
  if (parsed === null || shard === undefined || parsed.generation >= shard.generation) {
    target.removeStored(id)
    return
  }
  try {
    shard.restorePrevious(parsed.generation, merged(records))
    // Equality reports from before a restart are gone; only new ones vouch for writers.
    target.restoredOverlay(shard)
  } catch (err) {
    throw new ConcordError('internalError', `storage of ${id} is corrupt: ${String(err)}`)
  }
}

/**
 * The records of one document: those of the first record's generation. Each generation
 * is a document of its own, so an update of one applied to another would mix their items.
 * In issue order a shard's log holds one generation from its latest snapshot on (a new
 * generation starts with its snapshot, and records kept for the old one are discarded),
 * but storage can take writes out of issue order when one fails and a later one, already
 * in flight, does not (disk full: the new generation's snapshot refused, the update after
 * it taken). Such a record was never acknowledged (its snapshot came first and is not on
 * disk), or its content is in the snapshot that passed it; it is left out.
 */
function sameDocument(records: StoredRecord[]): StoredRecord[] {
  const generation = records[0]!.generation
  return records.every((r) => r.generation === generation) ? records : records.filter((r) => r.generation === generation)
}

/**
 * Applies a shard's records in one Yjs transaction, one after another: merging them into
 * one update first decoded and encoded every record once more before applying it (a
 * tenth of a start's time for a shard written in many transactions).
 */
function applyAll(doc: Y.Doc, records: StoredRecord[]): void {
  if (records.length === 1) {
    Y.applyUpdate(doc, records[0]!.data, LOAD_ORIGIN)
    return
  }
  doc.transact(() => {
    for (const r of records) Y.applyUpdate(doc, r.data, LOAD_ORIGIN)
  }, LOAD_ORIGIN)
}

function merged(records: StoredRecord[]): Uint8Array {
  return records.length === 1 ? records[0]!.data : Y.mergeUpdates(records.map((r) => r.data))
}
