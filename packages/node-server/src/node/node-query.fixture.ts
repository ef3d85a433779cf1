/**
 * For tests: one statement on a running node over the PostgreSQL wire, on a connection of
 * its own (as `user`, with `password` when given), closed afterwards; and whether a node
 * has caught up on a table.
 */
import pg from 'pg'
import type { ConcordNode } from './concord-node.js'

export async function queryNode(node: ConcordNode, sql: string, user = 'concord', password?: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user, database: 'concord', ...(password ? { password } : {}) })
  await c.connect()
  try {
    return await c.query(sql)
  } finally {
    await c.end()
  }
}

/**
 * Whether the node has caught up on every shard of `table` it holds (pg_stat_concord_shards):
 * a node that joined on empty storage answers from its own rows only then, and reads
 * through a caught-up holder until then (docs/placement.md).
 */
export async function caughtUpOn(node: ConcordNode, table: string): Promise<boolean> {
  const flags = (await queryNode(node, `SELECT caught_up FROM pg_stat_concord_shards WHERE table_name = '${table}'`)).rows.map((r: { caught_up: unknown }) => r.caught_up)
  return flags.length > 0 && flags.every((f) => f === true)
}
