/**
 * SimCluster: real `Database`s over the core's deterministic simulator, so applications
 * can be tested against partitions, concurrency, crashes and restarts. The virtual clock
 * drives every node's HLC; the same seed replays the same run.
 */
import { Simulation, type NetworkFaults, type ReplicaOptions } from '@concord/core'
import { Database } from './database.js'
import { PartitionRouter } from './placement/partition-view.js'

/** Virtual ms per step of `SimCluster.run`. */
const RUN_STEP_MS = 5
/** How long `settle` waits for the hellos of peers that can reach each other, virtual ms. */
const HELLO_WAIT_MS = 2000

export interface SimClusterOptions {
  seed: number
  nodes: Array<{ id: string; region?: string; clockSkewMs?: number; options?: Partial<ReplicaOptions> }>
  faults?: Partial<NetworkFaults>
  antiEntropyIntervalMs?: number
  /** How long a statement waits (virtual time) for a node's new SERIAL id range; default 0 (fails with 55000 at once). */
  serialWaitMs?: number
}

export class SimCluster {
  private readonly dbs = new Map<string, Database>()
  /** One partition router per node, kept across restarts: the replica's `partitionOf`. */
  private readonly routers = new Map<string, PartitionRouter>()

  readonly sim: Simulation
  private readonly serialWaitMs: number

  private constructor(
    sim: Simulation,
    serialWaitMs: number,
  ) {
    this.sim = sim
    this.serialWaitMs = serialWaitMs
  }

  static async create(options: SimClusterOptions): Promise<SimCluster> {
    const sim = new Simulation({ seed: options.seed, ...(options.faults ? { faults: options.faults } : {}), ...(options.antiEntropyIntervalMs !== undefined ? { antiEntropyIntervalMs: options.antiEntropyIntervalMs } : {}) })
    const cluster = new SimCluster(sim, options.serialWaitMs ?? 0)
    for (const n of options.nodes) await cluster.addNode(n)
    await sim.settle()
    await cluster.confirmIdSlots(options.antiEntropyIntervalMs ?? 500)
    return cluster
  }

  /**
   * Runs anti-entropy rounds until every node holds a confirmed SERIAL id slot (each
   * claims one on meeting the others), so the first SERIAL insert anywhere does not wait.
   * Bounded: a node that cannot confirm (a partition) is left to claim when it inserts.
   */
  async confirmIdSlots(intervalMs = 500): Promise<void> {
    for (let round = 0; round < 40; round++) {
      const ready = [...this.dbs.entries()].filter(([id]) => this.sim.isRunning(id)).every(([, db]) => db.serialReady())
      if (ready) return
      await this.sim.advance(intervalMs)
    }
  }

  async addNode(spec: { id: string; region?: string; clockSkewMs?: number; options?: Partial<ReplicaOptions> }): Promise<Database> {
    const router = new PartitionRouter()
    this.routers.set(spec.id, router)
    const replica = await this.sim.addNode({ ...spec, options: { partitionOf: router.partitionOf, ...spec.options } })
    const db = await Database.attach(replica, false, router, { serialWaitMs: this.serialWaitMs })
    this.dbs.set(spec.id, db)
    return db
  }

  /** The database of a running node. */
  node(id: string): Database {
    const db = this.dbs.get(id)
    if (!db || !this.sim.isRunning(id)) throw new Error(`node ${id} is not running`)
    return db
  }

  nodeIds(): string[] {
    return this.sim.nodeIds()
  }

  partition(...groups: string[][]): void {
    this.sim.partition(...groups)
  }

  heal(): void {
    this.sim.heal()
  }

  /**
   * Runs the simulation until every message is delivered, replicas have converged and
   * every node has heard the hello of each peer it can reach. Converged data is not links
   * known again: right after `heal()` nothing differs, so the simulation had settled
   * while the nodes' hellos were still on their way, and a statement made then found no
   * holder of what it needed (08001), or one only if it waited a few turns of the
   * microtask queue before looking. Hellos that never come (a peer that does not answer)
   * are waited for up to HELLO_WAIT_MS of virtual time, then not.
   */
  async settle(maxVirtualMs?: number): Promise<void> {
    await this.sim.settle(maxVirtualMs)
    for (let waited = 0; !this.peersKnown() && waited < HELLO_WAIT_MS; waited += RUN_STEP_MS) await this.sim.advance(RUN_STEP_MS)
  }

  /** Whether every running node knows the region of each peer it can reach (their hellos were exchanged). */
  private peersKnown(): boolean {
    for (const id of this.sim.nodeIds()) {
      if (!this.sim.isRunning(id)) continue
      const replicator = this.sim.replica(id).replicator
      for (const peer of this.sim.connectedPeers(id)) if (replicator.peerRegion(peer) === undefined) return false
    }
    return true
  }

  /**
   * Waits for `work` (typically a query on one node) while running the simulation, so the
   * messages it waits for are delivered: a federated read asks a holder and waits for its
   * answer, which only a running simulation brings. Virtual time advances in small steps;
   * fails after `maxVirtualMs` without an outcome.
   */
  async run<T>(work: Promise<T>, maxVirtualMs = 60_000): Promise<T> {
    let done = false
    const outcome = work.then(
      (v) => {
        done = true
        return v
      },
      (e: unknown) => {
        done = true
        throw e
      },
    )
    // Observed below; a rejection is not left unhandled meanwhile.
    outcome.catch(() => undefined)
    for (let waited = 0; !done && waited < maxVirtualMs; waited += RUN_STEP_MS) await this.sim.advance(RUN_STEP_MS)
    if (!done) throw new Error(`no outcome within ${maxVirtualMs} virtual ms`)
    return outcome
  }

  /** Moves the virtual clock forward, running what falls due. */
  advance(ms: number): Promise<void> {
    return this.sim.advance(ms)
  }

  crash(id: string): void {
    const db = this.dbs.get(id)
    this.sim.crash(id)
    this.dbs.delete(id)
    void db?.close()
  }

  /** Restarts a crashed node from its own storage, with a fresh Database around it. */
  async restart(id: string): Promise<Database> {
    const replica = await this.sim.restart(id)
    const db = await Database.attach(replica, false, this.routers.get(id), { serialWaitMs: this.serialWaitMs })
    this.dbs.set(id, db)
    return db
  }

  async close(): Promise<void> {
    for (const db of this.dbs.values()) await db.close()
    for (const id of this.sim.nodeIds()) if (this.sim.isRunning(id)) this.sim.crash(id)
  }
}
