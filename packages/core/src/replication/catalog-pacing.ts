/**
 * Catalog pacing: a replica applies its peers' catalog changes at most once per
 * interval, several in one Yjs transaction, so that a cluster whose members all write to
 * the catalog at once (a large cluster starting: every member writes its member row, its
 * joined record and its marks) does not cost each node O(members) catalog transactions
 * of O(members) each (issue 20).
 *
 * Why a transaction costs O(members): Yjs computes a document's state vector when a
 * transaction starts and again when it ends, a pass over every client of the document,
 * and the catalog's document has a client per member session. In the simulator at 300
 * peers that pass was a third of the CPU (docs/benchmarks.md, "The simulator's start").
 *
 * The rule: a message that brings a catalog change (a gossiped update of the catalog
 * shard, or a diff of it) within `intervalMs` after the last catalog change applied here
 * waits, and so does every message that arrives after it, in order (a table's rows can
 * follow the catalog change that makes the table); once the interval is over they are
 * dispatched in arrival order, and each run of consecutive gossip messages that carry
 * only catalog updates (one message with several, too) is applied in one Yjs transaction
 * of the catalog shard. A catalog
 * change that arrives after a quiet interval is applied at once: pacing delays changes
 * only while they come faster than one per interval.
 *
 * Invariants: messages are dispatched in the order they arrived, each exactly once,
 * unless the replicator stops first (then those held are dropped unacknowledged, as a
 * message lost on the way would be: anti-entropy repairs both); a message is held at
 * most `intervalMs` plus the scheduler's lateness; at most MAX_HELD_MESSAGES messages and
 * MAX_HELD_BYTES encoded bytes are held (one more is dispatched with all held at once).
 */
import type { Scheduler } from '../api.js'
import { CATALOG_SHARD } from '../placement/shard-id.js'
import { MessageType, type Message } from './messages.js'

/** Messages held at most before they are dispatched regardless of the interval. */
export const MAX_HELD_MESSAGES = 4096
/** Encoded bytes held at most before the held messages are dispatched regardless. */
export const MAX_HELD_BYTES = 64 * 1024 * 1024

/** A delivered message: its sender, what it says, and its encoded size. */
interface Held {
  from: string
  msg: Message
  bytes: number
}

/** What pacing needs of the replicator. */
export interface CatalogPacingHost {
  readonly scheduler: Scheduler
  now(): number
  /** Dispatches one message (applies it, answers it). */
  dispatch(from: string, msg: Message): void
  /** Runs `fn`, which dispatches several messages, as one batch (one settle at the end). */
  batch(fn: () => void): void
  /** Runs `fn` with the updates it applies to the catalog shard gathered in one Yjs transaction. */
  applyCatalogTogether(fn: () => void): void
  /** A held message's dispatch threw: counted, and the next message goes on. */
  failed(err: unknown): void
  /** A message was held back. */
  paced(): void
}

/** True when `msg` applies something to the catalog shard. */
function bringsCatalog(msg: Message): boolean {
  if (msg.type === MessageType.Updates) return msg.updates.some((u) => u.shard === CATALOG_SHARD)
  if (msg.type === MessageType.SyncDiff) return msg.diffs.some((d) => d.shard === CATALOG_SHARD)
  return false
}

/** True when `msg` is gossip that carries catalog updates and nothing else. */
function onlyCatalog(msg: Message): boolean {
  return msg.type === MessageType.Updates && msg.updates.length > 0 && msg.updates.every((u) => u.shard === CATALOG_SHARD)
}

export class CatalogPacing {
  private readonly host: CatalogPacingHost
  private readonly intervalMs: number
  private held: Held[] = []
  private heldBytes = 0
  /** When a catalog change was last applied here (-Infinity: never). */
  private lastApplied = Number.NEGATIVE_INFINITY
  private cancelTimer: (() => void) | null = null
  private stopped = false

  /** `intervalMs` 0: no pacing, every message is dispatched as it arrives. */
  constructor(host: CatalogPacingHost, intervalMs: number) {
    this.host = host
    this.intervalMs = intervalMs
  }

  /** Messages waiting now. */
  get waiting(): number {
    return this.held.length
  }

  /** A message arrived (decoded, in scope): dispatched now, or held (see the module header). */
  deliver(from: string, msg: Message, bytes: number): void {
    if (this.stopped) return
    const catalog = this.intervalMs > 0 && bringsCatalog(msg)
    if (this.held.length === 0) {
      const now = this.host.now()
      if (!catalog || now - this.lastApplied >= this.intervalMs) {
        if (catalog) this.lastApplied = now
        this.host.batch(() => this.host.dispatch(from, msg))
        return
      }
      this.wake(this.lastApplied + this.intervalMs - now)
    }
    this.held.push({ from, msg, bytes })
    this.host.paced()
    this.heldBytes += bytes
    if (this.held.length >= MAX_HELD_MESSAGES || this.heldBytes >= MAX_HELD_BYTES) this.flush()
  }

  /** Drops what is held and stops: the replicator stopped. */
  stop(): void {
    this.stopped = true
    this.cancelTimer?.()
    this.cancelTimer = null
    this.held = []
    this.heldBytes = 0
  }

  private wake(afterMs: number): void {
    this.cancelTimer = this.host.scheduler.setTimeout(Math.max(0, afterMs), () => {
      this.cancelTimer = null
      this.flush()
    })
  }

  /** Dispatches everything held, in order; runs of catalog-only gossip in one catalog transaction. */
  private flush(): void {
    this.cancelTimer?.()
    this.cancelTimer = null
    const list = this.held
    this.held = []
    this.heldBytes = 0
    if (this.stopped || list.length === 0) return
    this.lastApplied = this.host.now()
    this.host.batch(() => {
      let i = 0
      while (i < list.length) {
        let j = i
        while (j < list.length && onlyCatalog(list[j]!.msg)) j++
        if (j > i) {
          const run = list.slice(i, j)
          this.host.applyCatalogTogether(() => {
            for (const h of run) this.dispatchOne(h.from, h.msg)
          })
          i = j
        } else {
          const h = list[i]!
          this.dispatchOne(h.from, h.msg)
          i++
        }
      }
    })
  }

  /** One of several held messages: what it throws does not stop the others. */
  private dispatchOne(from: string, msg: Message): void {
    try {
      this.host.dispatch(from, msg)
    } catch (err) {
      this.host.failed(err)
    }
  }
}
