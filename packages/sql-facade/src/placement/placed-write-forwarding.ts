/**
 * Writes of rows routed to partitions placed on other nodes (`shard_location`) go to a
 * node holding them as a forwarded write (write-forwarding.ts: peer call on topic
 * `sql/forward`), which runs the same statement there and answers once it is durable; the
 * client gets that node's command tag, row count and RETURNING rows, or its error with
 * its SQLSTATE.
 *
 * A statement of its own (outside a transaction block, not itself forwarded) runs here
 * first, over the partitions held here and the others read from their holders (an UPDATE
 * or DELETE pinned by its WHERE to one partition reads only that one, pushed down); core
 * refuses it at commit, before anything is applied, naming the shard each written row
 * routes to and its holders (`RowsPlacedElsewhere`). The statement then goes to the
 * nearest connected node among those holding every one of those shards (a placed shard's
 * nodes; a shard without a placement is held by every node of the table's regions). No
 * node holds them all (rows routed to partitions placed on different nodes): 0A000 naming
 * them, nothing written, since no statement commits across nodes atomically.
 *
 * Not forwarded, refused (0A000) as before: what write-forwarding.ts does not forward
 * (binary parameters, COPY FROM), and, inside a transaction block, the rows are refused
 * at COMMIT with the block's other writes.
 *
 * Invariants: a statement goes to at most one node, and only when every row it wrote here
 * routes to shards that node holds; this node applies nothing of it. The holder routes the
 * rows again at its own state (a serial or `now()` in the partition key may route them
 * elsewhere there: it then refuses, as it forwards nothing onwards).
 */
import type { Replica, RoutedPart, RowsPlacedElsewhere, TableInfo } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { NameSource } from './statement-federation.js'

/** What deciding needs of the replica. */
export type PlacedHost = Pick<Replica, 'nodeId' | 'members'>

/** Where a refused statement goes: the table, the nodes holding every shard its rows route to, and those shards in words. */
export interface PlacedWrite {
  info: TableInfo
  nodes: string[]
  where: string
}

/** A routed shard in words: `partition 0 (placed on node1)`. */
function describe(part: RoutedPart): string {
  return part.placement === null ? `partition ${part.partition} (not placed)` : `partition ${part.partition} (placed on ${part.placement.location})`
}

/** The nodes holding a routed shard: its placement's, or the live members of the table's regions. */
function holders(part: RoutedPart, info: TableInfo, host: PlacedHost): string[] {
  if (part.placement !== null) return part.placement.nodes
  return host.members().filter((m) => !m.departed && (info.regions === null || info.regions.includes(m.region))).map((m) => m.nodeId)
}

/**
 * The nodes other than this one holding every shard the refused rows route to; throws
 * 0A000 naming the shards when no node holds them all. Null when the table is unknown.
 */
export function refusedPlacedWrite(e: RowsPlacedElsewhere, names: NameSource, host: PlacedHost): PlacedWrite | null {
  const info = names.table(e.table)
  if (info === undefined || e.parts.length === 0) return null
  const [first, ...rest] = e.parts
  const sets = rest.map((p) => new Set(holders(p, info, host)))
  const nodes = holders(first!, info, host).filter((n) => n !== host.nodeId && sets.every((s) => s.has(n)))
  const placed = e.parts.filter((p) => p.placement !== null)
  if (nodes.length === 0) {
    throw new SqlError(
      SqlState.featureNotSupported,
      `cannot write rows of relation "${info.name}" routed to ${e.parts.map(describe).join(', ')} in one statement on node ${host.nodeId}: ` +
        'no node holds them all, and no statement commits across nodes atomically; nothing was written',
      { hint: 'Write the rows of each placement with a statement of its own: each is forwarded to a node holding it.' },
    )
  }
  return { info, nodes, where: placed.map(describe).join(', ') }
}
