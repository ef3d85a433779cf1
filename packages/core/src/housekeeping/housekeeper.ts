/**
 * The housekeeper: membership and generations (docs/decisions/0012-generations.md), on a
 * timer of its own.
 *
 * - Membership: every replica records itself in the catalog as a member (kind 'member':
 *   region, joining HLC; on empty storage also kind 'joined', see
 *   placement/join-catch-up.ts), and again, as a new member keeping its writes, if it finds
 *   itself declared departed. The oldest live member declares members silent longer than
 *   `departAfterMs` departed.
 * - Generations: each round, the member that builds a shard's generations (`builderOf`)
 *   rewrites a shard whose history outweighs its live entries as a new generation,
 *   leaving out rows whose delete is stable (`stableDeletes`), and tells the peers; a
 *   replica adopting a generation keeps the old one as an overlay until drained, on
 *   disk too, so a restart in between shows the same rows.
 * - Stability within holders: the builder asks the holders a pending delete waits for
 *   to report their state (StateReportAsks, a bounded number per round), rather than
 *   waiting for them to pick it for anti-entropy (docs/decisions/0018-stability-within-holders.md);
 *   holders it has no connection to are vouched for by peers that are (relayed reports,
 *   state-vouches.ts). Every holder also gossips which holders it knows to hold its state
 *   (held-by sets, held-sets.ts, docs/decisions/0036-held-by-sets.md): the builder learns
 *   of all of them in O(log n) rounds.
 *
 * Invariant: a delete counts as stable only once every other live member holding the
 * shard has reported (by a matching anti-entropy digest, or the hash a SYNC_DIFF carries,
 * both sent only for durable state) holding exactly this replica's state after the delete,
 * or is vouched for (directly or relayed) as having durably held a state that this
 * replica holds all of and that holds all this replica held once the delete was pending.
 */
import * as Y from 'yjs'
import type { LinkPolicy, ReplicaOptions, Scheduler, StoredRecord, Transaction } from '../api.js'
import { hlcMillis } from '../clock/hlc.js'
import { builderClientId, nextGeneration, previousId } from '../generations/generation-id.js'
import type { ChangePipeline } from '../changes/change-pipeline.js'
import type { Shard } from '../rows/shard.js'
import type { ShardLog } from '../storage/shard-log.js'
import type { Json, RowChange } from '../types.js'
import { JOINED_KIND } from '../placement/join-catch-up.js'
import { isSystemShard } from '../placement/shard-id.js'
import { StateReportAsks, type ReportsWanted } from './state-report-asks.js'
import { StateVouches, coversState, decodeStateVector } from './state-vouches.js'
import type { HeldSet, ReportGroup } from '../replication/messages.js'
import { HeldSets, holderList, type HolderList } from './held-sets.js'

/** One member as the catalog records it. */
export interface Member {
  nodeId: string
  region: string
  /** Joining HLC. */
  since: number
  departed: boolean
}

/** What the housekeeper needs of its replica. */
export interface HousekeeperHost {
  readonly nodeId: string
  readonly region: string
  readonly scheduler: Scheduler
  readonly options: ReplicaOptions
  readonly isClosed: boolean
  readonly linkPolicy: LinkPolicy | null
  readonly catalogShard: Shard
  /** Wall-clock ms (the injected clock). */
  now(): number
  /** The digest anti-entropy reports for a shard: its own only while all of it is durable here. */
  reportedDigest(shard: Shard): number
  /** A fresh HLC timestamp. */
  hlc(): number
  /** Every shard in memory, in creation order. */
  shards(): Iterable<Shard>
  shard(id: string): Shard | undefined
  holds(nodeId: string, region: string, id: string): boolean
  /**
   * Whether this replica's catalog knows the table of shard `id` and this replica has
   * caught up on it (placement/catch-up.ts, join-catch-up.ts): only then may it build the
   * shard's generations.
   */
  caughtUpOn(id: string): boolean
  getCatalog(kind: string, name: string): Json | undefined
  /** Moves on every change of the catalog: members and holders follow from the catalog alone. */
  catalogVersion(): number
  /** Moves whenever a member row changes (it may move more often). */
  membersVersion(): number
  listCatalog(kind: string): Array<[string, Json]>
  transact(fn: (tx: Transaction) => void): void
  /** When each peer was last heard from (wall ms; null: never since start). */
  peersLastSeen(): ReadonlyMap<string, number | null>
  /** Sends a shard's new generation, whole, to the peers holding it. */
  announceGeneration(shard: Shard, state: Uint8Array): void
  /**
   * Asks `peer` to report its state of a shard (anti-entropy notes an equal report when
   * its answer matches); false when the peer is not connected.
   */
  askState(peer: string, shardId: string): boolean
  /**
   * Asks some connected holders of a shard to vouch for `holders` (relayed reports,
   * replication/relayed-reports.ts); false when no connected peer holds it.
   */
  askReports(shardId: string, holders: readonly string[]): boolean
}

/** What the deletes of a shard wait for (see `deleteStability`). */
interface DeleteStability {
  /** Deleted rows whose delete is stable. */
  stable: Set<string>
  /** Live holders (other than this replica) whose report some pending delete still waits for. */
  waitingOn: string[]
}

/** Entries from which a shard's generation is built in parts (`compactInTurns`). */
const BUILD_IN_TURNS_ENTRIES = 20_000
/** Entries written per part: about 25 ms. */
const BUILD_ENTRIES_PER_TURN = 5_000

export class Housekeeper {
  private readonly host: HousekeeperHost
  private readonly log: ShardLog
  private readonly pipeline: ChangePipeline
  /** Generations this replica switched to (built or received). */
  generationsAdopted = 0
  /** Rounds that threw (see lastRoundError); the next round runs anyway. */
  roundsFailed = 0
  lastRoundError: unknown = null
  /** Set when this node's own member row changed: checked (rejoining if departed) at the next settle. */
  private checkMembership = false
  /** Per shard: when this replica saw each row deleted (wall ms). */
  private readonly deletedAt = new Map<string, Map<string, number>>()
  /** Per shard: when each peer last reported exactly this replica's state (wall ms). */
  private readonly equalAt = new Map<string, Map<string, number>>()
  /** Per shard holding older generations: when this replica moved to the current one (wall ms; at load, the load). */
  private readonly adoptedAt = new Map<string, number>()
  /** The builder's asks for state reports (stability at scale). */
  readonly asks = new StateReportAsks()
  /** Holders' durable states, seen here or relayed (stability beyond the builder's connections). */
  readonly vouches = new StateVouches()
  /** Per shard: the holders known to hold this replica's current state, gossiped (held-sets.ts). */
  readonly held = new HeldSets()
  /** Holders first known to hold this replica's state from a peer's held-by set, since start (for tests and metrics). */
  heldLearned = 0
  /** Each shard's live holders as held-by sets number them, for one version of the catalog. */
  private holderLists: { version: number; of: Map<string, HolderList> } | null = null
  /** Per shard, per deleted row: this replica's state once the delete was pending here (for vouches). */
  private readonly deletedState = new Map<string, Map<string, { generation: number; stateVector: Map<number, number> }>>()
  private cancelTimer: (() => void) | null = null
  private stopped = false
  /** The shard whose generation is being built in parts (`compactInTurns`), if any. */
  private building: Shard | null = null
  /** Builds in parts dropped because the shard changed meanwhile. */
  buildsDropped = 0
  /**
   * The member list and each shard's builder, for one catalog version: every node asks
   * every round (O(members) each, per shard), and the catalog rarely moves once a cluster runs.
   */
  /** Members (oldest first) and the departed among them, for one version of the member rows. */
  private known: { version: number; members: Member[]; live: Member[]; departed: Set<string> } | null = null
  /** Each shard's builder, for one version of the catalog (holders follow from all of it). */
  private builders: { version: number; of: Map<string, string | null> } | null = null

  constructor(host: HousekeeperHost, log: ShardLog, pipeline: ChangePipeline) {
    this.host = host
    this.log = log
    this.pipeline = pipeline
  }

  private get enabled(): boolean {
    return this.host.options.compaction?.enabled !== false
  }

  // ---- the timer ----------------------------------------------------------------------

  /** Runs a round every `housekeepingIntervalMs` (default: the anti-entropy interval; 0: never). */
  start(): void {
    if (this.enabled) this.schedule()
  }

  stop(): void {
    this.stopped = true
    this.cancelTimer?.()
    this.cancelTimer = null
  }

  private get interval(): number {
    const o = this.host.options
    return o.housekeepingIntervalMs ?? o.antiEntropyIntervalMs ?? 1000
  }

  private schedule(): void {
    const interval = this.interval
    if (interval <= 0 || this.stopped) return
    this.cancelTimer = this.host.scheduler.setTimeout(interval, () => {
      this.cancelTimer = null
      if (this.stopped) return
      try {
        this.compactionRound()
      } catch (err) {
        // Housekeeping goes on whatever one round ran into.
        this.roundsFailed++
        this.lastRoundError = err
      }
      this.schedule()
    })
  }

  // ---- membership ---------------------------------------------------------------------

  /**
   * Records this node as a member (catalog kind 'member'), or again after it was declared
   * departed: then it rejoins as a new member, keeping its own writes. `joining`: the node
   * opened on empty storage with peers to catch up from; it also records that it joined
   * (kind 'joined', placement/join-catch-up.ts). A node opened on storage holding a
   * catalog (restarted, or started on a copy of another node's data) or without a
   * transport (embedded, nothing to catch up from) holds what it holds and records none.
   */
  registerMembership(joining = false): void {
    const me = this.host.getCatalog('member', this.host.nodeId) as { departed?: boolean; region?: string } | undefined
    if (me !== undefined && me.departed !== true && me.region === this.host.region) return
    const since = this.host.hlc()
    this.host.transact((tx) => {
      tx.setCatalog('member', this.host.nodeId, { region: this.host.region, since })
      // First open on empty storage: it catches up on every table before answering from it.
      if (me === undefined && joining) tx.setCatalog(JOINED_KIND, this.host.nodeId, { since })
    })
  }

  /** This node's member row changed (not at load): it checks it at the next settle. */
  ownMemberChanged(): void {
    this.checkMembership = true
  }

  /**
   * Declared departed while away: rejoins as a new member (run on settle, outside any Yjs
   * transaction). Not while storage refuses writes: the refusal would surface in whatever
   * settled (a peer's message, a client's write already applied); the replica settles
   * again once storage has recovered, and the check runs then.
   */
  rejoinIfDeparted(): void {
    if (!this.checkMembership || this.log.failing) return
    this.checkMembership = false
    this.registerMembership()
  }

  /** The live members, and the version of the member rows they were read at (kept per version: do not change). */
  liveMembers(): { version: number; live: readonly Member[] } {
    return this.current()
  }

  /** Members as the catalog records them, oldest first (a fresh array). */
  members(): Member[] {
    return this.current().members.slice()
  }

  /**
   * Kept per version of the member rows, not of the catalog: every round reads them, and
   * while a cluster starts the catalog moves between any two rounds (join marks).
   */
  private current(): { version: number; members: Member[]; live: Member[]; departed: Set<string> } {
    const version = this.host.membersVersion()
    if (this.known === null || this.known.version !== version) {
      const members = this.listMembers()
      this.known = { version, members, live: members.filter((m) => !m.departed), departed: new Set(members.filter((m) => m.departed).map((m) => m.nodeId)) }
    }
    return this.known
  }

  private listMembers(): Member[] {
    const out: Member[] = []
    for (const [id, v] of this.host.listCatalog('member')) {
      const o = v as { region?: unknown; since?: unknown; departed?: unknown }
      out.push({ nodeId: id, region: typeof o.region === 'string' ? o.region : 'default', since: typeof o.since === 'number' ? o.since : 0, departed: o.departed === true })
    }
    return out.sort((a, b) => a.since - b.since || (a.nodeId < b.nodeId ? -1 : 1))
  }

  /**
   * The member that builds new generations of a shard: the oldest live member holding it
   * that every other live member holding it accepts the shard from (a one-way
   * subscriber's generations would carry its local writes to its publisher). Null if
   * none qualifies: the shard is not compacted.
   */
  builderOf(id: string, members?: Member[]): string | null {
    // Without a link policy the builder follows from the catalog alone: kept per version.
    if (members === undefined && this.host.linkPolicy === null) {
      const version = this.host.catalogVersion()
      if (this.builders === null || this.builders.version !== version) this.builders = { version, of: new Map() }
      let b = this.builders.of.get(id)
      if (b === undefined) {
        b = this.builderAmong(id, this.current().members)
        this.builders.of.set(id, b)
      }
      return b
    }
    return this.builderAmong(id, members ?? this.current().members)
  }

  private builderAmong(id: string, members: readonly Member[]): string | null {
    if (this.host.linkPolicy === null) return members.find((m) => !m.departed && this.host.holds(m.nodeId, m.region, id))?.nodeId ?? null
    const holders = members.filter((m) => !m.departed && this.host.holds(m.nodeId, m.region, id))
    const policy = this.host.linkPolicy
    for (const m of holders) {
      if (policy === null || holders.every((o) => o === m || policy.accepts(o.nodeId, m.nodeId, id))) return m.nodeId
    }
    return null
  }

  private markDeparted(live: readonly Member[]): void {
    const horizon = this.host.options.compaction?.departAfterMs ?? 24 * 3600 * 1000
    const now = this.host.now()
    const seen = this.host.peersLastSeen()
    const gone = live.filter((m) => {
      if (m.nodeId === this.host.nodeId) return false
      const last = seen.get(m.nodeId) ?? null
      const since = last ?? hlcMillis(m.since)
      return now - since > horizon
    })
    if (gone.length === 0) return
    this.host.transact((tx) => {
      for (const m of gone) tx.setCatalog('member', m.nodeId, { region: m.region, since: m.since, departed: true })
    })
  }

  // ---- what peers hold ----------------------------------------------------------------

  /** A peer reported a shard digest equal to ours: it held all we held. */
  noteEqualState(shardId: string, peer: string): void {
    let m = this.equalAt.get(shardId)
    if (m === undefined) {
      m = new Map()
      this.equalAt.set(shardId, m)
    }
    m.set(peer, this.host.now())
    const shard = this.host.shard(shardId)
    // The system shards (catalog, secrets) never compact: no vouch wanted.
    if (shard === undefined || isSystemShard(shard.id)) return
    this.vouches.noteEqual(shard, peer)
    this.held.add(shard, peer)
  }

  /**
   * The held-by sets this replica sends `peer`, whose digest showed it holds the same state
   * of `shardIds`: only for shards whose tombstones would make a new generation due once
   * stable (otherwise nobody waits for them), naming this replica too while its state is
   * durable.
   */
  heldSets(peer: string, shardIds: readonly string[]): HeldSet[] {
    if (!this.enabled) return []
    const out: HeldSet[] = []
    for (const id of shardIds) {
      const shard = this.host.shard(id)
      if (shard === undefined || isSystemShard(id) || shard.hasText || !this.host.holds(this.host.nodeId, this.host.region, id)) continue
      if (!shard.hasDeletedRows() || shard.garbage() + shard.entriesOfRows(shard.deletedRowKeys()) < this.threshold(shard)) continue
      if (this.host.reportedDigest(shard) === shard.digest()) this.held.add(shard, this.host.nodeId)
      const set = this.held.outgoing(shard, this.holdersOf(id), peer, this.heldRound())
      if (set !== null) out.push(set)
    }
    return out
  }

  /**
   * A peer's held-by sets: the holders named that this replica did not know to hold its
   * state count as equal reports from them. Returns this replica's sets of the shards where
   * it knows of more holders than the peer did (its answer).
   */
  noteHeld(from: string, sets: readonly HeldSet[]): HeldSet[] {
    const answer: HeldSet[] = []
    for (const set of sets) {
      const shard = this.host.shard(set.shard)
      if (shard === undefined || isSystemShard(shard.id) || !this.host.holds(this.host.nodeId, this.host.region, shard.id)) continue
      const list = this.holdersOf(shard.id)
      const { added, knowsMore } = this.held.incoming(shard, set, list, from, this.heldRound())
      for (const h of added) {
        if (h === this.host.nodeId) continue
        this.heldLearned++
        this.noteEqualState(shard.id, h)
      }
      if (knowsMore) {
        const mine = this.held.outgoing(shard, list, from, this.heldRound())
        if (mine !== null) answer.push(mine)
      }
    }
    return answer
  }

  /** The anti-entropy round held-by sets count in (wall time over the interval). */
  private heldRound(): number {
    const o = this.host.options
    return Math.floor(this.host.now() / Math.max(1, o.antiEntropyIntervalMs ?? 1000))
  }

  /** A shard's live holders (this replica included when it holds it), per catalog version. */
  private holdersOf(id: string): HolderList {
    const version = this.host.catalogVersion()
    if (this.holderLists === null || this.holderLists.version !== version) this.holderLists = { version, of: new Map() }
    let list = this.holderLists.of.get(id)
    if (list === undefined) {
      list = holderList(this.current().live.filter((m) => this.host.holds(m.nodeId, m.region, id)).map((m) => m.nodeId))
      this.holderLists.of.set(id, list)
    }
    return list
  }

  /** Garbage (overwritten entries, and entries of stable deleted rows) at which a shard is rewritten. */
  private threshold(shard: Shard): number {
    const o = this.host.options.compaction
    return Math.max(o?.minGarbage ?? 1000, shard.entryCount * (o?.ratio ?? 1))
  }

  /** What this replica vouches for of `holders` of a shard (see StateVouches.report). */
  vouchesFor(shardId: string, generation: number, holders: readonly string[]): { groups: ReportGroup[]; stale: string[] } {
    const shard = this.host.shard(shardId)
    const current = shard !== undefined && shard.generation === generation ? this.vouches.own(shard) : null
    return this.vouches.report(shardId, generation, holders, current)
  }

  /** Vouches relayed by a peer, for a shard this replica holds (the system shards never compact). */
  noteReports(shardId: string, generation: number, groups: readonly ReportGroup[]): void {
    const shard = this.host.shard(shardId)
    if (shard === undefined || isSystemShard(shard.id) || generation < shard.generation) return
    for (const g of groups) for (const h of g.holders) if (h !== this.host.nodeId) this.vouches.note(shardId, h, generation, g.stateVector)
  }

  /**
   * When `peer` last reported (by an anti-entropy digest) holding exactly this replica's
   * state of a shard, in wall ms; null if it has not since this replica started. A report
   * later than a local write means the peer held that write and everything else held here.
   */
  peerMatchedAt(shardId: string, peer: string): number | null {
    return this.equalAt.get(shardId)?.get(peer) ?? null
  }

  /** Rows of a shard changed: deleted rows are timed, for `stableDeletes`. */
  noteRows(shard: Shard, changes: readonly RowChange[]): void {
    const now = this.host.now()
    let deleted = this.deletedAt.get(shard.id)
    const states = this.deletedState.get(shard.id)
    for (const c of changes) {
      // Taken again at the next round: a later state than this change.
      states?.delete(c.key)
      if (c.after === null) {
        if (deleted === undefined) {
          deleted = new Map()
          this.deletedAt.set(shard.id, deleted)
        }
        deleted.set(c.key, now)
      } else deleted?.delete(c.key)
    }
  }

  /**
   * Deleted rows whose delete is stable: every other live member holding the shard has
   * since reported holding exactly this replica's state. Then every member holds the
   * delete, and every write concurrent with it is here too (a member's writes before that
   * report are in the state it matched; its writes after it have seen the delete). Their
   * entries can collapse into one marker.
   */
  stableDeletes(shard: Shard): Set<string> {
    return this.deleteStability(shard).stable
  }

  /** The stable deletes of a shard, and the holders whose reports the others wait for. */
  private deleteStability(shard: Shard, members: readonly Member[] = this.current().members): DeleteStability {
    const out = new Set<string>()
    const now = this.host.now()
    let deleted = this.deletedAt.get(shard.id)
    if (deleted === undefined) {
      deleted = new Map()
      this.deletedAt.set(shard.id, deleted)
    }
    let states = this.deletedState.get(shard.id)
    if (states === undefined) {
      states = new Map()
      this.deletedState.set(shard.id, states)
    }
    const others = members.filter((m) => !m.departed && m.nodeId !== this.host.nodeId && this.host.holds(m.nodeId, m.region, shard.id))
    const equal = this.equalAt.get(shard.id)
    // A delete is stable once the oldest of the others' latest equal reports is after it.
    let oldestReport = Number.POSITIVE_INFINITY
    for (const m of others) oldestReport = Math.min(oldestReport, equal?.get(m.nodeId) ?? -1)
    const pending = shard.deletedRowKeys()
    // Rows already collapsed (or live again) need no more tracking.
    const stillDeleted = new Set(pending)
    for (const row of deleted.keys()) if (!stillDeleted.has(row)) deleted.delete(row)
    for (const row of states.keys()) if (!stillDeleted.has(row)) states.delete(row)
    /** Rows not stable by direct reports, with when they were deleted here. */
    const open: Array<[string, number]> = []
    for (const row of pending) {
      let at = deleted.get(row)
      if (at === undefined) {
        // deleted before this replica started: count from now
        at = now
        deleted.set(row, now)
      }
      if (oldestReport > at) out.add(row)
      else open.push([row, at])
    }
    if (open.length === 0) return { stable: out, waitingOn: [] }
    // Relayed reports: a holder vouched for as having durably held a state that this replica
    // holds all of, and that holds all this replica held once the delete was pending here
    // (taken at the first round after it, a later state than the delete itself).
    const current = decodeStateVector(this.vouches.own(shard))
    const vouched = new Map<string, Map<number, number>>()
    if (current !== null) {
      for (const m of others) {
        const v = this.vouches.get(shard.id, m.nodeId)
        if (v === undefined || v.generation !== shard.generation) continue
        const sv = decodeStateVector(v.stateVector)
        if (sv !== null && coversState(current, sv)) vouched.set(m.nodeId, sv)
      }
    }
    const waiting = new Set<string>()
    for (const [row, at] of open) {
      let state = states.get(row)
      if (state === undefined || state.generation !== shard.generation) {
        state = current === null ? undefined : { generation: shard.generation, stateVector: current }
        if (state !== undefined) states.set(row, state)
      }
      let stable = true
      for (const m of others) {
        if ((equal?.get(m.nodeId) ?? -1) > at) continue
        const sv = vouched.get(m.nodeId)
        if (state !== undefined && sv !== undefined && coversState(sv, state.stateVector)) continue
        stable = false
        waiting.add(m.nodeId)
      }
      if (stable) out.add(row)
    }
    return { stable: out, waitingOn: [...waiting] }
  }

  // ---- generations --------------------------------------------------------------------

  /**
   * One round: declare long-silent members departed, drop drained older generations, and
   * build a new generation of each shard this node builds whose history outweighs its
   * live entries.
   */
  compactionRound(): void {
    if (!this.enabled || this.host.isClosed) return
    const { members, live, departed: departedSet } = this.current()
    // While storage refuses writes, departures wait for a later round.
    if (live.length > 0 && live[0]!.nodeId === this.host.nodeId && !this.log.failing) this.markDeparted(live)
    const wanted: ReportsWanted[] = []
    for (const shard of this.host.shards()) {
      // A shard a sliced commit holds is left alone until it ends, as one whose generation is being built (docs/decisions/0038-sliced-commits.md).
      if (isSystemShard(shard.id) || shard.isHeld || this.building === shard) continue
      if (shard.prevs.length > 0) {
        const since = this.adoptedAt.get(shard.id) ?? Number.POSITIVE_INFINITY
        const equal = this.equalAt.get(shard.id)
        const dropped = shard.dropDrained((w) => departedSet.has(w) || (equal?.get(w) ?? -1) > since)
        for (const g of dropped) this.log.remove(previousId(shard.id, g))
        // Entries of the dropped generation no longer count: rows they held up may change.
        if (dropped.length > 0) this.pipeline.run(() => this.pipeline.rows(shard.rematerializeAll('remote')))
        if (shard.prevs.length > 0) continue
      }
      if (!this.host.holds(this.host.nodeId, this.host.region, shard.id) || shard.hasText) continue
      if (this.builderOf(shard.id) !== this.host.nodeId) continue
      // A generation's frontier says its builder held each writer's entries up to it, and
      // it drops entries of rows that read as deleted. A joiner holding rows of a table its
      // catalog does not know yet reads every row as deleted and knows no other member:
      // its generation dropped rows every writer still held, and the writers, adopting it,
      // lost them. Nor does a replica still catching up on the table build from what it has.
      if (!this.host.caughtUpOn(shard.id)) continue
      const stability = this.deleteStability(shard, members)
      // Deletes that still wait for some holders' reports: ask those holders (after this loop).
      if (stability.waitingOn.length > 0) wanted.push({ shard: shard.id, holders: stability.waitingOn })
      // Deleted rows cost their entries until collapsed: those of stable ones count as garbage too.
      if (shard.garbage() + shard.entriesOfRows(stability.stable) < this.threshold(shard)) continue
      // Scans every key: only once the shard is due.
      if (shard.hasHalfAppliedWrites((w) => departedSet.has(w))) continue
      this.compactInTurns(shard, stability.stable)
    }
    this.asks.round(
      wanted,
      this.host.now(),
      3 * Math.max(1, this.interval),
      (peer, shard) => this.host.askState(peer, shard),
      (shard, holders) => this.host.askReports(shard, holders),
    )
  }

  /**
   * Builds a shard's new generation as `compactShard` does; one of BUILD_IN_TURNS_ENTRIES
   * entries or more in parts of BUILD_ENTRIES_PER_TURN, a turn of the scheduler between
   * them (docs/decisions/0038-sliced-commits.md, "Generations"), one at a time. A build
   * the shard changed under is dropped: the next round builds again.
   */
  private compactInTurns(shard: Shard, stableDeleted: ReadonlySet<string>): void {
    if (shard.entryCount < BUILD_IN_TURNS_ENTRIES || this.building !== null) return this.compactShard(shard, stableDeleted)
    const generation = nextGeneration(shard.generation, this.host.nodeId)
    const pending = shard.beginGeneration(generation, builderClientId(shard.id, generation), stableDeleted)
    if (pending === null) return this.compactShard(shard, stableDeleted)
    this.building = shard
    const drop = (): void => {
      this.building = null
      pending.build.doc.destroy()
    }
    const step = (): void => {
      if (this.stopped || this.host.isClosed) return drop()
      let done: boolean
      try {
        done = pending.build.step(BUILD_ENTRIES_PER_TURN)
      } catch (err) {
        drop()
        throw err
      }
      if (!done) {
        this.host.scheduler.setTimeout(0, step)
        return
      }
      this.building = null
      const state = shard.finishGeneration(pending)
      if (state === null) {
        this.buildsDropped++
        return
      }
      this.adoptBuilt(shard, generation, state, stableDeleted)
    }
    step()
  }

  /** Rewrites a shard as a new generation of its live entries, persists it and tells the peers holding it. */
  compactShard(shard: Shard, stableDeleted: ReadonlySet<string> = this.stableDeletes(shard)): void {
    const generation = nextGeneration(shard.generation, this.host.nodeId)
    const state = shard.rewriteAsGeneration(generation, builderClientId(shard.id, generation), stableDeleted)
    this.adoptBuilt(shard, generation, state, stableDeleted)
  }

  private adoptBuilt(shard: Shard, generation: number, state: Uint8Array, stableDeleted: ReadonlySet<string>): void {
    if (stableDeleted.size > 0) this.host.options.onTombstonesDropped?.(shard.id, [...stableDeleted])
    this.generationsAdopted++
    // The snapshot holds everything: records still kept for the shard are in it.
    this.log.discard(shard.id)
    this.log.snapshot(shard.id, { generation, kind: 'snapshot', data: state })
    this.host.announceGeneration(shard, state)
  }

  /**
   * Switches a shard to a newer generation (received whole from its builder): re-applies
   * this node's own newer entries, keeps the old generation as an overlay (on disk too),
   * persists the new one as one snapshot (replacing the old log), and re-resolves.
   */
  adoptGeneration(shard: Shard, generation: number, state: Uint8Array): void {
    // Held by a sliced commit: its builder sends the generation again (anti-entropy) once it ends.
    if (generation <= shard.generation || shard.isHeld) return
    this.pipeline.run(() => {
      const was = shard.generation
      shard.adoptGeneration(generation, state)
      this.adoptedAt.set(shard.id, this.host.now())
      // The generation replaced stays readable until drained, on disk too, so a restart in
      // between shows the same rows.
      const prev = shard.prevs.find((p) => p.generation === was)
      if (prev !== undefined) {
        const encode = (): StoredRecord | undefined => {
          const p = shard.prevs.find((x) => x.generation === was)
          return p === undefined ? undefined : { generation: was, kind: 'snapshot', data: Y.encodeStateAsUpdate(p.doc) }
        }
        this.log.snapshotAs(previousId(shard.id, was), { generation: was, kind: 'snapshot', data: Y.encodeStateAsUpdate(prev.doc) }, encode)
      }
      this.generationsAdopted++
      const snapshot: StoredRecord = { generation, kind: 'snapshot', data: shard.encodeState() }
      // Local re-applications are already kept for append with this generation; appended
      // after the snapshot they are harmless duplicates.
      this.log.discard(shard.id, generation)
      this.log.snapshot(shard.id, snapshot)
      this.pipeline.rows(shard.rematerializeAll('remote'))
    })
  }

  /** An older generation restored at load: only equality reports from now on vouch for its writers. */
  restoredOverlay(shard: Shard): void {
    this.adoptedAt.set(shard.id, this.host.now())
  }
}
