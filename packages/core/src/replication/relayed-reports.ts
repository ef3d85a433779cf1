/**
 * Relayed state reports (docs/decisions/0018-stability-within-holders.md): how a shard's
 * builder hears that holders it has no connection to hold its deletes.
 *
 * A replica that saw a holder's equal report (a matching digest, or a SYNC_DIFF hash)
 * knows the holder durably held exactly its own state then: it vouches for the holder
 * with that state's vector (housekeeping/state-vouches.ts). The builder asks a few of
 * its connected holders (REPORTS_ASK, naming the holders it cannot reach); each answers
 * with the vouches it has (REPORTS, grouped by state vector), asks the named holders it is
 * connected to for their state (an ordinary SYNC_REQ, whose answer becomes a vouch), and,
 * while the ask has hops left, passes it on to a few of its own connected holders, whose
 * answers it keeps for the builder's next ask. So reports cross the connection graph in
 * its diameter rather than needing a link from every holder to the builder.
 *
 * Invariants (limits): an ask names at most MAX_REPORT_HOLDERS holders and reaches
 * RELAYS_PER_ASK peers, each passing it on to at most FORWARDS_PER_ASK and asking at
 * most DIRECT_ASKS_PER_ASK holders, for at most REPORT_HOPS hops; a relayer asks one
 * holder about one shard at most once per ASK_GAP_MS. Asks go out only while the builder
 * has deletes waiting (StateReportAsks). A vouch only ever says what a holder durably
 * held; whether it counts is the builder's decision (Housekeeper.deleteStability).
 */
import type { Fragments } from './fragments.js'
import { MAX_REPORT_HOLDERS, MessageType, type ReportGroup } from './messages.js'
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'

/** Connected holders the builder asks per ask. */
export const RELAYS_PER_ASK = 3
/** Connected holders a relayer passes an ask on to. */
export const FORWARDS_PER_ASK = 2
/** Named holders a relayer asks for their state per ask. */
export const DIRECT_ASKS_PER_ASK = 8
/** Hops an ask from the builder may be passed on (builder -> relayer -> relayer -> holder). */
export const REPORT_HOPS = 2
/** A relayer asks one holder about one shard at most this often (ms). */
const ASK_GAP_MS = 3000
/** Bound on the remembered (shard, holder) asks of a relayer. */
const MAX_REMEMBERED_ASKS = 4096

export class RelayedReports<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>
  private readonly fragments: Fragments<S>
  private readonly askState: (peer: string, shardId: string) => boolean
  /** (shard U+0000 holder) -> when this replica last asked the holder for its state as a relayer. */
  private readonly askedAt = new Map<string, number>()
  /** Per shard: where the next ask starts in a list of holders longer than one ask names. */
  private readonly nextName = new Map<string, number>()
  /** Asks received and answered (for tests and metrics). */
  answered = 0

  constructor(ctx: ReplicationContext<S>, fragments: Fragments<S>, askState: (peer: string, shardId: string) => boolean) {
    this.ctx = ctx
    this.fragments = fragments
    this.askState = askState
  }

  /** Connected peers holding a shard, other than `except`, in random order, at most `n`. */
  private connectedHolders(shardId: string, n: number, except: ReadonlySet<string>): string[] {
    const host = this.ctx.host
    const out: string[] = []
    for (const [peer, info] of this.ctx.peers) if (!except.has(peer) && this.ctx.linked.has(peer) && host.holds(peer, info.region, shardId)) out.push(peer)
    out.sort()
    // Partial Fisher-Yates on the injected random source: the simulator stays deterministic.
    for (let i = 0; i < Math.min(n, out.length); i++) {
      const j = i + Math.floor(host.random() * (out.length - i))
      const t = out[i]!
      out[i] = out[j]!
      out[j] = t
    }
    return out.slice(0, n)
  }

  /** The builder's ask: some connected holders are asked to vouch for `holders`. False when none is connected. */
  ask(shardId: string, holders: readonly string[]): boolean {
    const shard = this.ctx.host.shard(shardId)
    if (shard === undefined || this.ctx.stopped) return false
    const relays = this.connectedHolders(shardId, RELAYS_PER_ASK, new Set(holders))
    if (relays.length === 0) return false
    let named = [...holders]
    if (holders.length > MAX_REPORT_HOLDERS) {
      // In turn: each ask names the next MAX_REPORT_HOLDERS of them.
      const start = (this.nextName.get(shardId) ?? 0) % holders.length
      named = [...holders.slice(start), ...holders.slice(0, start)].slice(0, MAX_REPORT_HOLDERS)
      if (this.nextName.size >= MAX_REMEMBERED_ASKS) this.nextName.clear()
      this.nextName.set(shardId, start + MAX_REPORT_HOLDERS)
    }
    const msg = { type: MessageType.ReportsAsk, shard: shardId, generation: shard.generation, hops: REPORT_HOPS, holders: named } as const
    for (const peer of relays) this.fragments.send(peer, msg)
    return true
  }

  onAsk(from: string, shardId: string, generation: number, hops: number, holders: string[]): void {
    const host = this.ctx.host
    const shard = host.shard(shardId)
    if (shard === undefined || shard.generation !== generation || !host.holds(host.nodeId, host.region, shardId)) return
    this.answered++
    const { groups, stale } = host.vouchesFor(shardId, generation, holders)
    if (groups.length > 0) this.fragments.send(from, { type: MessageType.Reports, shard: shardId, generation, groups })
    if (stale.length === 0) return
    // Holders not vouched for at this replica's current state: ask those connected here,
    // pass the rest on.
    const now = host.now()
    const rest: string[] = []
    let direct = 0
    for (const h of stale) {
      if (h === host.nodeId) continue
      const info = this.ctx.peers.get(h)
      if (info === undefined || !this.ctx.linked.has(h)) {
        rest.push(h)
        continue
      }
      const key = `${shardId}\u0000${h}`
      if (direct >= DIRECT_ASKS_PER_ASK || now - (this.askedAt.get(key) ?? Number.NEGATIVE_INFINITY) < ASK_GAP_MS) continue
      if (!this.askState(h, shardId)) continue
      if (this.askedAt.size >= MAX_REMEMBERED_ASKS) this.askedAt.clear()
      this.askedAt.set(key, now)
      direct++
    }
    if (hops === 0 || rest.length === 0) return
    const msg = { type: MessageType.ReportsAsk, shard: shardId, generation, hops: hops - 1, holders: rest } as const
    for (const peer of this.connectedHolders(shardId, FORWARDS_PER_ASK, new Set([from, ...rest]))) this.fragments.send(peer, msg)
  }

  onReports(from: string, shardId: string, generation: number, groups: ReportGroup[]): void {
    if (!this.ctx.peers.has(from)) return
    this.ctx.host.noteReports(shardId, generation, groups)
  }
}
