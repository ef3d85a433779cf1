/**
 * Loading: a replica's state as its storage holds it, read back at open. The change
 * sequence resumes above its persisted value; the catalog shard loads first, then the
 * caller builds the tables from it (`catalogLoaded`), then every table shard loads (its
 * records merged and applied in one step, under the generation of its first record: the
 * snapshot, when there is one), its rows resolved as they are applied, in the same pass
 * that decodes them; then the older generations kept as overlays (the caller resolves
 * again the rows of the shards that got one).
 *
 * A row snapshot left by a clean close or a checkpoint (rows/row-snapshot.ts) stands in
 * for that pass: a table shard whose stored log still begins with the records its part
 * names (generation, count, bytes, last record's hash), whose table view has the same
 * fingerprint, and which has no overlay gets the snapshot's rows. When the log holds no
 * record after that position, the records are applied only when the shard's document is
 * first used (Shard.restoreRows); otherwise they are applied now, and only the rows the
 * later records touch are resolved (Shard.applyAfterSnapshot). The records are read here
 * either way, so storage verifies them at open and a damaged data file stops the open as
 * before. A row snapshot storage cannot read back (a checksum, a torn value) is reported
 * (`warn`) and the shards load from their records: it is derived data.
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
import { CATALOG_SHARD, isSystemShard } from '../placement/shard-id.js'
import { recordChecksum } from '../codec/checked-record.js'
import { readRowSnapshot, viewFingerprint, type ShardRowSnapshot } from '../rows/row-snapshot.js'
import { applyRecords, type Shard } from '../rows/shard.js'

/** What loading fills in. */
export interface LoadTarget {
  readonly storage: Storage
  /** Resumes the change sequence from its persisted value (undefined: none). */
  restoreSequence(saved: Uint8Array | undefined): void
  shard(id: string): Shard | undefined
  createShard(id: string): Shard
  /** A shard's storage log holds these records. */
  loadedLog(id: string, records: readonly StoredRecord[]): void
  /** Removes something storage holds that belongs to nothing any more. */
  removeStored(id: string): void
  /** An older generation of `shard` was restored as an overlay. */
  restoredOverlay(shard: Shard): void
  /** The catalog shard is in (or storage holds none): table shards created from now on get their tables' views. */
  catalogLoaded(): void
  /** A row snapshot was found: the clock and replay time it was taken at, the shards its manifest names a part of. */
  restoredSnapshot(hlc: number, replayedMs: number | null, named: readonly string[]): void
  /** A table shard's rows came from its part of the row snapshot: 'exact' (its records wait for first use) or 'after' (later records applied on top). */
  restoredRows(how: 'exact' | 'after', part: ShardRowSnapshot): void
  /** Storage holds a row snapshot of every table shard exactly as loaded (none was resolved from its records). */
  rowSnapshotCurrent(): void
  /** Something stored could not be used and was worked around (a damaged row snapshot). */
  warn(message: string): void
}

/** Reads everything `target.storage` holds into `target`. */
export async function loadReplica(target: LoadTarget): Promise<void> {
  target.restoreSequence(await target.storage.getMeta(LSN_META_KEY))
  const snapshot = await readRowSnapshot((key) => target.storage.getMeta(key), (message) => target.warn(message))
  const ids = await target.storage.shards()
  const overlaid = new Set(ids.map((id) => parsePreviousId(id)?.shard).filter((id) => id !== undefined))
  const snapshots = new Map<string, ShardRowSnapshot>()
  if (snapshot !== null) {
    target.restoredSnapshot(snapshot.hlc, snapshot.replayedMs, snapshot.named)
    for (const s of snapshot.shards) if (!overlaid.has(s.shard)) snapshots.set(s.shard, s)
  }
  // Every table shard that qualifies came exactly from the snapshot: nothing to checkpoint.
  let current = snapshot !== null
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
    target.loadedLog(id, stored)
    const rows = snapshots.get(id)
    try {
      const how = rows === undefined ? 'records' : restored(shard, rows, records)
      if (how === 'records') {
        applyRecords(shard.doc, records)
        shard.generation = records[0]!.generation
      } else {
        target.restoredRows(how, rows!)
      }
      if (how !== 'exact' && !isSystemShard(id) && shard.qualifiesForRowSnapshot()) current = false
    } catch (err) {
      throw new ConcordError('internalError', `storage of shard ${id} is corrupt: ${String(err)}`)
    }
  }
  if (!catalogDone) target.catalogLoaded()
  if (current) target.rowSnapshotCurrent()
}

/**
 * Gives `shard` its rows from its part of a row snapshot if the stored log still begins
 * with the records the part names: 'exact' when the log holds nothing more (its records
 * wait for the document's first use), 'after' when the records after that position were
 * applied on top, 'records' when the part does not describe this log (load the records).
 */
function restored(shard: Shard, rows: ShardRowSnapshot, records: StoredRecord[]): 'exact' | 'after' | 'records' {
  const view = shard.table
  if (view === null || !beginsWith(records, rows) || viewFingerprint(view) !== rows.view) return 'records'
  const upTo = records.length === rows.records ? records : records.slice(0, rows.records)
  try {
    shard.restoreRows(rows, () => upTo)
  } catch {
    return 'records'
  }
  if (upTo === records) return 'exact'
  shard.applyAfterSnapshot(records.slice(rows.records))
  return 'after'
}

/** True when `records` (one document) begin with exactly the records `position` names. */
function beginsWith(records: StoredRecord[], position: ShardRowSnapshot): boolean {
  if (position.records === 0 || records.length < position.records || records[0]!.generation !== position.generation) return false
  let bytes = 0
  for (let i = 0; i < position.records; i++) bytes += records[i]!.data.byteLength
  return bytes === position.bytes && recordChecksum(records[position.records - 1]!) === position.last
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

function merged(records: StoredRecord[]): Uint8Array {
  return records.length === 1 ? records[0]!.data : Y.mergeUpdates(records.map((r) => r.data))
}
