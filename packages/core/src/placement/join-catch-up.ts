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
 * - marks that the node has caught up on a table since it joined at `since` (a mark from
 *   an earlier life of the node id, on storage since wiped, counts for nothing), named by
 *   the table's `<incarnation>:<storage>`. The node's own marks are a list in its
 *   `joined` record, `{ since, tables }`: it writes them once an anti-entropy exchange
 *   with a caught-up holder has brought it every shard of the table that holder listed,
 *   and when no other node is a source of the table (below). Only the node writes that
 *   record, so rewriting it whole loses nothing. Other nodes' marks for it are
 *   `join_caught_up` records named `<incarnation>:<storage>/<nodeId>`, `{ since }`:
 *   `CREATE TABLE` writes one for every member it knows holds the new table (an empty
 *   table has nothing to catch up on). Nodes before the list wrote their own marks as
 *   such records too; both are read. (One record per member, not one per member and
 *   table: at 1,000 simulated peers the per-table marks were most of every node's
 *   catalog, issue 20.)
 *
 * A node is a **source** of a table (others catch up from it) when it is a live member
 * whose region holds the table and it has no `joined` record, or it has its mark. A
 * joined node without a mark is caught up only when no other node is a source: it holds
 * the table alone, or every other holder joined with it after the table was made, all
 * with what replication brings. It then writes its mark, so nodes joining later catch up
 * from it.
 *
 * Invariants: records are decoded defensively and read from the source as asked (only
 * answers are kept, until a record of the kinds read changes); a mark whose `since` is
 * not its node's current `joined.since` counts for nothing; departed members are no
 * sources.
 */
import type { Json, TableInfo } from '../types.js'
import type { PlacementSource } from './shard-placement.js'
import { catchUpName } from './catch-up.js'

export const JOINED_KIND = 'joined'
export const JOIN_CAUGHT_UP_KIND = 'join_caught_up'
/** Tables whose last source is remembered (a bound: forgetting costs a search). */
const MAX_LAST_SOURCES = 4096

/** A member as this cache reads it. */
interface MemberView {
  region: string
  departed: boolean
}

function sinceOf(value: Json | undefined): number | null {
  const since = (value as { since?: unknown } | null | undefined)?.since
  return typeof since === 'number' && Number.isFinite(since) ? since : null
}

/** The table names a `joined` record lists as caught up; empty when absent or malformed. */
function markList(value: Json | undefined): ReadonlySet<string> {
  const tables = (value as { tables?: unknown } | null | undefined)?.tables
  if (!Array.isArray(tables)) return new Set()
  return new Set(tables.filter((t): t is string => typeof t === 'string'))
}

function memberView(value: Json | undefined): MemberView | undefined {
  if (value === undefined) return undefined
  const o = (value ?? {}) as { region?: unknown; departed?: unknown }
  return { region: typeof o.region === 'string' ? o.region : 'default', departed: o.departed === true }
}

export class JoinCatchUp {
  private readonly source: PlacementSource
  private version = -1
  /** `<incarnation>:<storage>/<nodeId>` -> caught up, for this version of the records read. */
  private answers = new Map<string, boolean>()
  /** Per node: the tables its `joined` record lists, for this version of the records read. */
  private ownMarksRead = new Map<string, ReadonlySet<string>>()
  /**
   * Per table: the member last found a source of it, tried first (kept across versions,
   * checked again each time): while a cluster starts, most members have no mark yet, and
   * looking through them after every catalog change was O(members) per change.
   */
  private readonly lastSource = new Map<string, string>()

  constructor(source: PlacementSource) {
    this.source = source
  }

  /**
   * Records are read from the source one at a time, not copied: the catalog moves about
   * three times per node joining, and re-reading every record each time made a large
   * cluster's start quadratic per node (issue 20). Only the answers are kept per version.
   */
  private fresh(): void {
    const v = this.source.version(JOINED_KIND) + this.source.version(JOIN_CAUGHT_UP_KIND) + this.source.version('member')
    if (v === this.version) return
    this.version = v
    this.answers = new Map()
    this.ownMarksRead = new Map()
  }

  private joined(nodeId: string): number | null {
    return sinceOf(this.source.get(JOINED_KIND, nodeId))
  }

  /** The tables a node's `joined` record lists as caught up (empty when none or malformed). */
  private ownMarks(nodeId: string): ReadonlySet<string> {
    let marks = this.ownMarksRead.get(nodeId)
    if (marks === undefined) {
      marks = markList(this.source.get(JOINED_KIND, nodeId))
      this.ownMarksRead.set(nodeId, marks)
    }
    return marks
  }

  /** The HLC a node joined at on empty storage; null when it has no `joined` record. */
  joinedSince(nodeId: string): number | null {
    return this.joined(nodeId)
  }

  /** Whether the node has its mark for the table (or never had to catch up: no `joined` record). */
  private marked(nodeId: string, table: string): boolean {
    const since = this.joined(nodeId)
    return since === null || this.ownMarks(nodeId).has(table) || sinceOf(this.source.get(JOIN_CAUGHT_UP_KIND, `${table}/${nodeId}`)) === since
  }

  /** Whether a node other than `self` is a source of the table (see the module header). */
  private hasSource(self: string, info: TableInfo, table: string): boolean {
    const last = this.lastSource.get(table)
    if (last !== undefined && this.isSource(last, self, info, table)) return true
    for (const [nodeId] of this.source.entries('member')) {
      if (this.isSource(nodeId, self, info, table)) {
        if (this.lastSource.size >= MAX_LAST_SOURCES) this.lastSource.clear()
        this.lastSource.set(table, nodeId)
        return true
      }
    }
    // A mark of a node whose member row has not arrived yet still names a source.
    const suffix = `${table}/`
    for (const [name, value] of this.source.entries(JOIN_CAUGHT_UP_KIND)) {
      if (!name.startsWith(suffix)) continue
      const nodeId = name.slice(suffix.length)
      const since = sinceOf(value)
      if (nodeId !== self && since !== null && this.source.get('member', nodeId) === undefined && this.joined(nodeId) === since) return true
    }
    for (const [nodeId] of this.source.entries(JOINED_KIND)) {
      if (nodeId !== self && this.source.get('member', nodeId) === undefined && this.ownMarks(nodeId).has(table)) return true
    }
    return false
  }

  /** Whether member `nodeId` (not `self`) is a source of the table: live, of a region holding it, marked. */
  private isSource(nodeId: string, self: string, info: TableInfo, table: string): boolean {
    if (nodeId === self) return false
    const m = memberView(this.source.get('member', nodeId))
    if (m === undefined || m.departed) return false
    if (info.regions !== null && !info.regions.includes(m.region)) return false
    return this.marked(nodeId, table)
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
    return !this.marked(nodeId, catchUpName(info.storage ?? info.name, info.incarnation))
  }

  /**
   * The `joined` record of `nodeId` with `tables` (`<incarnation>:<storage>` names) added
   * to its marks: the record the node writes to mark itself caught up on them. Null when
   * it has no `joined` record (nothing to mark) or already lists them all. Read when the
   * record is written, not before: a mark is never written on a record since removed.
   */
  joinedWithMarks(nodeId: string, tables: readonly string[]): { name: string; value: Json } | null {
    const record = this.source.get(JOINED_KIND, nodeId)
    const since = sinceOf(record)
    if (since === null) return null
    const marks = markList(record)
    const added = tables.filter((t) => !marks.has(t))
    if (added.length === 0) return null
    return { name: nodeId, value: { since, tables: [...marks, ...new Set(added)].sort() } }
  }

  /** Live members that joined on empty storage and whose region holds tables of `regions` (null: every region). */
  joinedHolders(regions: readonly string[] | null): Array<{ nodeId: string; since: number }> {
    const out: Array<{ nodeId: string; since: number }> = []
    for (const [nodeId, value] of this.source.list('member')) {
      const m = memberView(value)
      const since = this.joined(nodeId)
      if (m === undefined || since === null || m.departed || (regions !== null && !regions.includes(m.region))) continue
      out.push({ nodeId, since })
    }
    return out
  }
}
