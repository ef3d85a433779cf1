/**
 * Who hears a fresh local update, and whether it can go to them directly
 * (docs/decisions/0040-direct-updates.md).
 *
 * A gossip topic is heard by every node subscribed to it: `concord/all` by every node,
 * a region's topic by the nodes of that region. When every live member that hears a
 * topic is linked to this replica (and has said hello), its updates go to each of them
 * as a direct frame: authenticated by the link like every other direct frame, with no
 * signature to make or check and no gossip router in the way. When one is not, and has
 * been heard from lately through others (reachable only through them), or the replica
 * does not know the members, the topic is gossiped as before, so a node that
 * can only be reached through others still hears it. A live member not connected is
 * taken for away when nothing of it arrived since its link here went down (stopped,
 * crashed, or cut off from this replica alone and idle), or nothing for `awayAfterMs`
 * (five anti-entropy rounds): gossip would not reach a stopped node either, and it
 * catches up by anti-entropy when it is back, as an idle one cut off from this replica
 * alone hears this replica's updates through its anti-entropy with the others (a member
 * stopped is declared departed only after a day).
 *
 * Invariants: the answer is kept per version of the member rows and of the connected
 * peers, for at most a second; a connected peer that has not said hello or is not a live
 * member here, and a peer that said hello but is not connected, make every topic gossiped
 * (what it hears, or who else there is, is not known), and so does a member list without
 * this replica's own row; a scoped peer (a browser replica with a token) is never sent
 * updates directly (it syncs by anti-entropy, as it is kept out of gossip) and never
 * holds the rest back.
 */
import type { ReplicationContext } from './replication-context.js'
import type { AudienceMember, ReplicatedShard } from './replication-host.js'

export class UpdateAudience<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>
  private readonly lastSeen: (peer: string) => number | null
  private readonly downAt: (peer: string) => number | null
  private readonly awayAfterMs: number
  /** Per topic, for one version of the members and of the links, and one second. */
  private kept: { members: number; links: string; byTopic: Map<string, readonly string[] | null> } | null = null

  /**
   * `lastSeen`: when a message from a node last arrived here; `downAt`: when its link
   * here last went down; `awayAfterMs`: how long a live member not connected and not
   * heard from is taken for away (not worth gossiping to).
   */
  constructor(ctx: ReplicationContext<S>, lastSeen: (peer: string) => number | null, downAt: (peer: string) => number | null, awayAfterMs: number) {
    this.ctx = ctx
    this.lastSeen = lastSeen
    this.downAt = downAt
    this.awayAfterMs = awayAfterMs
  }

  /**
   * The peers to send a topic's updates to directly, when they are every live member
   * that hears it; null when the topic must be gossiped. `region`: the topic's region,
   * null for the all-nodes topic; `up`: the peers the transport reports connected now.
   */
  direct(topic: string, region: string | null, up: readonly string[]): readonly string[] | null {
    const members = this.ctx.host.liveMembers?.()
    if (members === undefined) return null
    const now = this.ctx.host.now()
    const links = `${this.ctx.linksVersion}\u0000${Math.floor(now / 1000)}\u0000${up.join('\u0000')}`
    if (this.kept === null || this.kept.members !== members.version || this.kept.links !== links) {
      this.kept = { members: members.version, links, byTopic: new Map() }
    }
    const byTopic = this.kept.byTopic
    let answer = byTopic.get(topic)
    if (answer === undefined) {
      answer = this.compute(members.live, region, new Set(up), now)
      byTopic.set(topic, answer)
    }
    return answer
  }

  private compute(live: readonly AudienceMember[], region: string | null, up: ReadonlySet<string>, now: number): readonly string[] | null {
    const { peers, linked, host } = this.ctx
    const members = new Set<string>()
    for (const m of live) members.add(m.nodeId)
    // This replica's own member row not there yet: the member list is not known.
    if (!members.has(host.nodeId)) return null
    // Connected but not yet said hello: its region, and so what it hears, is not known.
    for (const peer of up) if (!peers.has(peer)) return null
    for (const peer of linked) if (!peers.has(peer)) return null
    const hears = new Set<string>()
    const scoped = new Set<string>()
    for (const [peer, info] of peers) {
      // Said hello but not connected (any more): a node that hears only what is relayed.
      if (!up.has(peer)) return null
      if (this.ctx.scopeOf(peer) !== null) {
        scoped.add(peer)
        continue
      }
      // A connected peer that is no live member here: the member list is behind (a
      // joiner's catalog not caught up, a member row still on its way), so it may not
      // name others either.
      if (!members.has(peer)) return null
      if (region === null || info.region === region) hears.add(peer)
    }
    for (const m of live) {
      if (m.nodeId === host.nodeId || (region !== null && m.region !== region)) continue
      if (hears.has(m.nodeId) || scoped.has(m.nodeId)) continue
      // Not connected, and heard from lately (its own messages, direct or relayed) and
      // since its link here went down (so through others): up somewhere, reachable only
      // through others. Its last word came over the link that went down, or none for
      // that long: away (a stop, a crash; gossip would not reach it).
      const seen = this.lastSeen(m.nodeId)
      const down = this.downAt(m.nodeId)
      if (seen !== null && now - seen < this.awayAfterMs && (down === null || seen > down)) return null
    }
    return [...hears]
  }
}
