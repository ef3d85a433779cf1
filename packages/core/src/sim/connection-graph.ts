/**
 * Which simulated nodes hold a connection to which: the libp2p connections of a real
 * cluster, which a connection manager keeps between a low and a high watermark. A new
 * node dials first every node of its own region that still has room for one, then a few
 * random nodes of other regions, then random nodes until it holds `target` links (a node
 * holds at most `max`); a link is symmetric and lasts for the run. Partitions and crashes
 * do not remove links: a link is *up* while both ends run and can reach each other (the
 * simulator decides that), and the replica hears onPeerUp / onPeerDown as that changes,
 * as a real node does when a connection breaks and its dialer restores it.
 *
 * Why: with every node linked to every other, a heal or a restart made each replica greet
 * (HELLO) and sync with every peer it could newly reach, O(n) per node and O(n^2) per
 * event. Each node now has at most `max` links, so that cost is bounded by the degree,
 * while a random graph of this degree stays connected (gossip and anti-entropy cross it
 * in O(log n) hops). Clusters of up to `target + 1` nodes are fully linked, as before.
 *
 * Why region first: a region-scoped shard's holders are the nodes of its region, and a
 * delete in it becomes stable only once the shard's builder has heard each of them report
 * its state (docs/decisions/0018-stability-within-holders.md) over a direct connection.
 * With links drawn at random, a 45-node cluster of three regions left the builder linked
 * to about half the other holders, and no delete became stable. A real node's connection
 * manager does the same by tagging the peers of its region (kept before others when
 * trimming); peers of a region talk most (region topics, region-scoped anti-entropy).
 * A region larger than `max - reserve` is not fully linked: stability there waits on the
 * links it has. Links for other regions are reserved (see `reserve`): filling every slot
 * with the own region cut a small region off a large one; and bounded (`crossMax`):
 * random dials from every region filled the first nodes of a region before its later
 * nodes came.
 *
 * Invariants: `a` links `b` exactly when `b` links `a`; no node has more than `max` links
 * (beyond `target` only by being dialed, or by dialing nodes of its own region).
 */
import type { SeededRandom } from './seeded-random.js'

export interface LinkLimits {
  /** Links a joining node dials (fewer if fewer nodes have room). */
  target: number
  /** Most links a node holds (a node at this many is not dialed). */
  max: number
}

/** libp2p's connection manager keeps tens of connections; these keep 20-peer clusters fully linked. */
export const DEFAULT_LINK_LIMITS: LinkLimits = { target: 20, max: 40 }

export class ConnectionGraph {
  private readonly links = new Map<string, Set<string>>()
  /** Each node's region, for nodes added with one. */
  private readonly regions = new Map<string, string>()
  /**
   * Links a node keeps for other regions: links of its own region stop at `max - reserve`,
   * and a joining node dials this many nodes of other regions, so a region as large as
   * the bound neither fills its nodes nor cuts itself off (a quarter of `target`, at least 1).
   */
  private readonly reserve: number
  /**
   * Links to other regions a node holds at most (half of `max`, at least `reserve`), so
   * that dials from everywhere do not fill the slots its own region's later nodes need.
   */
  private readonly crossMax: number
  /** Per node with a region: how many of its links go to other regions. */
  private readonly cross = new Map<string, number>()
  private readonly limits: LinkLimits
  private readonly random: SeededRandom

  constructor(random: SeededRandom, limits: LinkLimits = DEFAULT_LINK_LIMITS) {
    if (!(limits.target >= 1 && limits.max >= limits.target)) throw new Error(`link limits need 1 <= target <= max, got ${limits.target}, ${limits.max}`)
    this.random = random
    this.limits = limits
    this.reserve = Math.max(1, Math.floor(limits.target / 4))
    this.crossMax = Math.max(this.reserve, Math.floor(limits.max / 2))
  }

  /**
   * Adds a node of `region`: linked to every earlier node of that region with room for a
   * link of its region (fewer than `max - reserve` links, on both ends), then to `reserve`
   * random earlier nodes of other regions with room for such a link (fewer than `max`
   * links, of which fewer than `crossMax` to other regions), then to random earlier nodes
   * with room until it has `target` links (fewer if fewer have room). Without a region,
   * only the last: `target` random nodes with fewer than `max` links.
   */
  add(id: string, region?: string): void {
    if (this.links.has(id)) throw new Error(`node ${id} is already linked`)
    const mine = new Set<string>()
    this.links.set(id, mine)
    const { max, target } = this.limits
    const size = (node: string) => this.links.get(node)!.size
    if (region === undefined) {
      this.dialRandom(id, target, (other) => size(other) < max)
      return
    }
    this.regions.set(id, region)
    this.cross.set(id, 0)
    const regionMax = max - this.reserve
    for (const other of this.links.keys()) {
      if (mine.size >= regionMax) break
      if (other !== id && this.regions.get(other) === region && size(other) < regionMax) this.link(id, other)
    }
    const crossRoom = (other: string) => (this.cross.get(other) ?? 0) < this.crossMax && (this.cross.get(id) ?? 0) < this.crossMax
    this.dialRandom(id, this.reserve, (other) => this.regions.get(other) !== region && size(other) < max && crossRoom(other))
    this.dialRandom(id, target - mine.size, (other) => size(other) < max && (this.regions.get(other) === region || crossRoom(other)))
  }

  /** Links `id` to up to `count` random earlier nodes it is not linked to that pass `fits`. */
  private dialRandom(id: string, count: number, fits: (other: string) => boolean): void {
    const mine = this.links.get(id)!
    const others: string[] = []
    for (const other of this.links.keys()) if (other !== id && !mine.has(other) && fits(other)) others.push(other)
    // A partial Fisher-Yates shuffle: the first few of a random permutation.
    const take = Math.min(Math.max(0, count), others.length)
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(this.random.next() * (others.length - i))
      ;[others[i], others[j]] = [others[j]!, others[i]!]
      // The cross-region bound of the dialer may have been reached by an earlier pick.
      if (fits(others[i]!)) this.link(id, others[i]!)
    }
  }

  private link(a: string, b: string): void {
    this.links.get(a)!.add(b)
    this.links.get(b)!.add(a)
    const ra = this.regions.get(a)
    const rb = this.regions.get(b)
    if (ra !== undefined && rb !== undefined && ra !== rb) {
      this.cross.set(a, (this.cross.get(a) ?? 0) + 1)
      this.cross.set(b, (this.cross.get(b) ?? 0) + 1)
    }
  }

  /** The nodes `id` is linked to (up or not). */
  neighbours(id: string): ReadonlySet<string> {
    return this.links.get(id) ?? EMPTY
  }
}

const EMPTY: ReadonlySet<string> = new Set()
