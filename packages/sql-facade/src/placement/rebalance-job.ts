/**
 * `ALTER TABLE .. REBALANCE SHARDS`: runs the plan (rebalance-plan.ts) as a background job
 * of shard moves, online:
 *
 * 1. **copy**: the statement adds each moving shard's new nodes to its placement (the
 *    shard is then held by its old and new nodes: both take its writes, both get the
 *    other's by replication) and records that the new nodes must catch up on it
 *    (holder-change.ts, naming the moved shards). One catalog record per move, kind
 *    `rebalance_move`, named by the shard id, shows its state.
 * 2. **catch up**: anti-entropy copies the shard to the new nodes; a new node is caught up
 *    once exchanges with caught-up holders of the shard have brought it all (core
 *    placement/catch-up.ts). Until then it reads the shard from an old holder.
 * 3. **switch**: the move's runner, its first new node, sees every new node caught up
 *    and sets the placement to the new nodes alone; the move is `done`.
 * 4. **drop**: an old node no longer holds the shard and hands its copy over: it drops it
 *    from memory and disk once a holder has shown it has every update of it (core
 *    `Replica.releaseCopy`), so a write the old node acknowledged before the switch is
 *    never lost.
 *
 * The runner checks its moves every second (the replica's scheduler), whatever node ran
 * the statement: a node killed mid-move resumes when it restarts, from the catalog. A move
 * whose shard was placed anew meanwhile (`SET (shard_location = ..)`), or whose table was
 * dropped, is `cancelled`. While copying, the runner reports the bytes it holds of the
 * shard (bytes_done) and says so in the node log.
 */
import { parsePlacement, parseShardId, SHARD_PLACEMENT_KIND, type Json, type Replica, type TableInfo } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { tableMeta } from '../catalog/table-meta.js'
import { noteHolderChange, type CatalogAccess } from './holder-change.js'
import { partitionShard } from './partition-view.js'
import { moves, planRebalance, type PlannedShard, type ShardLoad } from './rebalance-plan.js'
import { knownNodes } from './shard-location.js'
import type { ShardSize } from './shard-sizes.js'

export const REBALANCE_MOVE_KIND = 'rebalance_move'
/** How often a runner checks its moves (ms of the replica's scheduler). */
const TICK_MS = 1_000

export type MoveState = 'copying' | 'done' | 'cancelled'

/** A move as its catalog record keeps it. */
export interface MoveRecord {
  table: string
  storage: string
  incarnation: number
  shard: string
  partition: number
  from: string[]
  to: string[]
  rows: number
  bytes: number
  bytesDone: number
  state: MoveState
  location: string
  started: number
  finished: number | null
}

function strings(v: unknown): string[] | null {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? (v as string[]) : null
}

export function parseMove(value: Json): MoveRecord | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  const o = value as Record<string, unknown>
  const from = strings(o['from'])
  const to = strings(o['to'])
  const num = (k: string) => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : null)
  const state = o['state']
  if (from === null || to === null || (state !== 'copying' && state !== 'done' && state !== 'cancelled')) return null
  for (const k of ['table', 'storage', 'shard', 'location']) if (typeof o[k] !== 'string') return null
  const [incarnation, partition, rows, bytes, bytesDone, started] = ['incarnation', 'partition', 'rows', 'bytes', 'bytesDone', 'started'].map(num)
  if (incarnation === null || partition === null || rows === null || bytes === null || bytesDone === null || started === null) return null
  return {
    table: o['table'] as string, storage: o['storage'] as string, incarnation, shard: o['shard'] as string, partition, from, to, rows, bytes, bytesDone,
    state, location: o['location'] as string, started, finished: num('finished'),
  }
}

/** Every move record, by shard id. */
export function moveRecords(list: Array<[string, Json]>): Array<[string, MoveRecord]> {
  const out: Array<[string, MoveRecord]> = []
  for (const [id, value] of list) {
    const m = parseMove(value)
    if (m !== null) out.push([id, m])
  }
  return out
}

/** The partition a shard of `root` stores, by name (the table itself when unpartitioned). */
function shardName(tables: readonly TableInfo[], root: TableInfo, partition: number): string {
  if (!root.partitioning) return root.name
  const child = tables.find((t) => tableMeta(t).partitionOf === root.name && partitionShard(t) === partition)
  return child?.name ?? `${root.name}#${partition}`
}

/**
 * The placed shards of `root` as the planner takes them: sizes from `sizes` (a shard
 * missing there fails with 08001: no holder answered), holders from their placement,
 * allowed nodes the live known nodes of the regions it is placed in.
 */
export function shardLoads(replica: Replica, tx: CatalogAccess, root: TableInfo, sizes: ReadonlyMap<string, ShardSize>): ShardLoad[] {
  const departed = new Set(replica.members().filter((m) => m.departed).map((m) => m.nodeId))
  const nodes = knownNodes(tx).filter((n) => !departed.has(n.nodeId))
  const tables = replica.tables()
  const out: ShardLoad[] = []
  for (const p of replica.placedShards(root)) {
    const size = sizes.get(p.id)
    const name = shardName(tables, root, p.partition)
    if (size === undefined) {
      throw new SqlError(SqlState.sqlclientUnableToEstablishSqlconnection, `cannot plan a rebalance of "${root.name}": no holder of ${name} (node(s) ${p.placement.nodes.join(', ')}) reported its size`)
    }
    const allowed = nodes.filter((n) => p.placement.regions.includes(n.region)).map((n) => n.nodeId)
    for (const h of p.placement.nodes) if (!allowed.includes(h)) allowed.push(h)
    out.push({ id: p.id, partition: p.partition, name, rows: size.rows, bytes: size.bytes, holders: [...p.placement.nodes], allowed: allowed.sort() })
  }
  return out.sort((a, b) => a.partition - b.partition)
}

/** The plan for `root` (see rebalance-plan.ts). */
export function rebalancePlan(replica: Replica, tx: CatalogAccess, root: TableInfo, sizes: ReadonlyMap<string, ShardSize>): PlannedShard[] {
  return planRebalance(shardLoads(replica, tx, root, sizes))
}

/** The table a statement names for a rebalance: the partitioned (or unpartitioned) table itself. */
export function rebalanceTarget(tx: CatalogAccess, name: string): TableInfo {
  const table = tx.table(name.replace(/^public\./, ''))
  if (table === undefined) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  const parent = tableMeta(table).partitionOf
  if (parent) throw new SqlError(SqlState.featureNotSupported, `cannot rebalance "${table.name}": it is a partition; rebalance "${parent}"`)
  return table
}

/**
 * Starts the moves of a plan (step 1 of the module header) in `tx`; returns how many.
 * Refused (55006) while an earlier rebalance of the table is still copying.
 */
export function startRebalance(replica: Replica, tx: CatalogAccess, root: TableInfo, plan: readonly PlannedShard[], epoch: number, now: number): number {
  const storage = root.storage ?? root.name
  const running = moveRecords(tx.listCatalog(REBALANCE_MOVE_KIND)).filter(([, m]) => m.storage === storage && m.incarnation === root.incarnation && m.state === 'copying')
  if (running.length > 0) {
    throw new SqlError(SqlState.objectInUse, `a rebalance of "${root.name}" is still moving ${running.length} shard(s)`, { hint: 'See pg_stat_concord_rebalance.' })
  }
  const regionOf = new Map(knownNodes(tx).map((n) => [n.nodeId, n.region]))
  const moving = plan.filter(moves)
  if (moving.length === 0) return 0
  const confirmed = new Set<string>()
  for (const s of moving) {
    const stored = tx.getCatalog(SHARD_PLACEMENT_KIND, s.id)
    const placement = stored === undefined ? null : parsePlacement(stored)
    if (placement === null) continue
    const nodes = [...s.holders, ...s.to.filter((n) => !s.holders.includes(n))]
    const regions = [...new Set(nodes.map((n) => regionOf.get(n)).filter((r): r is string => r !== undefined))]
    tx.setCatalog(SHARD_PLACEMENT_KIND, s.id, { location: placement.location, nodes, regions } as unknown as Json)
    for (const h of s.holders) if (replica.nodeCaughtUp(h, regionOf.get(h) ?? '', root)) confirmed.add(h)
    const record: MoveRecord = {
      table: root.name, storage, incarnation: root.incarnation, shard: s.name, partition: s.partition, from: s.holders, to: s.to, rows: s.rows, bytes: s.bytes,
      bytesDone: 0, state: 'copying', location: placement.location, started: now, finished: null,
    }
    tx.setCatalog(REBALANCE_MOVE_KIND, s.id, record as unknown as Json)
  }
  noteHolderChange(tx, root, { regions: [], nodes: [...confirmed], confirmed: [...confirmed] }, epoch, moving.map((s) => s.id))
  return moving.length
}

/** Runs the moves whose first new node is this one (steps 2 and 3 of the module header). */
export class RebalanceRunner {
  private readonly replica: Replica
  private cancel: (() => void) | null = null
  private stopped = false
  /** Told each progress line (the node log). */
  onProgress: ((line: string) => void) | null = null

  constructor(replica: Replica) {
    this.replica = replica
  }

  start(): void {
    if (this.stopped || this.cancel !== null) return
    this.cancel = this.replica.scheduler.setTimeout(TICK_MS, () => {
      this.cancel = null
      if (this.stopped) return
      try {
        this.tick()
      } catch {
        // A failed check (storage refusing the write) is retried at the next one.
      }
      this.start()
    })
  }

  stop(): void {
    this.stopped = true
    this.cancel?.()
    this.cancel = null
  }

  /** One check of every move this node runs. */
  tick(): void {
    const r = this.replica
    const regionOf = new Map(r.members().map((m) => [m.nodeId, m.region]))
    for (const [id, m] of moveRecords(r.listCatalog(REBALANCE_MOVE_KIND))) {
      if (m.state !== 'copying') continue
      const newcomers = m.to.filter((n) => !m.from.includes(n))
      if (newcomers[0] !== r.nodeId) continue
      const parsed = parseShardId(id)
      const info = r.tables().find((t) => (t.storage ?? t.name) === m.storage && t.incarnation === m.incarnation)
      const placement = r.placementOf(id)
      if (parsed === null || info === undefined || placement === null || !m.to.every((n) => placement.nodes.includes(n))) {
        this.write(id, { ...m, state: 'cancelled', finished: r.now() })
        this.onProgress?.(`rebalance ${m.table}: ${m.shard} ${m.from.join(',')} -> ${m.to.join(',')} cancelled (placed anew or dropped)`)
        continue
      }
      const shard = r.shards.get(id)
      const held = shard === undefined ? 0 : shard.encodeState().length
      if (newcomers.every((n) => r.nodeCaughtUp(n, regionOf.get(n) ?? '', info))) {
        r.transact((tx) => {
          const regions = [...new Set(m.to.map((n) => regionOf.get(n)).filter((x): x is string => x !== undefined))]
          tx.setCatalog(SHARD_PLACEMENT_KIND, id, { location: m.location, nodes: m.to, regions } as unknown as Json)
          tx.setCatalog(REBALANCE_MOVE_KIND, id, { ...m, bytesDone: Math.max(held, m.bytes), state: 'done', finished: r.now() } as unknown as Json)
        })
        this.onProgress?.(`rebalance ${m.table}: ${m.shard} ${m.from.join(',')} -> ${m.to.join(',')} done (${held} bytes held here)`)
        continue
      }
      const done = Math.min(held, m.bytes)
      if (done !== m.bytesDone) {
        this.write(id, { ...m, bytesDone: done })
        this.onProgress?.(`rebalance ${m.table}: ${m.shard} ${m.from.join(',')} -> ${m.to.join(',')} copying ${done}/${m.bytes} bytes`)
      }
    }
  }

  private write(id: string, m: MoveRecord): void {
    this.replica.transact((tx) => tx.setCatalog(REBALANCE_MOVE_KIND, id, m as unknown as Json))
  }
}
