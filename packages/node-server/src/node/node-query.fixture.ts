/**
 * For tests: one statement on a running node over the PostgreSQL wire, on a connection of
 * its own (as `user`, with `password` when given), closed afterwards.
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
