/**
 * This node's table change feeds: for each table someone follows, the row changes the
 * node applied (its own writes and those replicated from peers, in the order it applied
 * them), numbered, so a client that lost its connection asks for exactly the changes
 * after the last one it saw (`concord_changes`, functions/table-changes.ts), and
 * listeners of `concord_changes_<table>` get each change as a JSON notification.
 *
 * A position is `<feed epoch>/<sequence>`: the epoch (12 hex digits, drawn when the node
 * opens its database, mixed with its node id: drawEpoch) names this feed, the sequence counts changes across all followed
 * tables. A table is followed from the first `concord_changes_position(table)` or
 * `LISTEN concord_changes_<table>` on this node until the node stops; its feed keeps the
 * last MAX_CHANGES_PER_TABLE changes.
 *
 * Durable feeds: given a `ChangeJournalStore` (the node server's, on its LMDB storage),
 * the feed writes each change, and each table it starts following, to the store, which
 * puts it on disk in the same write as the row change or before it; at open it reads the
 * feed back and keeps its epoch, so a client resumes across a restart (or a crash). Only
 * what is on disk is shown: `concord_changes_position`, `concord_changes` and the
 * notifications wait for the store, so no client holds a position a crash could take
 * back (then hand out again for another change). Without a store the feed is in memory
 * and a restart starts a new epoch.
 *
 * Invariants: positions of one epoch only grow, and the changes after a position are
 * handed exactly (each once, in order) or not at all: a position from another epoch (a
 * node without a store restarted, or another node), or older than the oldest change
 * kept, fails with 55000 and the client reads the table again.
 */
import { holdsTable, type Replica, type Row, type RowChange, type TableInfo } from '@concord/core'
import { decodeRow, tableColumns } from '../catalog/column-read.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { jsonString, jsonText } from '../functions/json-text.js'
import type { TableChange, TableChangeSource } from '../runtime/table-change-source.js'
import type { NotificationHub } from '../notify/notification-hub.js'
import { MAX_PAYLOAD_BYTES } from '../notify/notification.js'
import { decodeUntyped } from '../types/storage-codec.js'

/** Changes kept per followed table; older ones are dropped (a position before them fails with 55000). */
export const MAX_CHANGES_PER_TABLE = 50_000
/** Tables followed at once on one node. */
const MAX_FOLLOWED_TABLES = 1_000
/** Notifications held for the store at most; past it the oldest go (a client that sees a gap asks concord_changes). */
const MAX_WAITING_NOTIFICATIONS = 10_000
/** The channel prefix of a table's change notifications. */
export const CHANGES_CHANNEL_PREFIX = 'concord_changes_'

/** One change as a journal store keeps it. */
export interface JournalEntry {
  table: string
  seq: number
  op: TableChange['op']
  /** The row as JSON text. */
  row: string
}

/** What a journal store holds: the feed as it was written. */
export interface JournalContents {
  epoch: string
  /** The greatest sequence number written. */
  seq: number
  tables: Array<{ table: string; floor: number; changes: Array<Omit<JournalEntry, 'table'>> }>
}

/** One write to a journal store. */
export interface JournalWrite {
  /** The feed's epoch and greatest sequence number with this write. */
  epoch: string
  seq: number
  /** Tables followed from now on, or whose older changes were dropped: their changes at or below `floor` go. */
  floors: Array<{ table: string; floor: number }>
  changes: JournalEntry[]
}

/**
 * Durable storage of a change feed (the node server's is on LMDB, lmdb-change-journal.ts).
 * `write` must put `w` on disk no later than every storage write issued before the call
 * (so a change's entry is durable once its row is: a crash cannot keep the row and lose
 * the entry), and writes reach disk in call order; `durable` runs once `w` is there.
 */
export interface ChangeJournalStore {
  /** What the store holds; null for a new (or unreadable) store, whose old contents the first write drops. */
  load(): JournalContents | null
  write(w: JournalWrite, durable: () => void): void
  /** Resolves once every write issued is on disk (or failed). */
  close?(): Promise<void>
}

interface Journal {
  /** Changes with a sequence above this one are all held (after `floor`, none is missing). */
  floor: number
  /** Held changes, oldest first, from `head` on. */
  changes: Array<{ seq: number; op: TableChange['op']; row: string }>
  head: number
}

export class ChangeFeed implements TableChangeSource {
  readonly epoch: string
  private seq = 0
  /** Every change up to this sequence number is on disk (with no store: all of them). */
  private durableSeq = 0
  private readonly journals = new Map<string, Journal>()
  private readonly replica: Replica
  private readonly hub: NotificationHub
  private readonly store: ChangeJournalStore | null
  /** Notifications waiting for their change to be on disk, in sequence order. */
  private waiting: Array<{ seq: number; channel: string; payload: string }> = []
  private stopped = false
  private readonly stop: () => void

  constructor(replica: Replica, hub: NotificationHub, store: ChangeJournalStore | null = null) {
    this.replica = replica
    this.hub = hub
    this.store = store
    const saved = store?.load() ?? null
    if (saved !== null) {
      this.epoch = saved.epoch
      this.seq = saved.seq
      this.durableSeq = saved.seq
      for (const t of saved.tables) this.journals.set(t.table, { floor: t.floor, changes: t.changes.slice(), head: 0 })
    } else {
      this.epoch = drawEpoch(replica.nodeId, replica.random)
    }
    this.stop = replica.on('change', (changes) => this.onChanges(changes))
  }

  position(table: string): string {
    this.follow(table)
    return this.format(this.durableSeq)
  }

  since(table: string, since: string): TableChange[] {
    const seq = this.parse(since)
    if (seq === FOREIGN) {
      throw new SqlError(SqlState.objectNotInPrerequisiteState, `change position ${since} is not from this node's feed of "${table}" (epoch ${this.epoch}): positions are per node`, {
        detail: "It is another node's position, or this node's from before it restarted without its kept feed.",
        hint: `Read the table again, then follow it from concord_changes_position('${table}').`,
      })
    }
    const j = this.journals.get(table)
    if (j === undefined || seq < j.floor) {
      throw new SqlError(SqlState.objectNotInPrerequisiteState, `changes of "${table}" after position ${since} are no longer held on this node`, {
        hint: `Read the table again, then follow it from concord_changes_position('${table}').`,
      })
    }
    const out: TableChange[] = []
    // Held changes are in sequence order: skip to the first one after `seq`.
    let lo = j.head
    let hi = j.changes.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (j.changes[mid]!.seq <= seq) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < j.changes.length; i++) {
      const c = j.changes[i]!
      // Not on disk yet: a crash could still take it back.
      if (c.seq > this.durableSeq) break
      out.push({ position: this.format(c.seq), op: c.op, row: c.row })
    }
    return out
  }

  /** Stops following; with a store, resolves once what was written is on disk. */
  async close(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.stop()
    this.journals.clear()
    this.waiting = []
    await this.store?.close?.()
  }

  private follow(table: string): Journal {
    let j = this.journals.get(table)
    if (j !== undefined) return j
    const info = this.replica.table(table)
    if (info !== undefined && !holdsTable(this.replica.region, info)) {
      throw new SqlError(SqlState.featureNotSupported, `"${table}" is not held in region ${this.replica.region}: follow its changes on a node that holds it`)
    }
    if (this.journals.size >= MAX_FOLLOWED_TABLES) throw new SqlError(SqlState.programLimitExceeded, `too many followed tables (at most ${MAX_FOLLOWED_TABLES})`)
    // Changes of the table before now were not numbered: the client reads them with the table.
    j = { floor: this.durableSeq, changes: [], head: 0 }
    this.journals.set(table, j)
    this.write({ epoch: this.epoch, seq: this.seq, floors: [{ table, floor: j.floor }], changes: [] })
    return j
  }

  /** Hands `w` to the store; without one, everything is at once as good as on disk. */
  private write(w: JournalWrite): void {
    if (this.store === null) {
      this.durableSeq = this.seq
      return
    }
    // The rows' records first: a peer's row may wait for its hand-off (ReplicaOptions.handOffRemote),
    // and the store puts an entry in the write that carries its row's records or an earlier one.
    this.replica.handOff()
    this.store.write(w, () => this.onDurable(w.seq))
  }

  private onDurable(seq: number): void {
    if (seq <= this.durableSeq || this.stopped) return
    this.durableSeq = seq
    let n = 0
    while (n < this.waiting.length && this.waiting[n]!.seq <= seq) n++
    if (n === 0) return
    const due = this.waiting.splice(0, n)
    this.hub.deliverLocal(due.map((d) => ({ channel: d.channel, payload: d.payload, processId: 0 })))
  }

  private onChanges(changes: readonly RowChange[]): void {
    // No table followed and no session listening: nothing to number (most nodes, most of the time).
    if (this.journals.size === 0 && !this.hub.hasAnyListener()) return
    const w: JournalWrite = { epoch: this.epoch, seq: 0, floors: [], changes: [] }
    for (const c of changes) {
      const channel = CHANGES_CHANNEL_PREFIX + c.table
      const listened = this.hub.hasListeners(channel)
      let j = this.journals.get(c.table)
      if (j === undefined) {
        if (!listened) continue
        try {
          j = this.follow(c.table)
        } catch {
          continue
        }
      }
      const op: TableChange['op'] = c.after === null ? 'delete' : c.before === null ? 'insert' : 'update'
      const row = rowJson(this.replica.table(c.table), (c.after ?? c.before)!)
      const seq = ++this.seq
      j.changes.push({ seq, op, row })
      w.changes.push({ table: c.table, seq, op, row })
      if (j.changes.length - j.head > MAX_CHANGES_PER_TABLE) {
        j.floor = j.changes[j.head]!.seq
        w.floors.push({ table: c.table, floor: j.floor })
        j.head++
        // Compact the array once half of it is dropped entries.
        if (j.head * 2 > j.changes.length) {
          j.changes.splice(0, j.head)
          j.head = 0
        }
      }
      if (!listened) continue
      if (this.store === null) this.hub.deliverLocal([{ channel, payload: payload(this.format(seq), op, row), processId: 0 }])
      else {
        if (this.waiting.length >= MAX_WAITING_NOTIFICATIONS) this.waiting.shift()
        this.waiting.push({ seq, channel, payload: payload(this.format(seq), op, row) })
      }
    }
    if (w.changes.length === 0) return
    w.seq = this.seq
    this.write(w)
  }

  private format(seq: number): string {
    return `${this.epoch}/${seq}`
  }

  private parse(position: string): number {
    const m = /^([0-9a-f]{12})\/(\d{1,16})$/.exec(position)
    if (m === null) throw new SqlError(SqlState.invalidParameterValue, `invalid change position: "${position}"`)
    const seq = Number(m[2])
    if (m[1] !== this.epoch) return FOREIGN
    if (seq > this.seq) throw new SqlError(SqlState.invalidParameterValue, `change position ${position} is ahead of this node's feed (${this.format(this.seq)})`)
    return seq
  }
}

/** `parse`'s answer for a position of another epoch: another node's, or an earlier run's. */
const FOREIGN = -2

/**
 * A new feed epoch: 48 random bits mixed with a hash of the node id, so two nodes never
 * share an epoch even when their random sources agree (seeded tests, simulations), and a
 * position taken on one node fails on another instead of resuming the wrong feed.
 */
function drawEpoch(nodeId: string, random: () => number): string {
  const bits = fnv1a(nodeId, 0x811c9dc5).toString(16).padStart(8, '0') + fnv1a(nodeId, 0x01000193).toString(16).padStart(8, '0')
  let epoch = ''
  for (let i = 0; i < 12; i++) epoch += ((Math.floor(random() * 16) ^ parseInt(bits[i]!, 16)) & 0xf).toString(16)
  return epoch
}

/** 32-bit FNV-1a of a string's UTF-16 code units, from `basis`. */
function fnv1a(text: string, basis: number): number {
  let h = basis
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** A change notification: position, op and row, the row left out (null, "truncated": true) past the payload limit. */
function payload(position: string, op: string, row: string): string {
  const head = `{"position":${jsonString(position)},"op":${jsonString(op)}`
  const full = `${head},"row":${row}}`
  // JSON text of a row is mostly ASCII; check the byte size only when it could matter.
  if (full.length * 3 <= MAX_PAYLOAD_BYTES || new TextEncoder().encode(full).length <= MAX_PAYLOAD_BYTES) return full
  return `${head},"row":null,"truncated":true}`
}

/** A core row as a JSON object of its visible columns, typed as the table defines them now. */
function rowJson(info: TableInfo | undefined, row: Row): string {
  const parts: string[] = []
  if (info === undefined) {
    // The table is gone (the change is its drop): values as they were stored.
    for (const [name, v] of Object.entries(row)) {
      const u = decodeUntyped(v)
      parts.push(`${jsonString(name)}:${jsonText(u.value, u.type)}`)
    }
    return `{${parts.join(',')}}`
  }
  const cols = tableColumns(info, info.name)
  const values = decodeRow(row, cols)
  cols.forEach((c, i) => {
    if (!c.hidden) parts.push(`${jsonString(c.name)}:${jsonText(values[i]!, c.type)}`)
  })
  return `{${parts.join(',')}}`
}
