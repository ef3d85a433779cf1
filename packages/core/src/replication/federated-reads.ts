/**
 * Federated reads: a replica asks a node that holds a table (a region of its
 * `replication_regions`) for the table's rows, so a node outside those regions can answer
 * a query over it (the SQL layer finishes the query locally). One request, one answer:
 * ROWS_REQ names the table and incarnation, ROWS carries every committed row the holder
 * has, or why it has none to give (messages.ts).
 *
 * Holders are tried one at a time, nearest first: by the round trip measured on earlier
 * answers, then the unmeasured by node id (deterministic). A holder that does not answer
 * within the timeout, goes down, or says it does not hold the table is passed over; when
 * none is left the read fails (`sqlclientUnableToEstablishSqlconnection`), never with
 * fewer rows. A holder refuses to send more than its result limit in bytes, and the
 * reader then fails (`programLimitExceeded`) rather than read part of the table.
 *
 * Invariants: every pending request ends exactly once (answer, timeout, peer down or
 * stop), and its timer is then cancelled; an answer from a peer other than the one asked,
 * or for no pending request, is ignored.
 */
import { ConcordError } from '../errors/concord-error.js'
import type { TableInfo, Value } from '../types.js'
import type { Fragments } from './fragments.js'
import { MessageType, RowsStatus, type Message } from './messages.js'
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'

/** Default wait for one holder's answer (ms of the injected scheduler: virtual in the simulator). */
export const DEFAULT_FEDERATED_READ_TIMEOUT_MS = 5_000
/** Default limit on the rows one answer carries, in encoded bytes (about). */
export const DEFAULT_FEDERATED_READ_MAX_BYTES = 16 * 1024 * 1024

/** A table's rows as a holder sent them. */
export interface FederatedRows {
  /** The node that answered. */
  from: string
  columns: string[]
  rows: Value[][]
}

/**
 * What a holder reads to answer: the committed rows of a table it holds, or null. `filter`
 * ('' for none) narrows them; a holder that cannot apply it sends every row (the reader
 * applies its whole condition again, so a filter only saves transfer).
 */
export type RowsSource = (table: string, incarnation: number, filter: string) => { columns: string[]; rows: Value[][] } | null

export interface FederatedReadOptions {
  timeoutMs?: number
  maxBytes?: number
}

type RowsAnswer = Extract<Message, { type: typeof MessageType.Rows }>

interface Pending {
  peer: string
  sentAt: number
  cancelTimer: () => void
  settle: (answer: RowsAnswer | 'timeout' | 'down') => void
}

/** Rough encoded size of a value, for the result limit. */
function valueBytes(v: Value): number {
  if (v === null || typeof v === 'boolean') return 1
  if (typeof v === 'number') return 9
  if (typeof v === 'bigint' || typeof v === 'string') return 5 + String(v).length * 3
  return 5 + v.length
}

export class FederatedReads<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>
  private readonly fragments: Fragments<S>
  private readonly source: RowsSource
  private readonly timeoutMs: number
  private readonly maxBytes: number
  private readonly pending = new Map<number, Pending>()
  /** Last measured round trip per peer, in ms. */
  private readonly rtt = new Map<string, number>()
  private nextId = 1

  constructor(ctx: ReplicationContext<S>, fragments: Fragments<S>, source: RowsSource, options: FederatedReadOptions = {}) {
    this.ctx = ctx
    this.fragments = fragments
    this.source = source
    this.timeoutMs = options.timeoutMs ?? DEFAULT_FEDERATED_READ_TIMEOUT_MS
    this.maxBytes = options.maxBytes ?? DEFAULT_FEDERATED_READ_MAX_BYTES
  }

  /** Known peers of the table's regions, nearest first. */
  holders(info: TableInfo): string[] {
    const regions = info.regions
    const ids = [...this.ctx.peers].filter(([, p]) => regions === null || regions.includes(p.region)).map(([id]) => id)
    return ids.sort((a, b) => {
      const ra = this.rtt.get(a)
      const rb = this.rtt.get(b)
      if (ra !== undefined && rb !== undefined && ra !== rb) return ra - rb
      if (ra !== undefined && rb === undefined) return -1
      if (ra === undefined && rb !== undefined) return 1
      return a < b ? -1 : a > b ? 1 : 0
    })
  }

  /** The rows of `info` (those meeting `filter`, see RowsSource) from the nearest holder that answers; throws when none does. */
  async read(info: TableInfo, filter = ''): Promise<FederatedRows> {
    const tried: string[] = []
    for (const peer of this.holders(info)) {
      if (this.ctx.stopped) break
      const answer = await this.ask(peer, info, filter)
      if (answer === 'timeout' || answer === 'down') {
        tried.push(`${peer} (${answer === 'timeout' ? `no answer within ${this.timeoutMs} ms` : 'went down'})`)
        continue
      }
      if (answer.status === RowsStatus.TooLarge) {
        throw new ConcordError('programLimitExceeded', `relation "${info.name}" cannot be read from node ${peer}: ${answer.message}`)
      }
      if (answer.status === RowsStatus.NotHeld) {
        tried.push(`${peer} (${answer.message})`)
        continue
      }
      return { from: peer, columns: answer.columns, rows: answer.rows }
    }
    const regions = (info.regions ?? []).join(', ')
    const why = tried.length > 0 ? `; tried ${tried.join(', ')}` : ''
    throw new ConcordError(
      'sqlclientUnableToEstablishSqlconnection',
      `no node holding relation "${info.name}" (region(s) ${regions}) is reachable from this node (region ${this.ctx.host.region})${why}`,
    )
  }

  private ask(peer: string, info: TableInfo, filter: string): Promise<RowsAnswer | 'timeout' | 'down'> {
    return new Promise((resolve) => {
      const id = this.nextId++
      const host = this.ctx.host
      const settle = (answer: RowsAnswer | 'timeout' | 'down') => {
        const p = this.pending.get(id)
        if (p === undefined) return
        this.pending.delete(id)
        p.cancelTimer()
        resolve(answer)
      }
      const cancelTimer = host.scheduler.setTimeout(this.timeoutMs, () => settle('timeout'))
      this.pending.set(id, { peer, sentAt: host.now(), cancelTimer, settle })
      this.fragments.send(peer, { type: MessageType.RowsRequest, id, table: info.name, incarnation: info.incarnation, filter })
    })
  }

  /** A holder's side: answers with every committed row of the table, or why not. */
  onRequest(from: string, id: number, table: string, incarnation: number, filter: string): void {
    const answer = (status: RowsStatus, message: string, columns: string[] = [], rows: Value[][] = []) =>
      this.fragments.send(from, { type: MessageType.Rows, id, status, message, columns, rows })
    const got = this.source(table, incarnation, filter)
    if (got === null) return answer(RowsStatus.NotHeld, `node ${this.ctx.host.nodeId} does not hold relation "${table}"`)
    let bytes = 0
    for (const row of got.rows) {
      for (const v of row) bytes += valueBytes(v)
      if (bytes > this.maxBytes) {
        return answer(RowsStatus.TooLarge, `its rows exceed the federated read limit of ${this.maxBytes} bytes`)
      }
    }
    answer(RowsStatus.Ok, '', got.columns, got.rows)
  }

  onRows(from: string, msg: RowsAnswer): void {
    const p = this.pending.get(msg.id)
    if (p === undefined || p.peer !== from) return
    this.rtt.set(from, Math.max(0, this.ctx.host.now() - p.sentAt))
    p.settle(msg)
  }

  /** A peer went away: its pending requests end at once (the next holder is tried). */
  peerDown(peer: string): void {
    for (const p of [...this.pending.values()]) if (p.peer === peer) p.settle('down')
  }

  /** Replication stopped: every pending request ends. */
  stop(): void {
    for (const p of [...this.pending.values()]) p.settle('down')
  }
}
