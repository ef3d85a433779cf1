/**
 * Hibernation of idle shards (docs/decisions/0037-shard-hibernation.md): a shard whose
 * document nobody has used for `quietMs` keeps its rows and hands its Yjs document back
 * as one encoded update (`Shard.hibernate`); the first write, remote update or request
 * that needs the document loads it again. Reads never need it: they read the rows.
 *
 * A shard counts as used while its `activity` (transactions and loads of its document)
 * moves: each check, every `quietMs`, puts away the shards whose count stood still since
 * the one before, so a shard sleeps between one and two quiet spells after its last use.
 *
 * Invariants: system shards (the catalog, membership, secrets) are never put away (the
 * catalog's entries are read on every catalog change); a shard of fewer than
 * `minEntries` live entries is not either (its document costs little, and loading it
 * back would be churn); no check runs after `stop`.
 */
import type { Scheduler } from '../api.js'
import { isSystemShard } from '../placement/shard-id.js'

/** What hibernation needs of a shard. */
export interface HibernatingShard {
  readonly activity: number
  readonly isDeferred: boolean
  readonly entryCount: number
  hibernate(): boolean
}

/** What hibernation needs of a replica. */
export interface HibernationTarget {
  readonly shards: ReadonlyMap<string, HibernatingShard>
}

export interface ShardHibernationOptions {
  scheduler: Scheduler
  /** Milliseconds without use before a shard is put away. */
  quietMs: number
  /** Fewest live entries a shard needs to be put away; default 1,000. */
  minEntries?: number
  /** Sees each shard put away, with the milliseconds its encoding took (for the node's log). */
  onHibernated?: (shard: string, entries: number, ms: number) => void
  /** After a check that put shards away: how many, and their live entries (a node returns the memory then). */
  onChecked?: (shards: number, entries: number) => void
  /** Clock for those milliseconds; default performance.now. */
  now?: () => number
}

const DEFAULT_MIN_ENTRIES = 1000

export class ShardHibernation {
  private readonly target: HibernationTarget
  private readonly options: ShardHibernationOptions
  /** Each shard's activity count at the last check. */
  private readonly seen = new Map<string, number>()
  private cancelTimer: (() => void) | null = null
  private stopped = false
  private count = 0

  constructor(target: HibernationTarget, options: ShardHibernationOptions) {
    this.target = target
    this.options = options
    this.arm()
  }

  /** Shards put away so far (a shard loaded and put away again counts again). */
  get hibernated(): number {
    return this.count
  }

  /** Puts away every shard idle since the last check; returns how many. */
  check(): number {
    const minEntries = this.options.minEntries ?? DEFAULT_MIN_ENTRIES
    const now = this.options.now ?? (() => performance.now())
    let n = 0
    let entries = 0
    for (const [id, shard] of this.target.shards) {
      const before = this.seen.get(id)
      this.seen.set(id, shard.activity)
      if (before !== shard.activity || shard.isDeferred || isSystemShard(id) || shard.entryCount < minEntries) continue
      const started = now()
      if (!shard.hibernate()) continue
      n++
      entries += shard.entryCount
      this.options.onHibernated?.(id, shard.entryCount, now() - started)
    }
    for (const id of this.seen.keys()) if (!this.target.shards.has(id)) this.seen.delete(id)
    this.count += n
    if (n > 0) this.options.onChecked?.(n, entries)
    return n
  }

  stop(): void {
    this.stopped = true
    this.cancelTimer?.()
    this.cancelTimer = null
  }

  private arm(): void {
    if (this.stopped) return
    this.cancelTimer = this.options.scheduler.setTimeout(this.options.quietMs, () => {
      this.cancelTimer = null
      if (this.stopped) return
      this.check()
      this.arm()
    })
  }
}
