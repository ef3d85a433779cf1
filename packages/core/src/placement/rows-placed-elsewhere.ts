/**
 * The refusal of a statement's writes of rows routed to placed shards this node does not
 * hold (`shard_location`, shard-placement.ts): written here they would replicate nowhere.
 * It names every shard the table's written rows route to and who holds each, so the SQL
 * layer can forward the statement to a node holding them all, or refuse it naming them
 * (sql-facade placement/placed-write-forwarding.ts).
 *
 * Invariants: thrown at commit, before anything of the transaction is applied; `parts`
 * lists each shard once, in the order rows first reached it, the refused one among them.
 */
import { ConcordError } from '../errors/concord-error.js'
import type { TableInfo } from '../types.js'
import type { ShardPlacement } from './shard-placement.js'

/** A shard a statement's rows route to: its partition and placement (null: held by every node of the table's regions). */
export interface RoutedPart {
  partition: number
  placement: ShardPlacement | null
}

/** The message of a write routed to a placed shard this node does not hold. */
export function unheldShardMessage(info: TableInfo, partition: number, placement: ShardPlacement, nodeId: string): string {
  return (
    `cannot write this row of relation "${info.name}" on node ${nodeId}: it routes to partition ${partition}, ` +
    `placed on ${placement.location} (node(s) ${placement.nodes.join(', ')})`
  )
}

export class RowsPlacedElsewhere extends ConcordError {
  readonly table: string
  readonly parts: readonly RoutedPart[]

  constructor(info: TableInfo, refused: { partition: number; placement: ShardPlacement }, parts: readonly RoutedPart[], nodeId: string) {
    super('featureNotSupported', unheldShardMessage(info, refused.partition, refused.placement, nodeId))
    this.name = 'RowsPlacedElsewhere'
    this.table = info.name
    this.parts = parts
  }
}
