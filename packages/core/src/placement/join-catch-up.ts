/**
 * Catching up after joining: a brand-new node (empty storage) learns the catalog, and so
 * every table its region holds, before anti-entropy has brought those tables' rows. It
 * must not answer reads of a table from that partial copy, nor serve it to others, until
 * it has caught up on the table: then it reads the table from a caught-up holder, like a
 * node catching up after a change of holders (catch-up.ts).
 *
 * The records (catalog objects, so every node agrees):
 * - `joined`, named by node id: `{ since }`, written by a node when it first opens on
 *   empty storage (its member row's joining HLC). A node without one (its storage
 *   predates this record) counts as caught up on everything.
 * - `join_caught_up`, named `<incarnation>:<storage>/<nodeId>`: `{ since }`, the node's
 *   mark that it has caught up on the table since it joined at `since` (a mark from an
 *   earlier life of the node id, on storage since wiped, counts for nothing). Written:
 *   by `CREATE TABLE` for every member it knows holds the new table (an empty table
 *   has nothing to catch up on); by the node itself once an anti-entropy exchange with a
 *   caught-up holder has brought it every shard of the table that holder listed; and by
 *   the node itself when no other node is a source of the table (below).
 *
 * A node is a **source** of a table (others catch up from it) when it is a live member
 * whose region holds the table and it has no `joined` record, or it has its mark. A
 * joined node without a mark is caught up only when no other node is a source: it holds
 * the table alone, or every other holder joined with it after the table was made, all
 * with what replication brings. It then writes its mark, so nodes joining later catch up
 * from it.
 *
 * Invariants: records are decoded defensively and cached per catalog version; a mark
 * whose `since` is not its node's current `joined.since` counts for nothing; departed
 * members are no sources.
 */
import type { Json, TableInfo } from '../types.js'
import type { PlacementSource } from './shard-placement.js'
import { catchUpName } from './catch-up.js'

export const JOINED_KIND = 'joined'
export const JOIN_CAUGHT_UP_KIND = 'join_caught_up'

/** A member as this cache reads it. */
interface MemberView {
  region: string
  departed: boolean
}

function sinceOf(value: Json | undefined): number | null {
  const since = (value as { since?: unknown } | null | undefined)?.since
  return typeof since === 'number' && Number.isFinite(since) ? since : null
}

export class JoinCatchUp {
  private readonly source: PlacementSource
  private version = -1
  private joined = new Map<string, number>()
  /** `<incarnation>:<storage>/<nodeId>` -> since. */
  private marks = new Map<string, number>()
  private members = new Map<string, MemberView>()
  /** `<incarnation>:<storage>/<nodeId>` -> caught up, for this catalog version. */
  private answers = new Map<string, boolean>()

  constructor(source: PlacementSource) {
    this.source = source
  }

  private fresh(): void {
    const v = this.source.version()
    if (v === this.version) return
    this.version = v
    this.joined = new Map()
    this.marks = new Map()
    this.members = new Map()
    this.answers = new Map()
    for (const [name, value] of this.source.list(JOINED_KIND)) {
      const since = sinceOf(value)
      if (since !== null) this.joined.set(name, since)
    }
    for (const [name, value] of this.source.list(JOIN_CAUGHT_UP_KIND)) {
      const since = sinceOf(value)
      if (since !== null) this.marks.set(name, since)
    }
    for (const [name, value] of this.source.list('member')) {
      const o = (value ?? {}) as { region?: unknown; departed?: unknown }
      this.members.set(name, { region: typeof o.region === 'string' ? o.region : 'default', departed: o.departed === true })
    }
  }

  /** The HLC a node joined at on empty storage; null when it has no `joined` record. */
  joinedSince(nodeId: string): number | null {
    this.fresh()
    return this.joined.get(nodeId) ?? null
  }

  /** Whether the node has its mark for the table (or never had to catch up: no `joined` record). */
  private marked(nodeId: string, table: string): boolean {
    const since = this.joined.get(nodeId)
    return since === undefined || this.marks.get(`${table}/${nodeId}`) === since
  }

  /** Whether a node other than `self` is a source of the table (see the module header). */
  private hasSource(self: string, info: TableInfo, table: string): boolean {
    for (const [nodeId, m] of this.members) {
      if (nodeId === self || m.departed) continue
      if (info.regions !== null && !info.regions.includes(m.region)) continue
      if (this.marked(nodeId, table)) return true
    }
    // A mark of a node whose member row has not arrived yet still names a source.
    const suffix = `${table}/`
    for (const [name, since] of this.marks) {
      if (!name.startsWith(suffix)) continue
      const nodeId = name.slice(suffix.length)
      if (nodeId !== self && !this.members.has(nodeId) && this.joined.get(nodeId) === since) return true
    }
    return false
  }

  /** Whether node `nodeId` has caught up on the table since it joined (true when it never joined on empty storage). */
  caughtUp(nodeId: string, info: TableInfo): boolean {
    this.fresh()
    const table = catchUpName(info.storage ?? info.name, info.incarnation)
    if (this.marked(nodeId, table)) return true
    const key = `${table}/${nodeId}`
    let answer = this.answers.get(key)
    if (answer === undefined) {
      answer = !this.hasSource(nodeId, info, table)
      this.answers.set(key, answer)
    }
    return answer
  }

  /** Whether `nodeId` joined on empty storage and has no mark for the table yet. */
  unmarked(nodeId: string, info: TableInfo): boolean {
    this.fresh()
    return !this.marked(nodeId, catchUpName(info.storage ?? info.name, info.incarnation))
  }

  /** The mark recording that `nodeId` has caught up on the table: its catalog name and value. */
  markOf(nodeId: string, info: TableInfo): { name: string; value: Json } | null {
    const since = this.joinedSince(nodeId)
    if (since === null) return null
    return { name: `${catchUpName(info.storage ?? info.name, info.incarnation)}/${nodeId}`, value: { since } }
  }

  /** Live members that joined on empty storage and whose region holds tables of `regions` (null: every region). */
  joinedHolders(regions: readonly string[] | null): Array<{ nodeId: string; since: number }> {
    this.fresh()
    const out: Array<{ nodeId: string; since: number }> = []
    for (const [nodeId, m] of this.members) {
      const since = this.joined.get(nodeId)
      if (since === undefined || m.departed || (regions !== null && !regions.includes(m.region))) continue
      out.push({ nodeId, since })
    }
    return out
  }
}
