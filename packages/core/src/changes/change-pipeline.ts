/**
 * The change pipeline: what every change to a replica's shards goes through after the
 * Yjs transaction that made it.
 *
 *   local transaction -> shard Y.Docs -> storage append (durable) -> gossip to peers
 *   remote update     -> shard Y.Docs -> storage append
 *   both              -> change, catalog and conflict events
 *
 * Shards report their updates and row changes here as they happen (`onUpdate`, `rows`,
 * `catalog`, `conflict`); `settle` persists them, publishes what is local, and notifies
 * listeners. The owner of an operation settles it: every operation that changes shards
 * runs inside `run`, which settles once the outermost one returns, so a caller can group
 * several (one replication message) and cannot forget to settle.
 *
 * Invariants: a local update is published to peers only after storage has made it
 * durable, so a node that crashes and restarts never lags behind what its peers have
 * from it. Listeners hear of a change once per operation, after it is handed to storage;
 * with `handOffRemote`, what an operation applied from peers alone is handed over after
 * its listeners (when `handOffRemote` runs it, or sooner: the next operation's settle, a
 * `flush`), and what waits for it meanwhile (`whenHandedOff`: durability, a listener that
 * writes beside the row) waits for that hand-off. Records reach storage in the order they
 * were recorded either way.
 */
import type { ReplicaEvents } from '../api.js'
import { encodeRowKey } from '../codec/row-key.js'
import { LOAD_ORIGIN, LOCAL_ORIGIN, type Shard } from '../rows/shard.js'
import type { ShardLog } from '../storage/shard-log.js'
import type { CatalogChange, ConflictRecord, RowChange } from '../types.js'
import { LSN_META_KEY, LocalSequence } from './local-sequence.js'

/** Conflicts remembered so each is reported once. */
const MAX_CONFLICTS_REMEMBERED = 100_000

/** A durable local update, with the range of the change sequence it covers. */
export interface PublishedUpdate {
  shard: Shard
  /** The generation it was made in (it may have been left since). */
  generation: number
  update: Uint8Array
  start: number
  end: number
}

export interface ChangePipelineParts {
  log: ShardLog
  /** Hands durable local updates to replication; `lsn`: the sequence after the last of them. */
  publish(lsn: number, updates: PublishedUpdate[]): void
  /** Runs first on every settle, outside any Yjs transaction (membership repairs itself there). */
  beforeSettle(): void
  /** True while the replica loads: what is resolved then is not news. */
  loading(): boolean
  /** See ReplicaOptions.handOffRemote; undefined: every settle hands over at once. */
  handOffRemote?: ((fn: () => void) => void) | undefined
}

type Listener<K extends keyof ReplicaEvents> = ReplicaEvents[K]

export class ChangePipeline {
  private readonly parts: ChangePipelineParts
  /** This replica's change sequence (see LocalSequence). */
  readonly sequence = new LocalSequence()
  private readonly listeners = { change: new Set<Listener<'change'>>(), catalog: new Set<Listener<'catalog'>>(), conflict: new Set<Listener<'conflict'>>() }
  /** Local updates not yet handed to storage, with the generation they were made in. */
  private unpublished: Array<{ shard: Shard; generation: number; update: Uint8Array }> = []
  private pendingRowChanges: RowChange[] = []
  private pendingCatalogChanges: CatalogChange[] = []
  /** Conflicts resolved since the last settle, to hand to listeners. */
  private pendingConflicts: ConflictRecord[] = []
  /** Conflicts already reported (a row is re-resolved on every change to it), bounded. */
  private readonly conflictsSeen = new Set<string>()
  /** Operations running (`run`): the outermost settles. */
  private depth = 0
  /** Local updates of shards a sliced commit holds, kept back until it releases them (`hold`). */
  private readonly held = new Map<Shard, Array<{ generation: number; update: Uint8Array }>>()
  /** A hand-off scheduled by `handOffRemote` and not yet run (or overtaken by a `flush`). */
  private handOffDue = false
  /** What waits for the next hand-off (`whenHandedOff`), in call order. */
  private handOffWaiters: Array<() => void> = []

  constructor(parts: ChangePipelineParts) {
    this.parts = parts
  }

  on<K extends keyof ReplicaEvents>(event: K, fn: ReplicaEvents[K]): () => void {
    const set = this.listeners[event] as Set<ReplicaEvents[K]>
    set.add(fn)
    return () => set.delete(fn)
  }

  /**
   * Runs an operation that changes shards and returns its result; once the outermost
   * running operation returns, settles. If it throws, nothing is settled (whatever it
   * changed is settled by the next operation).
   */
  run<T>(fn: () => T): T {
    this.depth++
    let result: T
    try {
      result = fn()
    } catch (e) {
      // What waited for this operation's hand-off is not kept waiting for the next one.
      if (--this.depth === 0 && this.handOffWaiters.length > 0 && !this.handOffDue) this.flush()
      throw e
    }
    this.depth--
    if (this.depth === 0) this.settle()
    return result
  }

  /** A Yjs update a shard produced: kept for storage, and for peers when local. */
  onUpdate(shard: Shard, update: Uint8Array, origin: unknown): void {
    if (origin === LOAD_ORIGIN) return
    const held = origin === LOCAL_ORIGIN ? this.held.get(shard) : undefined
    if (held !== undefined) {
      held.push({ generation: shard.generation, update })
      return
    }
    this.parts.log.record(shard.id, { generation: shard.generation, kind: 'update', data: update })
    if (origin === LOCAL_ORIGIN) this.unpublished.push({ shard, generation: shard.generation, update })
  }

  /**
   * Keeps `shard`'s local updates back from storage and peers until `release`: a sliced
   * commit's slices reach storage in one append and peers after it, or not at all.
   */
  hold(shard: Shard): void {
    this.held.set(shard, [])
  }

  /** Hands the updates kept back for `shard` on, in the order they were made (settled by the running operation). */
  release(shard: Shard): void {
    const held = this.held.get(shard)
    if (held === undefined) return
    this.held.delete(shard)
    for (const { generation, update } of held) {
      this.parts.log.record(shard.id, { generation, kind: 'update', data: update })
      this.unpublished.push({ shard, generation, update })
    }
  }

  rows(changes: Iterable<RowChange>): void {
    // At load nothing resolved is news (see discardChanges): not kept, not even for a moment.
    if (this.parts.loading()) return
    for (const c of changes) this.pendingRowChanges.push(c)
  }

  catalog(change: CatalogChange): void {
    this.pendingCatalogChanges.push(change)
  }

  /**
   * Keeps a conflict for the listeners, once: a row is resolved again on every change to
   * it, and at load, where what was resolved before the restart is not news.
   */
  conflict(c: ConflictRecord): void {
    if (this.parts.loading() || this.listeners.conflict.size === 0) return
    const id = `${c.table}\u0000${encodeRowKey(c.key)}\u0000${c.column ?? ''}\u0000${[c.winner, ...c.losers].map((v) => (v === null ? '' : `${v.writer}@${v.hlc}`)).join(',')}`
    if (this.conflictsSeen.has(id)) return
    // Bounded: forgetting old ones only risks reporting one of them again.
    if (this.conflictsSeen.size >= MAX_CONFLICTS_REMEMBERED) this.conflictsSeen.clear()
    this.conflictsSeen.add(id)
    this.pendingConflicts.push(c)
  }

  /** Forgets row and catalog changes not yet reported (at load: they are not news). */
  discardChanges(): void {
    this.pendingRowChanges = []
    this.pendingCatalogChanges = []
  }

  /**
   * Runs `fn` once what was recorded so far is handed to storage: at once, unless an
   * operation runs or a hand-off is scheduled (see `handOffRemote`); then after it.
   */
  whenHandedOff(fn: () => void): void {
    if (this.parts.handOffRemote === undefined || (this.depth === 0 && !this.handOffDue)) {
      this.flush()
      fn()
      return
    }
    this.handOffWaiters.push(fn)
  }

  /** Persists, publishes and notifies whatever the last Yjs transactions produced. */
  settle(): void {
    this.parts.beforeSettle()
    const later = this.parts.handOffRemote
    if (later === undefined || this.unpublished.length > 0 || this.parts.log.isEmpty()) this.flush()
    else if (!this.handOffDue) {
      this.handOffDue = true
      later(() => {
        if (!this.handOffDue) return
        try {
          this.flush()
        } catch (e) {
          // Outside any caller: reported as an unhandled rejection (the node server logs those), not a crash.
          void Promise.reject(e)
        }
      })
    }
    const rows = this.pendingRowChanges
    const cat = this.pendingCatalogChanges
    const conflicts = this.pendingConflicts
    this.pendingRowChanges = []
    this.pendingCatalogChanges = []
    this.pendingConflicts = []
    if (cat.length > 0) for (const l of this.listeners.catalog) l(cat)
    if (rows.length > 0) for (const l of this.listeners.change) l(rows)
    if (conflicts.length > 0) for (const l of this.listeners.conflict) l(conflicts)
  }

  /**
   * Hands what was recorded to storage in one append; local updates are published once
   * it is durable, numbered in the change sequence.
   */
  flush(): void {
    this.handOffDue = false
    this.append()
    if (this.handOffWaiters.length === 0) return
    const waiters = this.handOffWaiters
    this.handOffWaiters = []
    // Each runs, whatever one of them throws (a client's acknowledgement is among them); the first error after.
    let failure: { error: unknown } | null = null
    for (const fn of waiters) {
      try {
        fn()
      } catch (error) {
        failure ??= { error }
      }
    }
    if (failure !== null) throw failure.error
  }

  private append(): void {
    const batch = this.parts.log.take()
    if (batch === null) return
    const local = this.unpublished
    this.unpublished = []
    const publish = local.map(({ shard, generation, update }): PublishedUpdate => ({ shard, generation, update, ...this.sequence.advance(update.length) }))
    const due = this.sequence.due()
    if (due !== null) this.parts.log.setMeta(LSN_META_KEY, due)
    const lsn = this.sequence.value
    this.parts.log.append(batch, () => {
      if (publish.length > 0) this.parts.publish(lsn, publish)
    })
  }
}
