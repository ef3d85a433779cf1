/**
 * Which parts of the row snapshot storage holds, so a checkpoint writes again only the
 * parts of shards that changed since (rows/row-snapshot.ts, format 6;
 * docs/decisions/0033-row-checkpoints.md). A part still describes its shard while the
 * shard's log stands at the position it names (same generation, records, bytes and last
 * record) under the same table view: the rows are what that log resolves to.
 *
 * Invariants: a part is counted as stored once the checkpoint that wrote it issued its
 * writes (storage takes them in issue order, and retries what it refuses; a crash before
 * the manifest landed leaves the older manifest, which names the older ids, so the newer
 * parts are not taken). `named` holds every shard whose part key may hold a value, so a
 * part no manifest names any more is cleared (an empty value) by the next checkpoint.
 * Ids only grow (`nextRowSnapshotPartId`).
 */
import { nextRowSnapshotPartId, rowSnapshotPartKey, type LogPosition, type RowSnapshotPartRef, type ShardRowSnapshot } from './row-snapshot.js'

/** What names a part and the state it describes. */
export type RowSnapshotPartHead = Pick<ShardRowSnapshot, 'shard' | 'id' | 'generation' | 'records' | 'bytes' | 'last' | 'view'>

type StoredPart = Omit<RowSnapshotPartHead, 'shard'>

export class RowSnapshotParts {
  /** The parts the stored manifest names that describe their shard's log as loaded or written. */
  private readonly stored = new Map<string, StoredPart>()
  /** Shards whose part key may hold a value. */
  private readonly named = new Set<string>()
  private lastId = 0

  /** At load: the manifest found names these shards; `hlc` is its clock (every id in it is at most that). */
  loadedManifest(hlc: number, named: readonly string[]): void {
    this.lastId = Math.max(this.lastId, hlc)
    for (const shard of named) this.named.add(shard)
  }

  /** At load: a shard took its part with nothing after its position (the part still describes it). */
  loadedExact(part: RowSnapshotPartHead): void {
    this.stored.set(part.shard, { id: part.id, generation: part.generation, records: part.records, bytes: part.bytes, last: part.last, view: part.view })
  }

  /** The stored part that still describes a shard at `position` under the view of fingerprint `view`; undefined when there is none. */
  kept(shard: string, generation: number, position: LogPosition, view: string): RowSnapshotPartRef | undefined {
    const p = this.stored.get(shard)
    if (p === undefined || p.generation !== generation || p.records !== position.records || p.bytes !== position.bytes || p.last !== position.last || p.view !== view) return undefined
    return { shard, id: p.id }
  }

  /** The id of the parts a checkpoint taken at clock `hlc` writes. */
  nextId(hlc: number): number {
    this.lastId = nextRowSnapshotPartId(hlc, this.lastId)
    return this.lastId
  }

  /**
   * A checkpoint issues its writes: `written` parts anew, `kept` as they were. Returns the
   * part keys to clear (before the manifest), those of shards the new manifest no longer names.
   */
  issued(written: readonly RowSnapshotPartHead[], kept: readonly RowSnapshotPartRef[]): string[] {
    const now = new Set<string>([...written.map((p) => p.shard), ...kept.map((p) => p.shard)])
    const cleared: string[] = []
    for (const shard of this.named) {
      if (now.has(shard)) continue
      cleared.push(rowSnapshotPartKey(shard))
      this.named.delete(shard)
      this.stored.delete(shard)
    }
    for (const p of written) {
      this.named.add(p.shard)
      this.loadedExact(p)
    }
    return cleared
  }
}
