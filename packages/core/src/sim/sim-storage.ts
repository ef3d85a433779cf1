/**
 * Storage with a real disk's timing, on the simulator's virtual clock. Writes (append,
 * compact, remove, setMeta) complete after a seeded delay, one after another in issue
 * order, as a single-writer store (LMDB) commits them; only then do they reach the node's
 * durable `MemoryStorage` and does their promise resolve. A crash drops the writes still
 * in flight: they were never durable, so nothing written since the last completed write
 * survives, exactly the window a real kill -9 opens. Reads see what is durable.
 *
 * With `DiskFaults` (disk-faults.ts) the disk also misbehaves, seeded: a write may be
 * slow, a write completing while the disk is full fails with `StorageFullError` and
 * changes nothing, and a crash may land a prefix of the writes in flight (a torn tail).
 *
 * Invariants: a write's promise resolves only after the write is in `durable`; writes
 * reach `durable` in issue order, each whole; a write of a life that ended (crash) never
 * resolves, and reaches `durable` only by landing at the crash (`crash`), before every
 * write issued after it. Arguments are checked when a write is issued, as every storage
 * checks them.
 */
import { StorageFullError, type Storage, type StoredRecord } from '../api.js'
import type { MemoryStorage } from '../storage/memory-storage.js'
import { checkAppendBatch, checkMetaValue, checkSnapshot, checkStorageName } from '../storage/storage-arguments.js'
import type { DiskFaults } from './disk-faults.js'

export interface StorageTiming {
  /** Delay of one write, in virtual ms, drawn uniformly from [minMs, maxMs]. */
  minMs: number
  maxMs: number
}

export class SimStorage implements Storage {
  private readonly durable: MemoryStorage
  private readonly timing: StorageTiming
  private readonly schedule: (delayMs: number, fn: () => void) => void
  private readonly now: () => number
  private readonly random: () => number
  private readonly faults: DiskFaults | null
  /** Virtual time the last issued write completes at: the next one completes no earlier. */
  private lastDone = 0
  /** Writes issued and not yet complete, in issue order (the order they complete in). */
  private readonly pending: Array<() => void> = []

  /**
   * `schedule` runs a function after a virtual delay, and never once the node's current
   * life has ended (the simulator drops events of a crashed life).
   */
  constructor(
    durable: MemoryStorage,
    timing: StorageTiming,
    schedule: (delayMs: number, fn: () => void) => void,
    now: () => number,
    random: () => number,
    faults: DiskFaults | null = null,
  ) {
    this.durable = durable
    this.timing = timing
    this.schedule = schedule
    this.now = now
    this.random = random
    this.faults = faults
  }

  /** Writes issued and not yet durable. */
  get inFlight(): number {
    return this.pending.length
  }

  private write(apply: () => void): Promise<void> {
    const { minMs, maxMs } = this.timing
    const delay = minMs + Math.floor(this.random() * (maxMs - minMs + 1)) + (this.faults?.fsyncDelay() ?? 0)
    const at = Math.max(this.lastDone, this.now() + delay)
    this.lastDone = at
    this.pending.push(apply)
    return new Promise((resolve, reject) => {
      this.schedule(at - this.now(), () => {
        this.pending.shift()
        if (this.faults?.isFull(this.now()) === true) {
          this.faults.counts.fullWrites++
          reject(new StorageFullError('simulated disk full'))
          return
        }
        apply()
        resolve()
      })
    })
  }

  /**
   * The node crashes now: with a torn tail, a prefix of the writes in flight lands (whole,
   * in issue order, unless the disk is full); the rest are lost. Their promises never
   * settle: the process that waited for them is gone.
   */
  crash(): void {
    const landing = this.faults?.landedAtCrash(this.pending.length) ?? 0
    let landed = 0
    for (; landed < landing && this.faults?.isFull(this.now()) !== true; landed++) this.pending[landed]!()
    if (this.faults !== null) {
      this.faults.counts.landedAtCrash += landed
      this.faults.counts.lostAtCrash += this.pending.length - landed
    }
    this.pending.length = 0
  }

  append(batch: Array<{ shard: string; record: StoredRecord }>): Promise<void> {
    checkAppendBatch(batch)
    // Copied now: the caller may reuse its buffers before the write completes.
    const copy = batch.map(({ shard, record }) => ({ shard, record: { ...record, data: record.data.slice() } }))
    return this.write(() => this.durable.append(copy))
  }

  compact(shard: string, snapshot: StoredRecord): Promise<void> {
    checkStorageName(shard, 'shard')
    checkSnapshot(snapshot)
    const copy = { ...snapshot, data: snapshot.data.slice() }
    return this.write(() => this.durable.compact(shard, copy))
  }

  remove(shard: string): Promise<void> {
    checkStorageName(shard, 'shard')
    return this.write(() => this.durable.remove(shard))
  }

  setMeta(key: string, value: Uint8Array): Promise<void> {
    checkStorageName(key, 'meta key')
    checkMetaValue(value)
    const copy = value.slice()
    return this.write(() => this.durable.setMeta(key, copy))
  }

  shards(): string[] {
    return this.durable.shards()
  }

  load(shard: string): StoredRecord[] {
    return this.durable.load(shard)
  }

  getMeta(key: string): Uint8Array | undefined {
    return this.durable.getMeta(key)
  }
}
