/**
 * Storage with a real disk's timing, on the simulator's virtual clock. Writes (append,
 * compact, remove, setMeta) complete after a seeded delay, one after another in issue
 * order, as a single-writer store (LMDB) commits them; only then do they reach the node's
 * durable `MemoryStorage` and does their promise resolve. A crash drops the writes still
 * in flight: they were never durable, so nothing written since the last completed write
 * survives, exactly the window a real kill -9 opens. Reads see what is durable.
 *
 * Invariants: a write's promise resolves only after the write is in `durable`; writes
 * reach `durable` in issue order; a write of a life that ended (crash) never does.
 */
import type { Storage, StoredRecord } from '../api.js'
import type { MemoryStorage } from '../storage/memory-storage.js'

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
  /** Virtual time the last issued write completes at: the next one completes no earlier. */
  private lastDone = 0
  /** Writes issued and not yet durable. */
  inFlight = 0

  /**
   * `schedule` runs a function after a virtual delay, and never once the node's current
   * life has ended (the simulator drops events of a crashed life).
   */
  constructor(durable: MemoryStorage, timing: StorageTiming, schedule: (delayMs: number, fn: () => void) => void, now: () => number, random: () => number) {
    this.durable = durable
    this.timing = timing
    this.schedule = schedule
    this.now = now
    this.random = random
  }

  private write(apply: () => void): Promise<void> {
    const { minMs, maxMs } = this.timing
    const at = Math.max(this.lastDone, this.now() + minMs + Math.floor(this.random() * (maxMs - minMs + 1)))
    this.lastDone = at
    this.inFlight++
    return new Promise((resolve) => {
      this.schedule(at - this.now(), () => {
        this.inFlight--
        apply()
        resolve()
      })
    })
  }

  append(batch: Array<{ shard: string; record: StoredRecord }>): Promise<void> {
    // Copied now: the caller may reuse its buffers before the write completes.
    const copy = batch.map(({ shard, record }) => ({ shard, record: { ...record, data: record.data.slice() } }))
    return this.write(() => this.durable.append(copy))
  }

  compact(shard: string, snapshot: StoredRecord): Promise<void> {
    const copy = { ...snapshot, data: snapshot.data.slice() }
    return this.write(() => this.durable.compact(shard, copy))
  }

  remove(shard: string): Promise<void> {
    return this.write(() => this.durable.remove(shard))
  }

  setMeta(key: string, value: Uint8Array): Promise<void> {
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
