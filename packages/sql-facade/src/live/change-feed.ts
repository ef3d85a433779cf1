/**
 * This node's table change feeds: for each table someone follows, the row changes the
 * node applied (its own writes and those replicated from peers, in the order it applied
 * them), numbered, so a client that lost its connection asks for exactly the changes
 * after the last one it saw (`concord_changes`, functions/table-changes.ts), and
 * listeners of `concord_changes_<table>` get each change as a JSON notification.
 *
 * A position is `<feed epoch>/<sequence>`: the epoch (12 hex digits, drawn when the node
 * opens its database) names this feed, the sequence counts changes across all followed
 * tables. A table is followed from the first `concord_changes_position(table)` or
 * `LISTEN concord_changes_<table>` on this node until the node stops; its feed keeps the
 * last MAX_CHANGES_PER_TABLE changes.
 *
 * Invariants: positions of one epoch only grow, and the changes after a position are
 * handed exactly (each once, in order) or not at all: a position from another epoch (the
 * node restarted, or another node), or older than the oldest change kept, fails with
 * 55000 and the client reads the table again.
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
/** The channel prefix of a table's change notifications. */
export const CHANGES_CHANNEL_PREFIX = 'concord_changes_'

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
  private readonly journals = new Map<string, Journal>()
  private readonly replica: Replica
  private readonly hub: NotificationHub
  private readonly stop: () => void

  constructor(replica: Replica, hub: NotificationHub) {
    this.replica = replica
    this.hub = hub
    let epoch = ''
    for (let i = 0; i < 12; i++) epoch += Math.floor(replica.random() * 16).toString(16)
    this.epoch = epoch
    this.stop = replica.on('change', (changes) => this.onChanges(changes))
  }

  position(table: string): string {
    this.follow(table)
    return this.format(this.seq)
  }

  since(table: string, since: string): TableChange[] {
    const seq = this.parse(since)
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
      out.push({ position: this.format(c.seq), op: c.op, row: c.row })
    }
    return out
  }

  close(): void {
    this.stop()
    this.journals.clear()
  }

  private follow(table: string): Journal {
    let j = this.journals.get(table)
    if (j !== undefined) return j
    const info = this.replica.table(table)
    if (info !== undefined && !holdsTable(this.replica.region, info)) {
      throw new SqlError(SqlState.featureNotSupported, `"${table}" is not held in region ${this.replica.region}: follow its changes on a node that holds it`)
    }
    if (this.journals.size >= MAX_FOLLOWED_TABLES) throw new SqlError(SqlState.programLimitExceeded, `too many followed tables (at most ${MAX_FOLLOWED_TABLES})`)
    j = { floor: this.seq, changes: [], head: 0 }
    this.journals.set(table, j)
    return j
  }

  private onChanges(changes: readonly RowChange[]): void {
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
      if (j.changes.length - j.head > MAX_CHANGES_PER_TABLE) {
        j.floor = j.changes[j.head]!.seq
        j.head++
        // Compact the array once half of it is dropped entries.
        if (j.head * 2 > j.changes.length) {
          j.changes.splice(0, j.head)
          j.head = 0
        }
      }
      if (listened) this.hub.deliverLocal([{ channel, payload: payload(this.format(seq), op, row), processId: 0 }])
    }
  }

  private format(seq: number): string {
    return `${this.epoch}/${seq}`
  }

  private parse(position: string): number {
    const m = /^([0-9a-f]{12})\/(\d{1,16})$/.exec(position)
    if (m === null) throw new SqlError(SqlState.invalidParameterValue, `invalid change position: "${position}"`)
    const seq = Number(m[2])
    if (m[1] !== this.epoch) return -1
    if (seq > this.seq) throw new SqlError(SqlState.invalidParameterValue, `change position ${position} is ahead of this node's feed (${this.format(this.seq)})`)
    return seq
  }
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
