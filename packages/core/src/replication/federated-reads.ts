/**
 * Federated reads: a replica asks a node that holds a table (a region of its
 * `replication_regions`) for the table's rows, so a node outside those regions can answer
 * a query over it (the SQL layer finishes the query locally). One request, one answer:
 * ROWS_REQ names the table, incarnation and the parts asked for, ROWS carries every
 * committed row the holder has of those parts, or why it cannot give them (messages.ts).
 *
 * A table's rows come in parts (`ReadPart`): its shards without a placement, held by
 * every node of its regions, and each placed shard (`shard_location`), held by the nodes
 * its placement names. A read asks for the parts it lacks; one holder may serve several,
 * and every part must be served by some holder or the read fails naming it.
 *
 * Holders are chosen nearest first: by the round trip measured on earlier answers, then
 * the unmeasured by node id (deterministic); parts whose nearest holders differ are asked
 * of them at once (`read`). A holder that does not answer
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
export type RowsSource = (
  table: string,
  incarnation: number,
  filter: string,
  parts: { unplaced: boolean; shards: readonly string[] },
) => { columns: string[]; rows: Value[][] } | null

/**
 * One part of a table's rows to read: its shards without a placement (`shard` null, held
 * by the nodes of the table's regions), or one placed shard (held by `nodes`).
 */
export interface ReadPart {
  shard: string | null
  nodes: readonly string[] | null
  /** For a homed table's home shard (placement/row-homing.ts): the regions whose nodes hold it (`nodes` is then null). */
  regions?: readonly string[]
  /** How the part is named in an error ("partition 1 (placed on node2)"). */
  label: string
}

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

  /** The last round trip measured to `peer` by a federated read, in ms; undefined when none was. */
  roundTrip(peer: string): number | undefined {
    return this.rtt.get(peer)
  }

  /** Known peers of the table's regions, nearest first. */
  holders(info: TableInfo): string[] {
    const regions = info.regions
    const ids = [...this.ctx.peers].filter(([, p]) => regions === null || regions.includes(p.region)).map(([id]) => id)
    return this.nearestFirst(ids)
  }

  private nearestFirst(ids: string[]): string[] {
    return ids.sort((a, b) => {
      const ra = this.rtt.get(a)
      const rb = this.rtt.get(b)
      if (ra !== undefined && rb !== undefined && ra !== rb) return ra - rb
      if (ra !== undefined && rb === undefined) return -1
      if (ra === undefined && rb !== undefined) return 1
      return a < b ? -1 : a > b ? 1 : 0
    })
  }

  /**
   * The rows of `parts` of `info` (those meeting `filter`, see RowsSource) from the nearest
   * holders that answer. In each round every part left goes to its nearest holder not
   * tried yet, and the holders so chosen are asked at once (a table whose placed shards
   * live on different nodes is read from them in parallel, each asked for every part it
   * was given); a holder that fails is passed over in the next round. Throws when some
   * part has no holder left; never returns part of a part.
   */
  async read(info: TableInfo, filter = '', parts: readonly ReadPart[] = [{ shard: null, nodes: null, label: '' }]): Promise<FederatedRows> {
    const tried: string[] = []
    const passed = new Set<string>()
    const left = new Set(parts)
    const columns: string[] = []
    const rows: Value[][] = []
    const from: string[] = []
    const serves = (peer: string, part: ReadPart) => {
      const region = this.ctx.peers.get(peer)?.region ?? ''
      if (part.regions !== undefined) return part.regions.includes(region)
      return part.nodes === null ? info.regions === null || info.regions.includes(region) : part.nodes.includes(peer)
    }
    // Bounded: every round passes over at least one peer, and there are finitely many.
    while (left.size > 0 && !this.ctx.stopped) {
      const order = this.nearestFirst([...this.ctx.peers.keys()].filter((p) => !passed.has(p)))
      const plan = new Map<string, ReadPart[]>()
      for (const part of left) {
        const peer = order.find((p) => serves(p, part))
        if (peer !== undefined) plan.set(peer, [...(plan.get(peer) ?? []), part])
      }
      if (plan.size === 0) break
      const answers = await Promise.all([...plan].map(async ([peer, ask]) => ({ peer, ask, answer: await this.ask(peer, info, filter, ask) })))
      for (const { peer, ask, answer } of answers) {
        passed.add(peer)
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
        // Answers name their columns: every part's rows are laid out as the first one's.
        if (columns.length === 0) columns.push(...answer.columns)
        const at = answer.columns.map((c) => columns.indexOf(c))
        for (const row of answer.rows) {
          const out: Value[] = columns.map(() => null)
          at.forEach((j, i) => j >= 0 && (out[j] = row[i]!))
          rows.push(out)
        }
        for (const part of ask) left.delete(part)
        from.push(peer)
      }
    }
    if (left.size === 0) return { from: from.join(','), columns, rows }
    const regions = (info.regions ?? []).join(', ')
    const missing = [...left].map((p) => p.label).filter((l) => l !== '')
    const what = missing.length > 0 ? `${missing.join(', ')} of relation "${info.name}"` : `relation "${info.name}" (region(s) ${regions})`
    const why = tried.length > 0 ? `; tried ${tried.join(', ')}` : ''
    throw new ConcordError(
      'sqlclientUnableToEstablishSqlconnection',
      `no node holding ${what} is reachable from this node (region ${this.ctx.host.region})${why}`,
    )
  }

  private ask(peer: string, info: TableInfo, filter: string, parts: readonly ReadPart[]): Promise<RowsAnswer | 'timeout' | 'down'> {
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
      const unplaced = parts.some((p) => p.shard === null)
      const shards = parts.flatMap((p) => (p.shard === null ? [] : [p.shard]))
      this.fragments.send(peer, { type: MessageType.RowsRequest, id, table: info.name, incarnation: info.incarnation, filter, unplaced, shards })
    })
  }

  /** A holder's side: answers with every committed row of the parts asked for, or why not. */
  onRequest(from: string, id: number, table: string, incarnation: number, filter: string, parts: { unplaced: boolean; shards: readonly string[] }): void {
    const answer = (status: RowsStatus, message: string, columns: string[] = [], rows: Value[][] = []) =>
      this.fragments.send(from, { type: MessageType.Rows, id, status, message, columns, rows })
    const got = this.source(table, incarnation, filter, parts)
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
