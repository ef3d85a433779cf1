/**
 * Catching up: a node that starts holding a table's rows (its region was added to the
 * table's regions, or a shard of it was placed on it) holds them at once but has only
 * what replication has brought so far. Until it has caught up it does not answer reads
 * of the table from its own rows: it reads them from a caught-up holder, like a node that
 * does not hold the table, and as a holder it refuses to answer others' reads of it.
 *
 * The records (catalog objects, so every node agrees):
 * - `catch_up`, named `<incarnation>:<storage>`: `{ epoch, regions, nodes, parts }`,
 *   written by the statement that changed who holds the table. `regions` (null: every
 *   region) and `nodes` are the sources: nodes that held the table before, and are caught
 *   up. `parts` (absent: all) names the parts whose holders changed: a node holding none
 *   of them has nothing to catch up on (placement.ts decides, knowing who holds what).
 * - `caught_up`, named `<incarnation>:<storage>/<nodeId>`: `{ epoch }`, written by a node
 *   once it has caught up under that epoch (see `Replica.caughtUpWith`).
 * A table without a `catch_up` record needs no catching up.
 *
 * A node has caught up once one anti-entropy exchange with a caught-up node has brought
 * it every shard of the table that node listed (the replicator reports such exchanges),
 * provided that node holds the table still or listed some of its shards: a former holder
 * that has handed its copies over lists nothing and proves nothing.
 *
 * Invariants: records are decoded defensively and cached per catalog version; a mark of
 * another epoch counts for nothing (a later change of holders starts catching up again).
 */
import type { Json } from '../types.js'
import type { PlacementSource } from './shard-placement.js'

export const CATCH_UP_KIND = 'catch_up'
export const CAUGHT_UP_KIND = 'caught_up'

/** Who was caught up when a table's holders changed. */
export interface CatchUpRecord {
  epoch: number
  /** Regions whose nodes are caught up (null: every region). */
  regions: string[] | null
  /** Nodes that are caught up whatever their region. */
  nodes: string[]
  /**
   * The parts of the table whose holders changed ('' the shards without a placement, or a
   * placed shard's id): a node holding none of them has nothing to catch up on. Null: every part.
   */
  parts: string[] | null
}

/** The catalog name of a table's catch-up record. */
export function catchUpName(storage: string, incarnation: number): string {
  return `${incarnation}:${storage}`
}

function stringList(v: unknown): string[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null
}

export function parseCatchUp(value: Json): CatchUpRecord | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  const o = value as Record<string, unknown>
  const nodes = stringList(o['nodes'])
  const regions = o['regions'] === null ? null : stringList(o['regions'])
  const parts = o['parts'] === undefined || o['parts'] === null ? null : stringList(o['parts'])
  if (typeof o['epoch'] !== 'number' || nodes === null || (o['regions'] !== null && regions === null)) return null
  if (parts === null && o['parts'] !== undefined && o['parts'] !== null) return null
  return { epoch: o['epoch'], regions, nodes, parts }
}

export class CatchUp {
  private readonly source: PlacementSource
  private version = -1
  private records = new Map<string, CatchUpRecord>()
  /** `<name>/<nodeId>` -> the epoch that node caught up under. */
  private marks = new Map<string, number>()

  constructor(source: PlacementSource) {
    this.source = source
  }

  private fresh(): void {
    const v = this.source.version(CATCH_UP_KIND) + this.source.version(CAUGHT_UP_KIND)
    if (v === this.version) return
    this.version = v
    this.records = new Map()
    this.marks = new Map()
    for (const [name, value] of this.source.list(CATCH_UP_KIND)) {
      const r = parseCatchUp(value)
      if (r !== null) this.records.set(name, r)
    }
    for (const [name, value] of this.source.list(CAUGHT_UP_KIND)) {
      const epoch = (value as { epoch?: unknown } | null)?.epoch
      if (typeof epoch === 'number') this.marks.set(name, epoch)
    }
  }

  /** The catch-up record of a table storage and incarnation, if its holders changed. */
  record(storage: string, incarnation: number): CatchUpRecord | null {
    this.fresh()
    return this.records.get(catchUpName(storage, incarnation)) ?? null
  }

  /** Whether node `nodeId` of `region` is a source of the table or has caught up on it (true when it never had to). */
  caughtUp(nodeId: string, region: string, storage: string, incarnation: number): boolean {
    const r = this.record(storage, incarnation)
    if (r === null) return true
    if (r.regions === null || r.regions.includes(region) || r.nodes.includes(nodeId)) return true
    return this.marks.get(`${catchUpName(storage, incarnation)}/${nodeId}`) === r.epoch
  }

  /** Every table (storage, incarnation) with a catch-up record. */
  tables(): Array<{ storage: string; incarnation: number; record: CatchUpRecord }> {
    this.fresh()
    const out: Array<{ storage: string; incarnation: number; record: CatchUpRecord }> = []
    for (const [name, record] of this.records) {
      const i = name.indexOf(':')
      const incarnation = Number(name.slice(0, i))
      if (i > 0 && Number.isSafeInteger(incarnation)) out.push({ storage: name.slice(i + 1), incarnation, record })
    }
    return out
  }

  /** The nodes caught up under a record by their own mark. */
  marked(storage: string, incarnation: number): string[] {
    const r = this.record(storage, incarnation)
    if (r === null) return []
    const prefix = `${catchUpName(storage, incarnation)}/`
    return [...this.marks].filter(([k, e]) => k.startsWith(prefix) && e === r.epoch).map(([k]) => k.slice(prefix.length))
  }
}
