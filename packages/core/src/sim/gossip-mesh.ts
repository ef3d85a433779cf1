/**
 * Gossip as gossipsub carries it, for the simulator: per topic, each node keeps a mesh of
 * about `d` of its up connections subscribed to the topic (GRAFT is symmetric; a node
 * whose mesh fell below `lo` grafts more, a peer already at `hi` is not grafted). A
 * published message goes to the publisher's mesh (its fanout, when it is not subscribed
 * itself); a node seeing a message for the first time hands it to its replica, naming the
 * origin as sender (the gossip envelope does), and forwards it to its own mesh; a message
 * seen before is dropped. So a write costs its writer `d` sends however large the
 * cluster, and every node about `d` relays, where a broadcast cost the writer n - 1.
 *
 * Meshes are repaired lazily, when a node next sends on the topic: members no longer up
 * or subscribed are pruned (gossipsub does this on its heartbeat). What a broken mesh
 * loses, anti-entropy repairs, as on real nodes.
 *
 * Invariants: a node forwards a message at most once (first sight); the seen cache of a
 * node keeps ids at least SEEN_TTL_MS and at most SEEN_MAX beyond that; meshes hold only
 * nodes the owner is linked to.
 */
import type { SeededRandom } from './seeded-random.js'

export interface MeshDegree {
  /** Mesh size aimed at when grafting. */
  d: number
  /** Below this a node grafts. */
  lo: number
  /** A node with this many mesh peers is not grafted by others. */
  hi: number
}

/** gossipsub's defaults (D = 6, D_lo = 4, D_hi = 12). */
export const GOSSIPSUB_DEGREE: MeshDegree = { d: 6, lo: 4, hi: 12 }

/** What the mesh needs to know of the network now. */
export interface MeshNetwork {
  /** Peers `id` is linked to and can reach, running. */
  upPeers(id: string): Iterable<string>
  isUp(a: string, b: string): boolean
  subscribed(id: string, topic: string): boolean
}

/** gossipsub's seen-cache lifetime (2 minutes). */
const SEEN_TTL_MS = 120_000
/** Ids a node's seen cache holds before expired ones are swept. */
const SEEN_MAX = 4096

export class GossipMesh {
  private readonly net: MeshNetwork
  private readonly random: SeededRandom
  private readonly degree: MeshDegree
  /** Per node, per topic: its mesh peers (topics it is subscribed to). */
  private readonly meshes = new Map<string, Map<string, Set<string>>>()
  /** Per node, per topic: its fanout (topics it publishes on without being subscribed). */
  private readonly fanouts = new Map<string, Map<string, Set<string>>>()
  /** Per node: message ids seen, with when (insertion order is time order). */
  private readonly seen = new Map<string, Map<number, number>>()

  constructor(net: MeshNetwork, random: SeededRandom, degree: MeshDegree = GOSSIPSUB_DEGREE) {
    if (!(degree.lo >= 1 && degree.lo <= degree.d && degree.d <= degree.hi)) throw new Error(`mesh degree needs 1 <= lo <= d <= hi`)
    this.net = net
    this.random = random
    this.degree = degree
  }

  /** Whether `node` sees message `id` for the first time (and remembers it). */
  firstSight(node: string, id: number, now: number): boolean {
    let s = this.seen.get(node)
    if (s === undefined) {
      s = new Map()
      this.seen.set(node, s)
    }
    if (s.has(id)) return false
    if (s.size >= SEEN_MAX) {
      for (const [old, at] of s) {
        if (now - at < SEEN_TTL_MS) break
        s.delete(old)
      }
    }
    s.set(id, now)
    return true
  }

  /** The peers `node` sends a message on `topic` to, repairing its mesh first; `except` are left out. */
  targets(node: string, topic: string, except: readonly string[]): string[] {
    const subscribed = this.net.subscribed(node, topic)
    // Subscribing turns a fanout into a mesh (gossipsub grafts it): the fanout is dropped.
    if (subscribed) this.fanouts.get(node)?.delete(topic)
    const mesh = this.setOf(subscribed ? this.meshes : this.fanouts, node, topic)
    for (const p of mesh) if (!this.net.isUp(node, p) || !this.net.subscribed(p, topic)) mesh.delete(p)
    if (mesh.size < this.degree.lo) this.graft(node, topic, mesh)
    const out: string[] = []
    for (const p of mesh) if (!except.includes(p)) out.push(p)
    return out
  }

  /** A node crashed: its meshes and seen cache go with its process. */
  forget(node: string): void {
    this.meshes.delete(node)
    this.fanouts.delete(node)
    this.seen.delete(node)
  }

  private graft(node: string, topic: string, mesh: Set<string>): void {
    // A fanout (a publisher not subscribed to the topic) is not grafted back: its peers would forward to it.
    const symmetric = this.net.subscribed(node, topic)
    const candidates: string[] = []
    for (const p of this.net.upPeers(node)) {
      if (mesh.has(p) || !this.net.subscribed(p, topic)) continue
      if (symmetric && this.meshOf(p, topic).size >= this.degree.hi) continue
      candidates.push(p)
    }
    for (let i = 0; i < candidates.length && mesh.size < this.degree.d; i++) {
      const j = i + Math.floor(this.random.next() * (candidates.length - i))
      ;[candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!]
      const p = candidates[i]!
      mesh.add(p)
      if (symmetric) this.meshOf(p, topic).add(node)
    }
  }

  private meshOf(node: string, topic: string): Set<string> {
    return this.setOf(this.meshes, node, topic)
  }

  private setOf(sets: Map<string, Map<string, Set<string>>>, node: string, topic: string): Set<string> {
    let byTopic = sets.get(node)
    if (byTopic === undefined) {
      byTopic = new Map()
      sets.set(node, byTopic)
    }
    let mesh = byTopic.get(topic)
    if (mesh === undefined) {
      mesh = new Set()
      byTopic.set(topic, mesh)
    }
    return mesh
  }
}
