/**
 * Where the connection monitor keeps its pending-change count across reloads: one
 * application metadata key (`browser/pending-changes`, a u32 big endian) of the replica,
 * written with `Replica.setMeta`, so it goes through the replica's ordered storage queue
 * (after the commits before it; parked and retried with them if storage fails).
 */

/** The part of a replica the count needs (core's `Replica` has it). */
export interface MetaStore {
  getMeta(key: string): Promise<Uint8Array | undefined>
  setMeta(key: string, value: Uint8Array): Promise<void>
}

const PENDING_META_KEY = 'browser/pending-changes'

export class PendingCountMeta {
  private readonly store: MetaStore

  constructor(replica: MetaStore) {
    this.store = replica
  }

  /** The count saved last; 0 if none or unreadable. */
  async load(): Promise<number> {
    const saved = await this.store.getMeta(PENDING_META_KEY)
    if (!saved || saved.length !== 4) return 0
    return new DataView(saved.buffer, saved.byteOffset, 4).getUint32(0)
  }

  /** Saves the count (clamped to u32) in the background; if storage fails, the replica retries it with its other writes. */
  save(count: number): void {
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setUint32(0, Math.min(count, 0xffffffff))
    this.store.setMeta(PENDING_META_KEY, bytes).catch(() => undefined)
  }
}
