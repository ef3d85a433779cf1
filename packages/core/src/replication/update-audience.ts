/**
 * Who hears a fresh local update, and whether it can go to them directly
 * (docs/decisions/0040-direct-updates.md).
 *
 * A gossip topic is heard by every node subscribed to it: `concord/all` by every node,
 * a region's topic by the nodes of that region. When every live member that hears a
 * topic is linked to this replica (and has said hello), its updates go to each of them
 * as a direct frame: authenticated by the link like every other direct frame, with no
 * signature to make or check and no gossip router in the way. When one is not (a node
 * down but not yet declared departed, a cluster that is not a full mesh, a replica that
 * does not know the members), the topic is gossiped as before, so a node that can only
 * be reached through others still hears it.
 *
 * Invariants: the answer is kept per version of the member rows and of the connected
 * peers; a connected peer that has not said hello, or is not a live member here, and a
 * peer that said hello but is not connected, make every topic gossiped (what it hears,
 * or who else there is, is not known), and so does a member list without this replica's
 * own row; a scoped peer (a browser replica with a token) is never sent updates directly (it syncs
 * by anti-entropy, as it is kept out of gossip) and never holds the rest back.
 */
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'

/** A live member as the catalog records it. */
export interface AudienceMember {
  readonly nodeId: string
  readonly region: string
}

/** The live members and a number that moves whenever they change. */
export interface LiveMembers {
  readonly version: number
  readonly live: readonly AudienceMember[]
}

export class UpdateAudience<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>
  /** Per topic, for one version of the members and of the links. */
  private kept: { members: number; links: string; byTopic: Map<string, readonly string[] | null> } | null = null

  constructor(ctx: ReplicationContext<S>) {
    this.ctx = ctx
  }

  /**
   * The peers to send a topic's updates to directly, when they are every live member
   * that hears it; null when the topic must be gossiped. `region`: the topic's region,
   * null for the all-nodes topic; `up`: the peers the transport reports connected now.
   */
  direct(topic: string, region: string | null, up: readonly string[]): readonly string[] | null {
    const members = this.ctx.host.liveMembers?.()
    if (members === undefined) return null
    const links = `${this.ctx.linksVersion}\u0000${up.join('\u0000')}`
    if (this.kept === null || this.kept.members !== members.version || this.kept.links !== links) {
      this.kept = { members: members.version, links, byTopic: new Map() }
    }
    const byTopic = this.kept.byTopic
    let answer = byTopic.get(topic)
    if (answer === undefined) {
      answer = this.compute(members.live, region, new Set(up))
      byTopic.set(topic, answer)
    }
    return answer
  }

  private compute(live: readonly AudienceMember[], region: string | null, up: ReadonlySet<string>): readonly string[] | null {
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
      if (!hears.has(m.nodeId) && !scoped.has(m.nodeId)) return null
    }
    return [...hears]
  }
}
