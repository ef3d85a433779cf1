/**
 * The node's table change feeds on its LMDB storage (sql-facade live/change-feed.ts), so
 * a client following a table resumes from its position after the node restarts, or
 * crashes (docs/decisions/0022-durable-change-feed.md).
 *
 * Keys (store-format.ts), values sealed with a checksum (core's codec/checked-record.ts):
 *   ['j', '', 0]       -> {"epoch": .., "seq": ..}: the feed's epoch and greatest sequence number
 *   ['j', table, 0]    -> {"floor": n}: the table is followed; every change of it above n is held
 *   ['j', table, seq]  -> op, U+0000, the row as JSON text
 *
 * Invariants:
 * - A write rides in the storage's next write transaction (LmdbStorage.setRider), or one
 *   of its own issued in the same task: the feed writes a change's entry in the task in
 *   which the replica handed the row's records to storage, so the entry is on disk in the
 *   same transaction as the row, or an earlier one. A crash never keeps a row change and
 *   loses its entry.
 * - Writes reach disk in the order they were handed; one that fails is retried, ahead of
 *   later ones, until storage takes it (the replica retries its own writes alike).
 * - A damaged or unreadable journal is not served: `load` answers null, the feed starts
 *   a new epoch (clients read the table again), and its first write drops the old keys.
 */
import { openValue, sealValue } from '@concord/core'
import type { ChangeJournalStore, JournalContents, JournalWrite } from '@concord/sql-facade'
import type { LmdbStorage, RiderTransaction } from './lmdb-storage.js'
import type { StoreKey } from './store-format.js'

const TAG = 'j'
const HEAD: StoreKey = [TAG, '', 0]
/** Past every key of the journal. */
const END: StoreKey = ['k', '']
/** A failed journal write is retried after this long (when no other write carries it first). */
const RETRY_MS = 1000

interface Pending {
  w: JournalWrite
  durable: () => void
}

export class LmdbChangeJournal implements ChangeJournalStore {
  private readonly storage: LmdbStorage
  private pending: Pending[] = []
  /** The old keys go with the first write (the journal was unreadable, or new). */
  private reset = false
  private flushing: Promise<void> | null = null
  private retry: ReturnType<typeof setTimeout> | null = null
  private readonly inflight = new Set<Promise<void>>()
  /** Set when a load found damage: what it says (for the node's log). */
  damage: string | null = null

  constructor(storage: LmdbStorage) {
    this.storage = storage
    storage.setRider({ holds: () => this.pending.length > 0, ride: (tx) => this.ride(tx) })
  }

  load(): JournalContents | null {
    let head: { epoch: string; seq: number } | null = null
    const tables = new Map<string, JournalContents['tables'][number]>()
    const table = (name: string) => {
      let t = tables.get(name)
      if (t === undefined) tables.set(name, (t = { table: name, floor: -1, changes: [] }))
      return t
    }
    try {
      for (const { key, value } of this.storage.riderRange([TAG, ''], END)) {
        const [, name, seq] = key as [string, string, number]
        const text = new TextDecoder('utf-8', { fatal: true }).decode(openValue(value))
        if (name === '') {
          const h = JSON.parse(text) as { epoch?: unknown; seq?: unknown }
          if (typeof h.epoch !== 'string' || !/^[0-9a-f]{12}$/.test(h.epoch) || !Number.isSafeInteger(h.seq)) throw new Error('malformed head')
          head = { epoch: h.epoch, seq: h.seq as number }
        } else if (seq === 0) {
          const f = JSON.parse(text) as { floor?: unknown }
          if (!Number.isSafeInteger(f.floor)) throw new Error(`malformed floor of ${name}`)
          table(name).floor = f.floor as number
        } else {
          const cut = text.indexOf('\u0000')
          const op = text.slice(0, cut)
          if (op !== 'insert' && op !== 'update' && op !== 'delete') throw new Error(`malformed change ${seq} of ${name}`)
          table(name).changes.push({ seq, op, row: text.slice(cut + 1) })
        }
      }
      if (head === null) {
        if (tables.size > 0) throw new Error('changes without a head')
        this.reset = true
        return null
      }
      for (const t of tables.values()) {
        if (t.floor < 0) throw new Error(`changes of ${t.table} without its floor`)
        if (t.changes.length > 0 && (t.changes[0]!.seq <= t.floor || t.changes[t.changes.length - 1]!.seq > head.seq)) throw new Error(`changes of ${t.table} outside the feed`)
      }
    } catch (e) {
      this.damage = `the table change journal cannot be read (${(e as Error).message}): followers of a table read it again`
      this.reset = true
      return null
    }
    return { epoch: head.epoch, seq: head.seq, tables: [...tables.values()] }
  }

  write(w: JournalWrite, durable: () => void): void {
    this.pending.push({ w, durable })
    // In this task: an append of the replica issued in it may already be waiting; this one
    // then comes after it in the same group commit, or the append's transaction carries it.
    this.flushing ??= this.flush()
  }

  async close(): Promise<void> {
    if (this.retry !== null) clearTimeout(this.retry)
    this.retry = null
    if (this.pending.length > 0) this.flushing ??= this.flush()
    await this.flushing
    await Promise.all([...this.inflight])
    this.storage.setRider(null)
  }

  private async flush(): Promise<void> {
    try {
      await this.storage.flushRider()
    } catch {
      // The rider's `failed` put the writes back; retried below.
    } finally {
      this.flushing = null
    }
    // Handed over after this transaction took what was pending: one more carries them.
    if (this.pending.length > 0 && this.retry === null) this.flushing = this.flush()
  }

  private ride(tx: RiderTransaction): { committed(): void; failed(): void } | null {
    if (this.pending.length === 0) return null
    const taken = this.pending
    this.pending = []
    if (this.reset) {
      for (const key of tx.keys([TAG, ''], END)) tx.remove(key)
    }
    const reset = this.reset
    this.reset = false
    let last: JournalWrite | null = null
    for (const { w } of taken) {
      for (const f of w.floors) {
        for (const key of tx.keys([TAG, f.table, 1], [TAG, f.table, f.floor + 1])) tx.remove(key)
        tx.put([TAG, f.table, 0], sealValue(new TextEncoder().encode(JSON.stringify({ floor: f.floor }))))
      }
      for (const c of w.changes) tx.put([TAG, c.table, c.seq], sealValue(new TextEncoder().encode(`${c.op}\u0000${c.row}`)))
      last = w
    }
    if (last !== null) tx.put(HEAD, sealValue(new TextEncoder().encode(JSON.stringify({ epoch: last.epoch, seq: last.seq }))))
    let settle: () => void = () => {}
    const done = new Promise<void>((resolve) => (settle = resolve))
    this.inflight.add(done)
    return {
      committed: () => {
        this.inflight.delete(done)
        settle()
        for (const p of taken) p.durable()
      },
      failed: () => {
        this.inflight.delete(done)
        settle()
        // Ahead of what came since, in order; the next transaction (or the retry) carries them.
        this.pending = [...taken, ...this.pending]
        if (reset) this.reset = true
        this.retry ??= setTimeout(() => {
          this.retry = null
          if (this.pending.length > 0) this.flushing ??= this.flush()
        }, RETRY_MS)
      },
    }
  }
}
