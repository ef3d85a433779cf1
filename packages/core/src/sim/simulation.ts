/**
 * Deterministic peer simulator: many replicas in one process on a virtual clock, over a
 * seeded network that delays, drops, duplicates, reorders and partitions messages, and
 * crashes and restarts nodes with their storage.
 *
 * Everything a replica waits on (timers, message delivery) is an event in one queue
 * ordered by (virtual time, sequence number); all randomness comes from one seed. So the
 * same seed gives the same run, event for event: `trace()` hashes every delivery, and
 * tests check two runs of one seed produce the same hash. Storage is in memory and
 * survives `crash()`; anything not yet appended is lost, as on a real crash. With
 * `storageTiming`, writes take virtual time to become durable (SimStorage) and a crash
 * loses those still in flight, as kill -9 does to a real node; with `storageFaults` the
 * disks are also slow now and then, fill up for spells, and tear at a crash (DiskFaults).
 * Every node checkpoints its rows after a quiet spell (RowCheckpoint), as a server does,
 * so a restart meets row snapshots older than its log and applies the records after them,
 * and puts away the documents of shards idle for a moment (ShardHibernation), so writes,
 * syncs and generations meet documents that must be loaded again first.
 */
import type { ReplicaOptions, Scheduler, Transport, TransportHandler } from '../api.js'
import { fnv1a } from '../codec/checksum.js'
import { Replica } from '../replica.js'
import { RowCheckpoint } from '../rows/row-checkpoint.js'
import { ShardHibernation } from '../rows/shard-hibernation.js'
import { MemoryStorage } from '../storage/memory-storage.js'
import type { Row } from '../types.js'
import { SeededRandom } from './seeded-random.js'
import { SimStorage, type StorageTiming } from './sim-storage.js'
import { DiskFaults, type DiskFaultCounts, type StorageFaults } from './disk-faults.js'
import { ConnectionGraph, type LinkLimits } from './connection-graph.js'
import { GossipMesh, type MeshDegree } from './gossip-mesh.js'
import { TrafficMeter, kindOf } from './traffic-meter.js'

/** Start of virtual time: 2026-01-01T00:00:00Z, so ids and timestamps look real. */
export const SIM_EPOCH_MS = 1_767_225_600_000

export interface NetworkFaults {
  /** Probability a message is lost. */
  drop: number
  /** Probability a message is delivered twice. */
  duplicate: number
  /** Delivery delay range in ms; a wide range reorders messages. */
  minDelayMs: number
  maxDelayMs: number
}

export const NO_FAULTS: NetworkFaults = { drop: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 5 }

export interface SimulationOptions {
  seed: number
  faults?: Partial<NetworkFaults>
  /** Anti-entropy interval of every replica (virtual ms); default 500. */
  antiEntropyIntervalMs?: number
  /**
   * Durable writes take this long (virtual ms), one after another; a crash loses those in
   * flight. Default: none, storage is synchronous (every write durable at once).
   */
  storageTiming?: StorageTiming
  /** Seeded disk faults (slow fsync, disk full, torn tail); they need `storageTiming`. Default none. */
  storageFaults?: StorageFaults
  /** Connections each node dials and holds at most (connection-graph.ts); default 20 and 40. */
  links?: LinkLimits
  /** Gossip mesh degree (gossip-mesh.ts); default gossipsub's 6 (4..12). */
  meshDegree?: MeshDegree
}

export interface SimNodeSpec {
  id: string
  region?: string
  /** This node's wall clock runs this many ms ahead (negative: behind). */
  clockSkewMs?: number
  options?: Partial<ReplicaOptions>
}

interface SimEvent {
  at: number
  seq: number
  node: string | null
  epoch: number
  run: () => void
}

/** A gossip message in flight, relayed hop by hop. */
interface GossipMessage {
  id: number
  origin: string
  topic: string
  data: Uint8Array
}

/**
 * Virtual ms without a row change before a node checkpoints its rows. Short (node-server
 * waits 2 s): the campaign's writes come every few hundred virtual ms, so its crashes
 * then meet snapshots that describe the log, that are records behind it, and that a log
 * compaction or a new generation made unusable (all three seen in seeds 1..10).
 */
const ROW_CHECKPOINT_QUIET_MS = 100

/**
 * Virtual ms without use before a node puts a shard's document away (node-server waits
 * 2 minutes), and the fewest entries it takes: short and none, so the campaign's writes,
 * syncs, generations and crashes keep meeting shards that are put away and loaded again.
 */
const HIBERNATE_AFTER_MS = 300
const HIBERNATE_MIN_ENTRIES = 1

interface SimNode {
  spec: SimNodeSpec
  storage: MemoryStorage
  replica: Replica | null
  transport: SimTransport | null
  /** Bumped on every crash: events scheduled by an earlier life are dropped. */
  epoch: number
  random: SeededRandom
  /** Draws the storage delays (kept apart from the replica's own stream). */
  diskRandom: SeededRandom
  /** The disk's faults, for all its lives; null without `storageTiming`. */
  disk: DiskFaults | null
  /** Storage of the current life, when writes take time (a crash tears its tail). */
  simStorage: SimStorage | null
  /** Checkpoints the rows of the current life, as a node does, so crashes meet row snapshots older than the log. */
  checkpoint: RowCheckpoint | null
  /** Puts away the current life's idle shards, as a node does (ShardHibernation). */
  hibernation: ShardHibernation | null
}

class EventQueue {
  private heap: SimEvent[] = []

  get size(): number {
    return this.heap.length
  }

  push(e: SimEvent): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (less(h[p]!, h[i]!)) break
      ;[h[p], h[i]] = [h[i]!, h[p]!]
      i = p
    }
  }

  peek(): SimEvent | undefined {
    return this.heap[0]
  }

  pop(): SimEvent | undefined {
    const h = this.heap
    if (h.length === 0) return undefined
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l]!, h[m]!)) m = l
        if (r < h.length && less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[m], h[i]] = [h[i]!, h[m]!]
        i = m
      }
    }
    return top
  }
}

function less(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

class SimTransport implements Transport {
  handler: TransportHandler | null = null
  readonly topics = new Set<string>()
  private readonly sim: Simulation
  private readonly id: string

  constructor(sim: Simulation, id: string) {
    this.sim = sim
    this.id = id
  }

  start(handler: TransportHandler): void {
    this.handler = handler
  }

  send(peer: string, data: Uint8Array): void {
    this.sim.deliver(this.id, peer, data)
  }

  publish(topic: string, data: Uint8Array): void {
    this.sim.publish(this.id, topic, data)
  }

  subscribe(topic: string): void {
    this.topics.add(topic)
    this.sim.joinTopic(this.id, topic)
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic)
  }

  peers(): string[] {
    return this.sim.connectedPeers(this.id)
  }

  stop(): void {
    this.handler = null
  }
}

export class Simulation {
  readonly seed: number
  private readonly rng: SeededRandom
  private readonly queue = new EventQueue()
  private readonly nodes = new Map<string, SimNode>()
  /** Shards put away in nodes' earlier lives (`hibernations`). */
  private hibernatedBefore = 0
  private seq = 0
  private time = SIM_EPOCH_MS
  private faults: NetworkFaults
  private readonly antiEntropyIntervalMs: number
  private readonly storageTiming: StorageTiming | null
  private readonly storageFaults: StorageFaults
  /** Groups of a partition: nodes in different groups cannot talk. Empty: fully connected. */
  private groups: Array<Set<string>> = []
  private traceHash = 0x811c9dc5
  /** Set when a storage write completed: its continuations run before the next event. */
  private settleMicrotasks = false
  private readonly encoder = new TextEncoder()
  /** Messages delivered, dropped and duplicated so far (`gossipDuplicates`: gossip a node had seen, not handed on). */
  readonly counters = { delivered: 0, dropped: 0, duplicated: 0, events: 0, gossipDuplicates: 0 }
  /** Messages and bytes every node handed to the network, by kind and by node. */
  readonly traffic = new TrafficMeter()
  private readonly graph: ConnectionGraph
  private readonly mesh: GossipMesh
  private gossipIds = 0

  constructor(options: SimulationOptions) {
    this.seed = options.seed >>> 0
    this.rng = new SeededRandom(this.seed)
    this.faults = { ...NO_FAULTS, ...options.faults }
    this.antiEntropyIntervalMs = options.antiEntropyIntervalMs ?? 500
    this.storageTiming = options.storageTiming ?? null
    this.storageFaults = options.storageFaults ?? {}
    if (options.storageFaults !== undefined && this.storageTiming === null) throw new Error('storageFaults need storageTiming')
    // Streams of their own, so links and meshes do not shift the network's draws.
    this.graph = new ConnectionGraph(this.rng.fork('links'), options.links)
    this.mesh = new GossipMesh(
      {
        upPeers: (id) => this.startedPeers(id),
        isUp: (a, b) => this.started(a) && this.started(b) && this.graph.neighbours(a).has(b) && this.canReach(a, b),
        subscribed: (id, topic) => this.subscribed(id, topic),
      },
      this.rng.fork('mesh'),
      options.meshDegree,
    )
  }

  /** Current virtual time (ms since the Unix epoch). */
  get now(): number {
    return this.time
  }

  setFaults(faults: Partial<NetworkFaults>): void {
    this.faults = { ...this.faults, ...faults }
  }

  get currentFaults(): NetworkFaults {
    return { ...this.faults }
  }

  async addNode(spec: SimNodeSpec): Promise<Replica> {
    if (this.nodes.has(spec.id)) throw new Error(`node ${spec.id} already exists`)
    const random = this.rng.fork(spec.id)
    const diskRandom = random.fork('disk')
    const disk = this.storageTiming === null ? null : new DiskFaults(this.storageFaults, () => diskRandom.next(), this.time)
    const node: SimNode = { spec, storage: new MemoryStorage(), replica: null, transport: null, epoch: 0, random, diskRandom, disk, simStorage: null, checkpoint: null, hibernation: null }
    this.nodes.set(spec.id, node)
    this.graph.add(spec.id, spec.region)
    return this.boot(node)
  }

  private scheduler(node: SimNode): Scheduler {
    return {
      setTimeout: (ms, fn) => {
        let cancelled = false
        this.schedule(Math.max(0, ms), node.spec.id, node.epoch, () => {
          if (!cancelled) fn()
        })
        return () => {
          cancelled = true
        }
      },
    }
  }

  private async boot(node: SimNode): Promise<Replica> {
    const id = node.spec.id
    const transport = new SimTransport(this, id)
    node.transport = transport
    const epoch = node.epoch
    const storage =
      this.storageTiming === null
        ? node.storage
        : new SimStorage(
            node.storage,
            this.storageTiming,
            (ms, fn) =>
              this.schedule(ms, id, epoch, () => {
                fn()
                // What waits for durability (gossip, acknowledgements) runs before the next event.
                this.settleMicrotasks = true
              }),
            () => this.time,
            () => node.diskRandom.next(),
            node.disk,
          )
    node.simStorage = storage instanceof SimStorage ? storage : null
    const scheduler = this.scheduler(node)
    const replica = await Replica.open({
      nodeId: id,
      region: node.spec.region ?? 'default',
      storage,
      transport,
      clock: () => this.time + (node.spec.clockSkewMs ?? 0),
      random: () => node.random.next(),
      scheduler,
      antiEntropyIntervalMs: this.antiEntropyIntervalMs,
      // As the node server does: a peer's rows reach storage a turn after they are applied (a crash may fall between).
      handOffRemote: (fn) => void scheduler.setTimeout(0, fn),
      ...node.spec.options,
    })
    node.replica = replica
    node.checkpoint = new RowCheckpoint(replica, { scheduler: this.scheduler(node), now: () => this.time, quietMs: ROW_CHECKPOINT_QUIET_MS })
    node.hibernation = new ShardHibernation(replica, { scheduler: this.scheduler(node), quietMs: HIBERNATE_AFTER_MS, minEntries: HIBERNATE_MIN_ENTRIES })
    for (const peer of this.connectedPeers(id)) {
      this.nodes.get(peer)!.transport?.handler?.onPeerUp(id)
    }
    return replica
  }

  /** Shards put away by every node's hibernation, over all lives. */
  hibernations(): number {
    let n = this.hibernatedBefore
    for (const node of this.nodes.values()) n += node.hibernation?.hibernated ?? 0
    return n
  }

  replica(id: string): Replica {
    const r = this.nodes.get(id)?.replica
    if (r === undefined || r === null) throw new Error(`node ${id} is not running`)
    return r
  }

  /** Ids of all nodes, running or crashed, in creation order. */
  nodeIds(): string[] {
    return [...this.nodes.keys()]
  }

  isRunning(id: string): boolean {
    return (this.nodes.get(id)?.replica ?? null) !== null
  }

  /** Ids of running nodes `id` is linked to and can currently reach (its up connections), in link order. */
  connectedPeers(id: string): string[] {
    const out: string[] = []
    for (const other of this.graph.neighbours(id)) {
      const n = this.nodes.get(other)
      if (n === undefined || n.replica === null || n.transport === null || n.transport.handler === null) continue
      if (this.canReach(id, other)) out.push(other)
    }
    return out
  }

  /** Nodes `id` holds a connection to, up or not (connection-graph.ts). */
  linkedPeers(id: string): string[] {
    return [...this.graph.neighbours(id)]
  }

  /** Whether a node's transport is started (booting or running). */
  private started(id: string): boolean {
    const t = this.nodes.get(id)?.transport
    return t !== null && t !== undefined && t.handler !== null
  }

  private *startedPeers(id: string): Iterable<string> {
    for (const other of this.graph.neighbours(id)) if (this.started(other) && this.canReach(id, other)) yield other
  }

  subscribed(id: string, topic: string): boolean {
    return this.nodes.get(id)?.transport?.topics.has(topic) ?? false
  }

  private canReach(a: string, b: string): boolean {
    if (this.groups.length === 0) return true
    const ga = this.groups.find((g) => g.has(a))
    const gb = this.groups.find((g) => g.has(b))
    return ga !== undefined && ga === gb
  }

  private schedule(delay: number, node: string | null, epoch: number, run: () => void): void {
    this.queue.push({ at: this.time + delay, seq: this.seq++, node, epoch, run })
  }

  /** Queues a message; the network decides whether, when and how often it arrives. */
  deliver(from: string, to: string, data: Uint8Array): void {
    this.traffic.sent(from, kindOf(data), data.length)
    this.transmit(from, to, data, (h) => h.onMessage(from, data))
  }

  /** Publishes on a topic over the gossip mesh (gossip-mesh.ts): to the publisher's mesh peers, who relay it. */
  publish(from: string, topic: string, data: Uint8Array): void {
    const id = ++this.gossipIds
    this.mesh.firstSight(from, id, this.time)
    for (const peer of this.mesh.targets(from, topic, [])) this.relay(from, peer, { id, origin: from, topic, data })
  }

  /** A node subscribed to a topic: it grafts its mesh at once (gossipsub's JOIN). */
  joinTopic(id: string, topic: string): void {
    this.mesh.targets(id, topic, [])
  }

  private relay(from: string, to: string, msg: GossipMessage): void {
    this.traffic.sent(from, kindOf(msg.data), msg.data.length)
    this.transmit(from, to, msg.data, (h) => {
      if (!this.mesh.firstSight(to, msg.id, this.time)) {
        this.counters.gossipDuplicates++
        return
      }
      h.onMessage(msg.origin, msg.data)
      if (!this.started(to)) return
      for (const peer of this.mesh.targets(to, msg.topic, [from, msg.origin])) this.relay(to, peer, msg)
    })
  }

  private transmit(from: string, to: string, data: Uint8Array, arrive: (h: TransportHandler) => void): void {
    if (!this.canReach(from, to) || this.rng.chance(this.faults.drop)) {
      this.counters.dropped++
      return
    }
    const copies = this.rng.chance(this.faults.duplicate) ? 2 : 1
    if (copies === 2) this.counters.duplicated++
    const target = this.nodes.get(to)
    if (target === undefined) return
    for (let i = 0; i < copies; i++) {
      const delay = this.rng.int(this.faults.minDelayMs, this.faults.maxDelayMs)
      const epoch = target.epoch
      this.schedule(delay, to, epoch, () => {
        if (!this.canReach(from, to)) {
          this.counters.dropped++
          return
        }
        const h = target.transport?.handler
        if (h === null || h === undefined || target.replica === null) return
        this.counters.delivered++
        this.traceHash = fnv1a(data, fnv1a(this.encoder.encode(`${this.time}:${from}>${to}:`), this.traceHash))
        arrive(h)
      })
    }
  }

  private notifyLinks(before: Map<string, Set<string>>): void {
    for (const [id, n] of this.nodes) {
      if (n.replica === null) continue
      const now = new Set(this.connectedPeers(id))
      const was = before.get(id) ?? new Set()
      for (const p of was) if (!now.has(p)) n.transport?.handler?.onPeerDown(p)
      for (const p of now) if (!was.has(p)) n.transport?.handler?.onPeerUp(p)
    }
  }

  /** Each running node's up connections. */
  private links(): Map<string, Set<string>> {
    const m = new Map<string, Set<string>>()
    for (const id of this.nodes.keys()) m.set(id, new Set(this.connectedPeers(id)))
    return m
  }

  /** Splits the network: nodes in different groups cannot reach each other. Unlisted nodes form their own group. */
  partition(...groups: string[][]): void {
    const before = this.links()
    const listed = new Set(groups.flat())
    this.groups = groups.map((g) => new Set(g))
    const rest = [...this.nodes.keys()].filter((id) => !listed.has(id))
    if (rest.length > 0) this.groups.push(new Set(rest))
    this.notifyLinks(before)
  }

  heal(): void {
    const before = this.links()
    this.groups = []
    this.notifyLinks(before)
  }

  /** Kills a node at once: in-flight work, timers and unpersisted state are lost; storage survives. */
  crash(id: string): void {
    const node = this.nodes.get(id)
    if (node === undefined || node.replica === null) throw new Error(`node ${id} is not running`)
    const before = this.links()
    node.replica.housekeeper.stop()
    node.replica.replicator.stop().catch(() => undefined)
    node.checkpoint?.stop()
    node.checkpoint = null
    this.hibernatedBefore += node.hibernation?.hibernated ?? 0
    node.hibernation?.stop()
    node.hibernation = null
    node.simStorage?.crash()
    node.simStorage = null
    this.mesh.forget(id)
    node.replica = null
    node.transport = null
    node.epoch++
    this.notifyLinks(before)
  }

  /** Starts a crashed node again from its own storage. */
  async restart(id: string): Promise<Replica> {
    const node = this.nodes.get(id)
    if (node === undefined) throw new Error(`unknown node ${id}`)
    if (node.replica !== null) throw new Error(`node ${id} is running`)
    return this.boot(node)
  }

  /** Makes a node's disk full for `ms` virtual ms from now (needs `storageTiming`). */
  fillDisk(id: string, ms: number): void {
    const disk = this.nodes.get(id)?.disk
    if (disk === undefined || disk === null) throw new Error(`node ${id} has no simulated disk (storageTiming)`)
    disk.fillUntil(this.time + ms)
  }

  /** What the disk faults did, summed over every node. */
  diskFaultCounts(): DiskFaultCounts {
    const sum: DiskFaultCounts = { slowWrites: 0, fullWrites: 0, landedAtCrash: 0, lostAtCrash: 0 }
    for (const n of this.nodes.values()) {
      if (n.disk === null) continue
      sum.slowWrites += n.disk.counts.slowWrites
      sum.fullWrites += n.disk.counts.fullWrites
      sum.landedAtCrash += n.disk.counts.landedAtCrash
      sum.lostAtCrash += n.disk.counts.lostAtCrash
    }
    return sum
  }

  /** Runs events up to `time + ms`, then sets the clock there. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms
    await this.runUntil(until, Number.POSITIVE_INFINITY)
    this.time = until
  }

  private async runUntil(until: number, maxEvents: number): Promise<number> {
    let n = 0
    for (;;) {
      const e = this.queue.peek()
      if (e === undefined || e.at > until || n >= maxEvents) break
      this.queue.pop()
      this.time = Math.max(this.time, e.at)
      if (e.node !== null) {
        const node = this.nodes.get(e.node)
        if (node === undefined || node.epoch !== e.epoch || node.replica === null) continue
      }
      n++
      this.counters.events++
      e.run()
      if (this.settleMicrotasks) {
        this.settleMicrotasks = false
        // Bounded: promise chains behind a durable write are a few steps deep.
        for (let i = 0; i < 8; i++) await Promise.resolve()
      } else if ((n & 63) === 0) await Promise.resolve()
    }
    await Promise.resolve()
    return n
  }

  /** True when every running node holds identical content for every shard it shares with any other. */
  converged(): boolean {
    // Within each set of mutually reachable nodes, nothing received waits to be applied,
    // and every node that should hold a shard holds it, with the same hash as every other. Stops at the first difference: settle()
    // asks after every slice of virtual time, mostly while still apart.
    const groups = this.groups.length === 0 ? [new Set(this.nodes.keys())] : this.groups
    for (const group of groups) {
      const running: Replica[] = []
      for (const id of group) {
        const r = this.nodes.get(id)?.replica
        if (r !== null && r !== undefined) running.push(r)
      }
      // Messages a replica holds back (catalog pacing) are still on their way.
      for (const r of running) if (r.replicator.heldMessages > 0) return false
      const seen = new Map<string, number>()
      for (const r of running) {
        for (const [shard, hash] of r.stateDigests()) {
          const first = seen.get(shard)
          if (first === undefined) seen.set(shard, hash)
          else if (first !== hash) return false
        }
      }
      // A node that should hold a shard some node holds, and holds nothing of it.
      for (const r of running) {
        const mine = r.shards
        for (const shard of seen.keys()) if (!mine.has(shard) && r.holdsHere(shard)) return false
      }
    }
    return true
  }

  /**
   * Runs until quiescent: every set of mutually reachable running replicas holds the
   * same state. Messages still in flight then carry nothing new (every write originates
   * at a replica whose state is already everywhere), so they cannot change any row.
   * Anti-entropy keeps running meanwhile, so lost messages are repaired. Gives up
   * (throws, naming the seed) after `maxVirtualMs`. `onSlice` is called between slices
   * of virtual time (a long settle can say where it is).
   */
  async settle(maxVirtualMs = 120_000, onSlice?: () => void): Promise<void> {
    const deadline = this.time + maxVirtualMs
    const slice = Math.max(10, this.faults.maxDelayMs)
    for (;;) {
      await this.runUntil(this.time, Number.POSITIVE_INFINITY)
      if (this.converged()) return
      if (this.time >= deadline) {
        throw new Error(`simulation seed ${this.seed} did not converge within ${maxVirtualMs} virtual ms`)
      }
      await this.runUntil(this.time + slice, Number.POSITIVE_INFINITY)
      this.time = Math.min(deadline, this.time + slice)
      onSlice?.()
    }
  }

  /** Hash of every delivery so far (time, sender, receiver, bytes): equal for equal runs. */
  trace(): number {
    return this.traceHash >>> 0
  }

  /** Every running node's rows of a table, sorted by key, for comparing replicas. */
  snapshotRows(id: string, table: string): Row[] {
    return [...this.replica(id).scan(table)].sort((a, b) => (keyString(a) < keyString(b) ? -1 : 1))
  }
}

function keyString(row: Row): string {
  return JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() + 'n' : v))
}
