/**
 * Where the connection monitor keeps what must survive a reload: the pending-change count
 * (`browser/pending-changes`, a u32 big endian), the pending rows (`browser/pending-rows`,
 * pending-rows.ts) and when the replica was last in sync (`browser/last-synced-at`, ms
 * since the epoch as a f64 big endian). Application metadata keys of the replica,
 * written with `Replica.setMeta`, so they go through the replica's ordered storage queue
 * (after the commits before them; parked and retried with them if storage fails).
 */
import { PendingRows } from './pending-rows.js'


/** The part of a replica the count needs (core's `Replica` has it). */
export interface MetaStore {
  getMeta(key: string): Promise<Uint8Array | undefined>
  setMeta(key: string, value: Uint8Array): Promise<void>
}

const PENDING_META_KEY = 'browser/pending-changes'
const PENDING_ROWS_META_KEY = 'browser/pending-rows'
const LAST_SYNCED_META_KEY = 'browser/last-synced-at'

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

  async loadRows(): Promise<PendingRows> {
    return PendingRows.decode(await this.store.getMeta(PENDING_ROWS_META_KEY))
  }

  saveRows(rows: PendingRows): void {
    this.store.setMeta(PENDING_ROWS_META_KEY, rows.encode()).catch(() => undefined)
  }

  /** When the replica was last confirmed in sync; null if never or unreadable. */
  async loadLastSynced(): Promise<number | null> {
    const saved = await this.store.getMeta(LAST_SYNCED_META_KEY)
    if (!saved || saved.length !== 8) return null
    const at = new DataView(saved.buffer, saved.byteOffset, 8).getFloat64(0)
    return Number.isFinite(at) && at > 0 ? at : null
  }

  saveLastSynced(at: number): void {
    const bytes = new Uint8Array(8)
    new DataView(bytes.buffer).setFloat64(0, at)
    this.store.setMeta(LAST_SYNCED_META_KEY, bytes).catch(() => undefined)
  }
}
