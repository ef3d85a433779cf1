/**
 * A randomized simulation campaign: one seed drives a cluster through random writes under
 * every merge policy (last/first write wins, a custom resolver, counters, text, deletes,
 * a region-scoped table) while the network drops, duplicates, delays and reorders
 * messages, partitions come and go, and nodes crash and restart from their storage.
 * After healing, every replica must hold the same materialized rows as every other
 * replica of the same data; those rows must be what every entry ever written resolves
 * to without compaction (the compaction-off twin of the run: the same writes, with the
 * same timestamps, merged with no generation, no dropped tombstone); no acknowledged
 * write may be lost; and a replica restarted from its storage must come back with
 * exactly the rows it had. A failure names its seed; `runSeed(seed)` replays it.
 *
 * On some seeds the disks misbehave too (DiskFaults): slow fsyncs, spells of a full disk
 * (the write that hits one fails to its client, later writes are refused until the disk
 * has room, and nothing is lost), and torn tails at crashes (writes durable though never
 * acknowledged). The same checks hold: a write refused or failed was not acknowledged.
 */
import type { Row, TableSpec, Value } from '../types.js'
import type { Replica } from '../replica.js'
import { ConcordError } from '../errors/concord-error.js'
import { SIM_EPOCH_MS, Simulation } from './simulation.js'
import { SeededRandom } from './seeded-random.js'
import { EntryLedger } from './entry-ledger.js'
import type { DiskFaultCounts, StorageFaults } from './disk-faults.js'
import { trafficBetween, type TrafficSnapshot } from './traffic-meter.js'
import { entryCl } from '../codec/writer-entry.js'
import { decodeRowKey, encodeRowKey, entryKey } from '../codec/row-key.js'
import { holdsTable } from '../placement/placement.js'

export interface CampaignOptions {
  peers: number
  /** Random steps per seed. */
  steps: number
  /** Highest message drop probability a seed may pick. */
  maxDrop?: number
  /** Generation compaction settings of every replica (default: compact eagerly, to exercise it). */
  compaction?: import('../api.js').ReplicaOptions['compaction']
  /**
   * Long outages: now and then a node is down past the departure horizon (20 s here),
   * so it is declared departed, and rejoins when restarted. Default off.
   */
  outages?: boolean
  /**
   * Storage takes virtual time to make writes durable, and a crash loses writes still in
   * flight (SimStorage): a write counts as acknowledged only once durable, as over SQL.
   * Default on; `false` gives synchronous storage.
   */
  storageDelay?: boolean
  /**
   * Disk faults on top of storage delay, of seeded strength (DiskFaults: slow fsyncs,
   * spells of a full disk, a torn tail at every crash). Default: one seed in three
   * (seed % 3 === 0); `true`: every seed; `false`: none. Nothing without storage delay.
   */
  storageFaults?: boolean
  /** Told where a seed is (nodes added, steps, healing, quiet spell, checks): long runs show how far they got. */
  progress?: (line: string) => void
}

export interface SeedResult {
  seed: number
  trace: number
  events: number
  writes: number
  crashes: number
  partitions: number
  /** Canonical dump of every table on the first node, for comparing runs. */
  fingerprint: string
  /** Generation switches summed over all replicas (compaction at work). */
  generations: number
  /** Deleted rows whose tombstones generations dropped, summed over replicas since their last restart. */
  tombstonesDropped: number
  /** Long outages (nodes down past the departure horizon), and how many a surviving node saw declared departed. */
  outages: number
  departures: number
  /** Rows compared with the compaction-off twin, and rows left out (their tombstones were dropped). */
  twinCompared: number
  twinExcluded: number
  /** Whether this seed ran with disk faults, and what they did. */
  storageFaults: boolean
  diskFaults: DiskFaultCounts
  /** What the network carried (sim/traffic-meter.ts), to read how cost grows with the cluster. */
  traffic: CampaignTraffic
  /** Idle shards put away (ShardHibernation) over all lives, and put-away documents loaded again since the last restarts. */
  hibernations: number
  wakes: number
}

/** Network cost of one seed, in two phases. */
export interface CampaignTraffic {
  /** Writes, crashes, partitions and the healing after them, until every replica agrees. */
  faulty: TrafficSnapshot
  /** The quiet spell after that (no writes, no faults): the cost of rounds alone. */
  quiet: TrafficSnapshot
  /** Length of the quiet spell in anti-entropy rounds (virtual ms / interval). */
  quietRounds: number
  /** Virtual ms from the last heal (every node up, no partition) until every replica agreed. */
  convergeMs: number
}

/** Anti-entropy interval of every campaign replica (virtual ms). */
export const CAMPAIGN_ROUND_MS = 300
/** Length of the quiet spell after healing (virtual ms): deletes become stable, overlays drain. */
const QUIET_MS = 30_000

const REGIONS = ['us-west', 'eu-central', 'ap-southeast']
const OUTAGE_HORIZON_MS = 20_000

export const CAMPAIGN_TABLES: TableSpec[] = [
  { name: 'lww', columns: col('id', 'a', 'b'), primaryKey: ['id'], policy: 'last_write_wins' },
  { name: 'fww', columns: col('id', 'a', 'b'), primaryKey: ['id'], policy: 'first_write_wins' },
  { name: 'custom', columns: col('id', 'v'), primaryKey: ['id'], policy: { custom: 'max' } },
  {
    name: 'counters',
    columns: [{ name: 'id', type: 'int' }, { name: 'hits', type: 'bigint', kind: 'counter' }],
    primaryKey: ['id'],
  },
  { name: 'docs', columns: [{ name: 'id', type: 'int' }, { name: 'body', type: 'text', kind: 'text' }], primaryKey: ['id'] },
  { name: 'regional', columns: col('id', 'a'), primaryKey: ['id'], regions: ['us-west'] },
]

function col(...names: string[]) {
  return names.map((name) => ({ name, type: name === 'id' ? 'int' : 'text' }))
}

/** Resolver for the `custom` table: the greater value wins (as in the seed's example). */
export function maxResolver(a: Value, b: Value): Value {
  if (a === null) return b
  if (b === null) return a
  return a > b ? a : b
}

export function canonicalRows(rows: Iterable<Row>): string {
  const out = [...rows].map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))
  out.sort()
  return out.join('\n')
}

/** Newest write timestamp per (writer, table, row id), as each write was acknowledged. */
type WriteLog = Map<string, number>

/**
 * Disk faults of a seed, drawn from a generator of their own so that seeds without them
 * run exactly as they did before faults existed.
 */
function storageFaultsOf(seed: number): StorageFaults {
  const rng = new SeededRandom(seed ^ 0xd15c)
  return {
    slowFsync: { probability: 0.01 + rng.next() * 0.07, minMs: 200, maxMs: rng.int(500, 3000) },
    diskFull: { everyMs: rng.int(4_000, 20_000), minMs: 200, maxMs: rng.int(1_000, 4_000) },
    tornTail: true,
  }
}

/** The error a replica refuses a write with while its disk is full (a SQL client hears 53100). */
function refusedForFullDisk(err: unknown): boolean {
  return err instanceof ConcordError && err.condition === 'diskFull'
}

/**
 * The error a replica refuses a read with while it has not caught up on a table since it
 * joined (placement/join-catch-up.ts): class 08, nothing applied; its client retries later
 * or reads through a caught-up node (a SQL client's reads go there by themselves).
 */
function refusedUntilCaughtUp(r: Replica, table: string, err: unknown): boolean {
  const info = r.table(table)
  return err instanceof ConcordError && err.condition === 'sqlclientUnableToEstablishSqlconnection' && info !== undefined && !r.caughtUp(info)
}

/** The tables a running replica holds and has not caught up on yet. */
function notCaughtUp(r: Replica): string[] {
  return r
    .tables()
    .filter((info) => holdsTable(r.region, info) && !r.caughtUp(info))
    .map((info) => info.name)
}

/**
 * Settles, then runs on until every running replica has caught up on every table it holds
 * (a joined node proves it through an anti-entropy exchange with a caught-up holder), as an
 * operator waits for new nodes to be ready before sending them clients; then settles again
 * (the marks are catalog writes). Throws, naming the seed, if that takes longer than `maxMs`.
 */
async function settleCaughtUp(sim: Simulation, ids: readonly string[], seed: number, maxMs: number, onSlice?: () => void): Promise<void> {
  await sim.settle(maxMs, onSlice)
  const deadline = sim.now + maxMs
  for (;;) {
    const behind = ids.filter((id) => sim.isRunning(id)).map((id) => [id, notCaughtUp(sim.replica(id))] as const).filter(([, t]) => t.length > 0)
    if (behind.length === 0) break
    if (sim.now >= deadline) throw new Error(`seed ${seed}: not caught up within ${maxMs} virtual ms: ${behind.map(([id, t]) => `${id} (${t.join(', ')})`).join('; ')}`)
    await sim.advance(CAMPAIGN_ROUND_MS)
    onSlice?.()
  }
  await sim.settle(maxMs, onSlice)
}

function randomWrite(r: Replica, rng: SeededRandom, step: number, log: WriteLog, acknowledged: (fn: () => void) => void): void {
  const table = rng.pick(CAMPAIGN_TABLES)
  const id = rng.int(0, 7)
  const before = r.clock.peek()
  const value = `${r.nodeId}.${step}`
  // A node restarted before the tables it had reached its storage does not know them
  // until anti-entropy brings the catalog back: its client gets 42P01, nothing is written.
  if (r.table(table.name) === undefined || r.table('lww') === undefined) return
  try {
    writeRandomRow(r, rng, table, id, value)
  } catch (err) {
    // While its disk is full a node refuses writes, applying nothing; its client retries later.
    if (refusedForFullDisk(err)) return
    // A node outside a table's regions refuses its rows (placement.ts), applying nothing.
    if (table.regions && !table.regions.includes(r.region) && err instanceof ConcordError && err.condition === 'featureNotSupported') return
    // A node that lost its storage and joined again refuses reads until it has caught up.
    if (refusedUntilCaughtUp(r, table.name, err) || refusedUntilCaughtUp(r, 'lww', err)) return
    throw err
  }
  // The commit took one timestamp; record it for every row the transaction wrote.
  const at = r.clock.peek()
  if (at === before) return
  const wrote: Array<[string, number]> = []
  if (r.entryTimestamp(table.name, [id], r.nodeId) === at) wrote.push([table.name, id])
  if (r.entryTimestamp('lww', [100 + id], r.nodeId) === at) wrote.push(['lww', 100 + id])
  acknowledged(() => {
    for (const [t, row] of wrote) {
      const k = `${r.nodeId}\u0000${t}\u0000${row}`
      if ((log.get(k) ?? -1) < at) log.set(k, at)
    }
  })
}

function writeRandomRow(r: Replica, rng: SeededRandom, table: TableSpec, id: number, value: string): void {
  r.transact((tx) => {
    const existing = tx.get(table.name, [id])
    const roll = rng.next()
    if (roll < 0.12) {
      tx.delete(table.name, [id])
      return
    }
    switch (table.name) {
      case 'lww':
      case 'fww':
        if (existing === undefined) tx.insert(table.name, rng.chance(0.5) ? { id, a: value } : { id, b: value })
        else tx.update(table.name, [id], rng.chance(0.5) ? { a: value } : { b: value })
        break
      case 'custom':
        tx.upsert(table.name, { id, v: String(rng.int(100, 999)) })
        break
      case 'counters':
        if (existing === undefined) tx.insert(table.name, { id, hits: BigInt(rng.int(0, 5)) })
        else tx.increment(table.name, [id], 'hits', BigInt(rng.int(-3, 10)))
        break
      case 'docs': {
        const body = typeof existing?.body === 'string' ? existing.body : ''
        const at = rng.int(0, body.length)
        const next = body.slice(0, at) + r.nodeId + body.slice(at)
        tx.upsert(table.name, { id, body: next.length > 200 ? next.slice(-100) : next })
        break
      }
      case 'regional':
        tx.upsert(table.name, { id, a: value })
        break
    }
    // Multi-table atomicity: sometimes touch a second table in the same transaction.
    if (roll > 0.9) tx.upsert('lww', { id: 100 + id, a: value })
  })
}

export async function runSeed(seed: number, options: CampaignOptions): Promise<SeedResult> {
  const rng = new SeededRandom(seed ^ 0x5eed)
  const maxDrop = options.maxDrop ?? 0.2
  const storageDelay = options.storageDelay !== false
  const faulty = storageDelay && (options.storageFaults ?? seed % 3 === 0)
  const sim = new Simulation({
    seed,
    faults: { drop: rng.next() * maxDrop, duplicate: rng.next() * 0.1, minDelayMs: 1, maxDelayMs: rng.int(5, 80) },
    antiEntropyIntervalMs: CAMPAIGN_ROUND_MS,
    ...(storageDelay ? { storageTiming: { minMs: 0, maxMs: rng.int(1, 40) } } : {}),
    ...(faulty ? { storageFaults: storageFaultsOf(seed) } : {}),
  })
  // Every entry any replica ever wrote and made durable, newest per key (each key has a
  // single writer). A write lost in a crash before it was durable was never
  // acknowledged: it is not part of what the cluster must converge to.
  const ledger = new EntryLedger()
  const everWritten = ledger.durable
  const onLocalEntry = ledger.written
  /**
   * Everything `r` wrote since its last client write becomes one client write: acknowledged
   * once durable (`fn` runs then). If storage fails first, its client hears an error and
   * nothing is acknowledged; the replica still persists it once the disk has room. If the
   * node crashes first, nothing is acknowledged either, and its restart tells what landed.
   */
  const acknowledge = (r: Replica) => (fn: () => void) => {
    const entries = ledger.take(r.nodeId)
    void r.durable().then(
      () => {
        ledger.madeDurable(r.nodeId, entries)
        fn()
      },
      () => r.whenDurable(() => ledger.madeDurable(r.nodeId, entries)),
    )
  }
  const crash = (id: string) => {
    sim.crash(id)
    ledger.crashed(id)
  }
  const restart = async (id: string) => {
    const r = await sim.restart(id)
    ledger.restarted(r)
    return r
  }
  // Rows whose tombstones a generation dropped, per shard. A writer that later inserts
  // such a row starts a new life at causal length 1, where without compaction it would
  // have continued the old count: the twin, built from what was written, cannot tell
  // those lives apart, so these rows are left out of the twin comparison (unit tests in
  // generations.test.ts pin down what happens to them).
  const droppedRows = new Map<string, Set<string>>()
  const onTombstonesDropped = (shardId: string, rowKeys: string[]) => {
    let set = droppedRows.get(shardId)
    if (set === undefined) {
      set = new Set()
      droppedRows.set(shardId, set)
    }
    for (const k of rowKeys) set.add(k)
  }
  const ids: string[] = []
  for (let i = 0; i < options.peers; i++) {
    const id = `n${i}`
    ids.push(id)
    await sim.addNode({
      id,
      region: REGIONS[i % REGIONS.length]!,
      clockSkewMs: rng.int(-40, 40),
      options: {
        resolvers: { max: maxResolver },
        compaction: options.compaction ?? { minGarbage: 2, ratio: 0.05, departAfterMs: options.outages === true ? OUTAGE_HORIZON_MS : 3_600_000 },
        onLocalEntry,
        onTombstonesDropped,
      },
    })
  }
  const progress = (what: string) => options.progress?.(`seed ${seed}: ${what} (virtual ${((sim.now - SIM_EPOCH_MS) / 1000).toFixed(1)} s, ${sim.counters.events} events)`)
  progress(`${options.peers} nodes added`)
  sim.replica(ids[0]!).transact((tx) => {
    for (const t of CAMPAIGN_TABLES) tx.createTable(t)
  })
  // The other nodes joined before the tables reached them: clients start once they are ready.
  let reported = sim.now
  await settleCaughtUp(sim, ids, seed, 120_000, () => {
    // A large cluster's start takes a while: say where it is every virtual second.
    if (sim.now - reported < 1000) return
    reported = sim.now
    progress(`starting: ${ids.filter((id) => sim.isRunning(id) && notCaughtUp(sim.replica(id)).length === 0).length} of ${ids.length} nodes caught up`)
  })
  // Entries written before the first write (membership) are in the catalog: not compared.
  ledger.clearFresh()
  progress('every node caught up on the tables')
  const trafficAtStart = sim.traffic.snapshot()

  const writes_: WriteLog = new Map()
  let writes = 0
  let crashes = 0
  let outages = 0
  let departures = 0
  let partitions = 0
  for (let step = 0; step < options.steps; step++) {
    // What shards keep per change agrees with a recount from scratch.
    if (step % 10 === 0) auditBooks(sim, ids, seed)
    if (step % 25 === 0) progress(`step ${step} of ${options.steps}`)
    const roll = rng.next()
    const running = ids.filter((id) => sim.isRunning(id))
    const down = ids.filter((id) => !sim.isRunning(id))
    if (roll < 0.04) {
      const cut = rng.int(1, ids.length - 1)
      const shuffled = [...ids].sort(() => rng.next() - 0.5)
      sim.partition(shuffled.slice(0, cut), shuffled.slice(cut))
      partitions++
    } else if (roll < 0.07) {
      sim.heal()
    } else if (roll < 0.09 && running.length > 2) {
      const victim = rng.pick(running)
      // What it wrote and had not made durable is gone with it, torn tails aside.
      crash(victim)
      crashes++
    } else if (roll < 0.12 && down.length > 0) {
      await restart(rng.pick(down))
    } else if (roll < 0.125 && options.outages === true && running.length > 2) {
      // A long outage: down past the departure horizon while the others go on.
      const gone = rng.pick(running)
      crash(gone)
      crashes++
      outages++
      await sim.advance(OUTAGE_HORIZON_MS + 5_000)
      // Counted if some node that stayed up (and could hear the others) saw it declared departed.
      const witness = ids.find((id) => id !== gone && sim.isRunning(id))
      if (witness !== undefined && sim.replica(witness).members().some((m) => m.nodeId === gone && m.departed)) departures++
    } else if (roll < 0.2) {
      await sim.advance(rng.int(1, 400))
    } else if (running.length > 0) {
      const r = sim.replica(rng.pick(running))
      randomWrite(r, rng, step, writes_, acknowledge(r))
      writes++
      if (rng.chance(0.3)) await sim.advance(rng.int(0, 20))
    }
  }
  for (const id of ids) if (!sim.isRunning(id)) await restart(id)
  sim.heal()
  const healedAt = sim.now
  await sim.settle(600_000)
  const convergeMs = sim.now - healedAt
  progress(`converged ${(convergeMs / 1000).toFixed(1)} s after healing`)
  const trafficAtConverged = sim.traffic.snapshot()
  // A quiet spell: deletes become stable and collapse, overlays drain; then settle again.
  await sim.advance(QUIET_MS)
  const traffic: CampaignTraffic = {
    faulty: trafficBetween(trafficAtStart, trafficAtConverged),
    quiet: trafficBetween(trafficAtConverged, sim.traffic.snapshot()),
    quietRounds: QUIET_MS / CAMPAIGN_ROUND_MS,
    convergeMs,
  }
  // Converged, and every node answers from its own rows (none still catching up).
  await settleCaughtUp(sim, ids, seed, 600_000)
  progress('quiet spell over; checking')

  auditBooks(sim, ids, seed)
  // Every replica of the same data materializes the same rows.
  for (const t of CAMPAIGN_TABLES) {
    let reference: string | null = null
    let referenceNode = ''
    for (const id of ids) {
      const r = sim.replica(id)
      if (t.regions && !t.regions.includes(r.region)) continue
      const dump = canonicalRows(r.scan(t.name))
      if (reference === null) {
        reference = dump
        referenceNode = id
      } else if (dump !== reference) {
        throw new Error(`seed ${seed}: table ${t.name} differs between ${referenceNode} and ${id}\n${reference}\n---\n${dump}`)
      }
    }
  }
  // The compaction-off twin: everything ever written, resolved in one fresh document,
  // gives exactly the rows the replicas converged to (text columns aside: their content
  // lives in Y.Texts, and tables holding them are never compacted).
  const twinShards = new Map<string, string[]>()
  const excludedRows = new Map<string, Set<number>>()
  let twinCompared = 0
  let twinExcluded = 0
  for (const t of CAMPAIGN_TABLES) {
    if (t.columns.some((c) => c.kind === 'text')) continue
    const holder = ids.map((id) => sim.replica(id)).find((r) => !t.regions || t.regions.includes(r.region))!
    const twin: Row[] = []
    const excluded = new Set<number>()
    const shards: string[] = []
    const written = new Set<string>()
    for (const [shardId, entries] of everWritten) {
      if (holder.shardFor(shardId)?.table?.info.name !== t.name) continue
      shards.push(shardId)
      for (const k of droppedRows.get(shardId) ?? []) excluded.add(Number(decodeRowKey(k, 1)[0]))
      for (const k of entries.keys()) written.add(k.slice(0, k.indexOf('\u0000')))
      twin.push(...holder.resolveEntries(shardId, entries))
    }
    excludedRows.set(t.name, excluded)
    twinShards.set(t.name, shards)
    twinExcluded += excluded.size
    twinCompared += written.size - excluded.size
    const keep = (rows: Iterable<Row>) => [...rows].filter((row) => !excluded.has(Number(row.id)))
    const got = canonicalRows(keep(holder.scan(t.name)))
    const want = canonicalRows(keep(twin))
    if (got !== want) throw new Error(`seed ${seed}: table ${t.name} on ${holder.nodeId} differs from the compaction-off twin\n${want}\n---\n${got}`)
  }
  // No acknowledged write is lost: every replica holding a table holds each writer's
  // newest entry for each row it wrote, with that write's timestamp or a later one
  // (whatever the merge policy shows), across every compaction; unless a delete
  // superseded the entry (the twin's row is deleted, or alive again in a later life),
  // and the entry was dropped with that delete's tombstone.
  const superseded = (table: string, row: number, writer: string): boolean => {
    const rowKey = encodeRowKey([row])
    for (const id of twinShards.get(table) ?? []) {
      const entries = everWritten.get(id)!
      const mine = entries.get(entryKey(rowKey, writer))
      if (mine === undefined) continue
      let cl = 0
      for (const [k, e] of entries) if (k.startsWith(rowKey + '\u0000')) cl = Math.max(cl, entryCl(e))
      return cl % 2 === 0 || entryCl(mine) < cl
    }
    return false
  }
  for (const [k, at] of writes_) {
    const [writer, table, row] = k.split('\u0000') as [string, string, string]
    const spec = CAMPAIGN_TABLES.find((t) => t.name === table)!
    for (const id of ids) {
      const r = sim.replica(id)
      if (spec.regions && !spec.regions.includes(r.region)) continue
      const held = r.entryTimestamp(table, [Number(row)], writer)
      if (held === null && (superseded(table, Number(row), writer) || excludedRows.get(table)?.has(Number(row)) === true)) continue
      if (held === null || held < at) {
        throw new Error(`seed ${seed}: ${id} lost ${writer}'s write to ${table} row ${row} at ${at} (holds ${held})`)
      }
    }
  }
  // No replica sees a shard holding other rows than a peer holding the same updates.
  for (const id of ids) {
    const apart = sim.replica(id).replicator.divergences().filter((d) => d.confirmed)
    if (apart.length > 0) throw new Error(`seed ${seed}: ${id} holds other rows than peers with the same state: ${apart.map((d) => `${d.shard} vs ${d.peer}`).join(', ')}`)
  }
  // No housekeeping round threw anywhere.
  for (const id of ids) {
    const rep = sim.replica(id).replicator
    if (rep.stats.roundsFailed > 0) throw new Error(`seed ${seed}: ${id} had ${rep.stats.roundsFailed} failed anti-entropy rounds: ${String(rep.lastRoundError)}`)
    const hk = sim.replica(id).housekeeper
    if (hk.roundsFailed > 0) throw new Error(`seed ${seed}: ${id} had ${hk.roundsFailed} failed housekeeping rounds: ${String(hk.lastRoundError)}`)
  }
  // A replica restarted from its storage comes back with exactly the rows it had.
  const probe = ids[rng.int(0, ids.length - 1)]!
  // Once what it holds is durable: a slow or full disk may still be holding writes back.
  for (let i = 0; i < 600 && !sim.replica(probe).isDurable(); i++) await sim.advance(100)
  const before = CAMPAIGN_TABLES.map((t) => canonicalRows(sim.replica(probe).scan(t.name)))
  sim.crash(probe)
  const restarted = await sim.restart(probe)
  const after = CAMPAIGN_TABLES.map((t) => canonicalRows(restarted.scan(t.name)))
  if (before.join('\u0000') !== after.join('\u0000')) throw new Error(`seed ${seed}: ${probe} restarted with different rows`)

  const first = sim.replica(ids[0]!)
  let generations = 0
  for (const id of ids) generations += sim.replica(id).generationsAdopted
  let tombstonesDropped = 0
  let wakes = 0
  for (const id of ids) {
    for (const s of sim.replica(id).shards.values()) {
      tombstonesDropped += s.tombstonesDropped
      wakes += s.wakes
      // A document put away and loaded again must be the one put away (Shard.hibernate).
      if (s.wakeMismatches > 0) throw new Error(`seed ${seed}: ${id} loaded ${s.wakeMismatches} hibernated documents of ${s.id} with another digest`)
    }
  }
  return {
    hibernations: sim.hibernations(),
    wakes,
    generations,
    tombstonesDropped,
    twinCompared,
    twinExcluded,
    outages,
    departures,
    seed,
    trace: sim.trace(),
    events: sim.counters.events,
    writes,
    crashes,
    partitions,
    storageFaults: faulty,
    diskFaults: sim.diskFaultCounts(),
    traffic,
    fingerprint: CAMPAIGN_TABLES.map((t) => `${t.name}:${canonicalRows(first.scan(t.name))}`).join('\n'),
  }
}

/** Throws when some running replica's per-change books (Shard.auditBooks) disagree with a recount. */
function auditBooks(sim: Simulation, ids: readonly string[], seed: number): void {
  for (const id of ids) {
    if (!sim.isRunning(id)) continue
    for (const shard of sim.replica(id).shards.values()) {
      const wrong = shard.auditBooks()
      if (wrong !== null) throw new Error(`seed ${seed}: ${id}: ${wrong}`)
    }
  }
}
