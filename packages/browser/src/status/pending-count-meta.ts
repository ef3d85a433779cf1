/**
 * Where the connection monitor keeps its pending-change count across reloads: one
 * metadata key (`browser/pending-changes`, a u32 big endian) in the replica's storage.
 *
 * This is the one place the browser package touches a replica's storage directly, and
 * it writes around the replica's ordered storage queue: the write is not ordered with
 * commits and is not parked if storage fails (it is dropped; the count is advisory and
 * rewritten on the next change). Core has no API to put a metadata write through the
 * queue yet; `replica.setMeta(key, value): Promise<void>` (queued like the replica's own
 * LSN record) and `replica.getMeta(key)` would replace `MetaStore` here, and nothing else
 * in this package would change.
 */

/** The part of a storage the count needs (core's `Storage` has it). */
export interface MetaStore {
  getMeta(key: string): Uint8Array | undefined | Promise<Uint8Array | undefined>
  setMeta(key: string, value: Uint8Array): void | Promise<void>
}

const PENDING_META_KEY = 'browser/pending-changes'

export class PendingCountMeta {
  private readonly store: MetaStore

  constructor(replica: { readonly storage: MetaStore }) {
    this.store = replica.storage
  }

  /** The count saved last; 0 if none or unreadable. */
  async load(): Promise<number> {
    const saved = await this.store.getMeta(PENDING_META_KEY)
    if (!saved || saved.length !== 4) return 0
    return new DataView(saved.buffer, saved.byteOffset, 4).getUint32(0)
  }

  /** Saves the count (clamped to u32) in the background; a failed write is dropped. */
  save(count: number): void {
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setUint32(0, Math.min(count, 0xffffffff))
    void Promise.resolve(this.store.setMeta(PENDING_META_KEY, bytes)).catch(() => undefined)
  }
}
