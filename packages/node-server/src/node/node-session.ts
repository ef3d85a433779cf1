/**
 * Statements a node answers itself, before the SQL layer: its identity and how to reach
 * it over libp2p (used by `--join host:port`, see pg-join.ts).
 */
import type { QueryResult, SqlSession } from '../pgwire/sql-session.js'
import { P2P_ADDRESSES_QUERY } from './pg-join.js'

export interface NodeFacts {
  nodeId: string
  region: string
  p2pAddresses(): string[]
}

const SHOW_ADDRESSES = new RegExp(`^\\s*${P2P_ADDRESSES_QUERY.replace(/ /g, '\\s+').replace('.', '\\.')}\\s*;?\\s*$`, 'i')
const SHOW_NODE_ID = /^\s*show\s+concord\.node_id\s*;?\s*$/i

export function nodeSession(inner: SqlSession, facts: NodeFacts): SqlSession {
  const session: SqlSession = {
    async query(sql, params) {
      if (SHOW_ADDRESSES.test(sql)) {
        const rows = facts.p2pAddresses().map((a) => [a])
        return { command: 'SHOW', rowCount: rows.length, fields: [{ name: 'address', type: 'text' }], rows } satisfies QueryResult
      }
      if (SHOW_NODE_ID.test(sql)) return { command: 'SHOW', rowCount: 1, fields: [{ name: 'node_id', type: 'text' }], rows: [[facts.nodeId]] }
      return inner.query(sql, params)
    },
    close: () => inner.close?.(),
  }
  if (inner.transactionState) session.transactionState = () => inner.transactionState!()
  return session
}
