/**
 * The replica's ordered queue of storage writes, and the one place that knows what is
 * durable. Every write (append batch, snapshot, removal, metadata) gets a sequence number
 * when issued; `whenDurable` runs a callback once every write issued before it (of the
 * given shards, or all) has completed.
 *
 * Invariants:
 * - Writes are issued to storage in sequence order; a write that fails is parked, with
 *   every later one, and all are retried in order every second until storage takes them
 *   again (disk full, I/O error, a browser's quota). Nothing is dropped: a snapshot
 *   replaces only earlier writes of its own shard, and is taken afresh when retried.
 * - A callback waiting for durability never runs before the writes it waits for are
 *   complete. This is what keeps a node from telling anyone about state a crash could
 *   still take back: clients are acknowledged, and peers are sent shard state (gossip,
 *   diffs, generations), only through it.
 * - Everything is bounded: waiters for sends past `MAX_SEND_WAITERS` are dropped (the
 *   sender's next anti-entropy round sends again); acknowledgement waiters are not
 *   dropped, there is one per statement in flight.
 */
import { StorageFullError, type Scheduler } from '../api.js'
import { ConcordError } from '../errors/concord-error.js'

/** How often storage writes parked by a storage failure are retried. */
const STORAGE_RETRY_MS = 1000
/** Sends waiting for durability, at most; older ones are dropped first. */
const MAX_SEND_WAITERS = 10_000

/** One storage write. */
export interface StorageOp {
  kind: 'append' | 'snapshot' | 'remove' | 'meta'
  /** Shards whose state the write persists (storage ids); empty for metadata. */
  shards: readonly string[]
  run: () => void | Promise<void>
  /**
   * For a snapshot: takes it again, from memory as it is then, when retried. The first
   * snapshot held only what was written before it; appends that reached storage after it
   * failed would be removed by a retry of it, and a fresh one contains them.
   */
  retry?: () => void | Promise<void>
  /** Runs once the write is durable. */
  done?: () => void
}

interface QueuedOp extends StorageOp {
  seq: number
}

interface Waiter {
  /** Waits for every write with a smaller sequence number... */
  barrier: number
  /** ...of these shards (null: of every shard). */
  shards: ReadonlySet<string> | null
  run: () => void
  /** Called instead of `run` if storage fails on a write it waits for; null: keep waiting. */
  fail: ((err: ConcordError) => void) | null
  /** A send (droppable) rather than an acknowledgement. */
  send: boolean
}

export class StorageQueue {
  private readonly scheduler: Scheduler
  private seq = 0
  /** Issued and not yet complete (running, or parked), by sequence number. */
  private readonly pending = new Map<number, QueuedOp>()
  private readonly inflight = new Set<Promise<void>>()
  /** Set while storage fails: writes wait in `parked`. */
  private failure: unknown = null
  /** Writes waiting for storage to recover, in issue order. */
  private parked: QueuedOp[] = []
  private retryScheduled = false
  /** Set while a retry pass runs: one at a time (a write may outlast the retry interval). */
  private retrying = false
  private waiters: Waiter[] = []
  private closed = false
  /** Sends dropped because too many waited for durability. */
  sendsDropped = 0
  /** Called once storage has taken every parked write again. */
  onRecovered: () => void = () => {}

  constructor(scheduler: Scheduler) {
    this.scheduler = scheduler
  }

  /** True while storage refuses writes. */
  get failing(): boolean {
    return this.failure !== null
  }

  /** Issues a storage write (see the invariants above). */
  store(op: StorageOp): void {
    const o: QueuedOp = { ...op, seq: this.seq++ }
    this.pending.set(o.seq, o)
    if (this.failure !== null) {
      this.park(o)
      return
    }
    let result: void | Promise<void>
    try {
      result = o.run()
    } catch (err) {
      this.failed(o, err)
      return
    }
    if (!(result instanceof Promise)) {
      this.complete(o)
      return
    }
    const tracked = result.then(
      () => this.complete(o),
      (err: unknown) => this.failed(o, err),
    )
    this.inflight.add(tracked)
    void tracked.finally(() => this.inflight.delete(tracked))
  }

  /** True when some write of `shard` is not yet durable. */
  writing(shard: string): boolean {
    for (const o of this.pending.values()) if (o.shards.includes(shard)) return true
    return false
  }

  /** True when nothing issued so far still waits for storage. */
  isDurable(): boolean {
    return this.pending.size === 0 && this.failure === null
  }

  /**
   * Runs `fn` once every write issued so far is durable (only writes of `shards`, when
   * given): at once if they are. A send is droppable (bounded; see the module header).
   * `fail`, if given, is called instead when storage fails on a write waited for.
   */
  whenDurable(fn: () => void, options: { shards?: Iterable<string>; fail?: (err: ConcordError) => void; send?: boolean } = {}): void {
    const w: Waiter = {
      barrier: this.seq,
      shards: options.shards === undefined ? null : new Set(options.shards),
      run: fn,
      fail: options.fail ?? null,
      send: options.send === true,
    }
    if (this.ready(w)) {
      fn()
      return
    }
    if (w.fail !== null && this.failure !== null) {
      w.fail(this.failureError())
      return
    }
    if (w.send) {
      let sends = 0
      for (const x of this.waiters) if (x.send) sends++
      if (sends >= MAX_SEND_WAITERS) {
        const i = this.waiters.findIndex((x) => x.send)
        this.waiters.splice(i, 1)
        this.sendsDropped++
      }
    }
    this.waiters.push(w)
  }

  /** Resolves once every write issued so far is durable; rejects if storage failed on one. */
  durable(): Promise<void> {
    return new Promise((resolve, reject) => this.whenDurable(resolve, { fail: reject }))
  }

  private ready(w: Waiter): boolean {
    for (const o of this.pending.values()) {
      if (o.seq >= w.barrier) continue
      if (w.shards === null || o.shards.some((s) => w.shards!.has(s))) return false
    }
    return true
  }

  private complete(o: QueuedOp): void {
    this.pending.delete(o.seq)
    o.done?.()
    this.wake()
  }

  private wake(): void {
    if (this.waiters.length === 0) return
    const waiting: Waiter[] = []
    const due: Waiter[] = []
    for (const w of this.waiters) (this.ready(w) ? due : waiting).push(w)
    this.waiters = waiting
    for (const w of due) w.run()
  }

  private failed(o: QueuedOp, err: unknown): void {
    this.failure = err
    this.park(o)
    this.scheduleRetry()
    // Acknowledgements waiting for this write fail now (the client hears diskFull or ioError);
    // sends keep waiting, and go once storage has recovered.
    const error = this.failureError()
    const failing: Waiter[] = []
    this.waiters = this.waiters.filter((w) => {
      if (w.fail === null || w.barrier <= o.seq) return true
      failing.push(w)
      return false
    })
    for (const w of failing) w.fail!(error)
  }

  /**
   * Parks a write in issue order. A snapshot of a shard replaces every earlier write of
   * that shard (it was taken from memory, which holds them all), and a removal every
   * earlier write of what it removes; an append batch stays whole.
   */
  private park(o: QueuedOp): void {
    if ((o.kind === 'snapshot' || o.kind === 'remove') && o.shards.length === 1) {
      const shard = o.shards[0]!
      this.parked = this.parked.filter((p) => {
        const replaced = p.seq < o.seq && p.shards.length === 1 && p.shards[0] === shard && (p.kind === 'snapshot' || p.kind === 'remove')
        if (replaced) this.pending.delete(p.seq)
        return !replaced
      })
    }
    this.parked.push(o)
    this.parked.sort((a, b) => a.seq - b.seq)
  }

  private scheduleRetry(): void {
    if (this.retryScheduled || this.closed) return
    this.retryScheduled = true
    this.scheduler.setTimeout(STORAGE_RETRY_MS, () => {
      this.retryScheduled = false
      void this.retry()
    })
  }

  /**
   * Retries parked writes in order; storage is healthy again once all went through. One
   * pass at a time: a pass that is running ends by scheduling the next, if writes remain.
   */
  private async retry(): Promise<void> {
    if (this.retrying) return
    this.retrying = true
    try {
      await this.retryPass()
    } finally {
      this.retrying = false
    }
  }

  private async retryPass(): Promise<void> {
    // Bounded: each step takes a parked write off or stops at the first failure.
    for (let step = 0; step < 1000 && this.parked.length > 0; step++) {
      const o = this.parked[0]!
      try {
        await (o.retry ?? o.run)()
      } catch (err) {
        this.failure = err
        this.scheduleRetry()
        return
      }
      // While storage worked on it, writes may have been parked, and this one replaced by a
      // later snapshot or removal of its shard (`park`): take off exactly this write.
      const at = this.parked.indexOf(o)
      if (at < 0) continue
      this.parked.splice(at, 1)
      this.pending.delete(o.seq)
      o.done?.()
    }
    if (this.parked.length > 0) {
      this.scheduleRetry()
      return
    }
    this.failure = null
    this.wake()
    this.onRecovered()
  }

  /**
   * The error while storage fails: disk full (`diskFull`) or another I/O error (`ioError`). For a
   * write already applied when storage failed (`durable()`), and for a write refused
   * since (`refused`).
   */
  failureError(refused = false): ConcordError {
    const err = this.failure
    const text = String((err as { message?: unknown } | null)?.message ?? err)
    const full = err instanceof StorageFullError || (err as { name?: unknown } | null)?.name === 'StorageFullError'
    const what = refused
      ? 'this write is refused: the node takes writes again once storage does (retried every second)'
      : 'this write is kept in memory and persisted once storage has room (retried every second), unless the node stops first; until then the node refuses writes'
    return new ConcordError(full ? 'diskFull' : 'ioError', `could not write to storage (${text}): ${what}`)
  }

  /** Waits for writes in flight (not parked ones), for a clean close. */
  async drain(): Promise<void> {
    for (let i = 0; i < 100 && this.inflight.size > 0; i++) await Promise.all([...this.inflight])
  }

  close(): void {
    this.closed = true
  }
}
