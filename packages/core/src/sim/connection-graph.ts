/**
 * Which simulated nodes hold a connection to which: the libp2p connections of a real
 * cluster, which a connection manager keeps between a low and a high watermark. A new
 * node dials `target` random nodes that still have room (fewer than `max` links); a link
 * is symmetric and lasts for the run. Partitions and crashes do not remove links: a link
 * is *up* while both ends run and can reach each other (the simulator decides that), and
 * the replica hears onPeerUp / onPeerDown as that changes, as a real node does when a
 * connection breaks and its dialer restores it.
 *
 * Why: with every node linked to every other, a heal or a restart made each replica greet
 * (HELLO) and sync with every peer it could newly reach, O(n) per node and O(n^2) per
 * event. Each node now has at most `max` links, so that cost is bounded by the degree,
 * while a random graph of this degree stays connected (gossip and anti-entropy cross it
 * in O(log n) hops). Clusters of up to `target + 1` nodes are fully linked, as before.
 *
 * Invariants: `a` links `b` exactly when `b` links `a`; no node has more than `max` links
 * (beyond `target` only by being dialed).
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
  private readonly limits: LinkLimits
  private readonly random: SeededRandom

  constructor(random: SeededRandom, limits: LinkLimits = DEFAULT_LINK_LIMITS) {
    if (!(limits.target >= 1 && limits.max >= limits.target)) throw new Error(`link limits need 1 <= target <= max, got ${limits.target}, ${limits.max}`)
    this.random = random
    this.limits = limits
  }

  /** Adds a node, linked to up to `target` random earlier nodes with room. */
  add(id: string): void {
    if (this.links.has(id)) throw new Error(`node ${id} is already linked`)
    const room: string[] = []
    for (const [other, set] of this.links) if (set.size < this.limits.max) room.push(other)
    const mine = new Set<string>()
    // A partial Fisher-Yates shuffle: the first `target` of a random permutation.
    const take = Math.min(this.limits.target, room.length)
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(this.random.next() * (room.length - i))
      ;[room[i], room[j]] = [room[j]!, room[i]!]
      mine.add(room[i]!)
      this.links.get(room[i]!)!.add(id)
    }
    this.links.set(id, mine)
  }

  /** The nodes `id` is linked to (up or not). */
  neighbours(id: string): ReadonlySet<string> {
    return this.links.get(id) ?? EMPTY
  }
}

const EMPTY: ReadonlySet<string> = new Set()
