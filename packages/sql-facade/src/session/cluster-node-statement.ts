/**
 * `ALTER SYSTEM ADD NODE '<peer id>' [WITH JOIN TOKEN '<token>']` and `ALTER SYSTEM REMOVE
 * NODE '<peer id>'`: changes to the cluster's member list (cluster/peer-members.ts), which
 * the node server enforces on its peer port.
 *
 * Who may: a superuser, for both; any role that logged in, for ADD NODE with a valid
 * one-time join token this node issued (that is how a joiner admits itself: the token is
 * the authorization, consumed whether or not the rest succeeds). The change is a catalog
 * write, so it reaches every member like DDL.
 */
import type { Replica } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { addPeerMember, removePeerMember, type MembershipHost } from '../cluster/peer-members.js'
import { utility, type StatementResult } from '../runtime/result.js'

export interface ClusterNodeStatement {
  action: 'add' | 'remove'
  peerId: string
  joinToken: string | null
}

export function runClusterNodeStatement(
  db: { replica: Replica; membership: MembershipHost | undefined },
  stmt: ClusterNodeStatement,
  superuser: boolean,
): StatementResult {
  const host = db.membership
  const what = `ALTER SYSTEM ${stmt.action.toUpperCase()} NODE`
  if (host === undefined) throw new SqlError(SqlState.featureNotSupported, `${what} needs a node that runs libp2p (a server node without --no-p2p)`)
  if (stmt.joinToken !== null) {
    if (!host.redeemJoinToken(stmt.joinToken)) throw new SqlError(SqlState.invalidAuthorizationSpecification, 'invalid join token (unknown here, or already used)')
  } else if (!superuser) {
    throw new SqlError(SqlState.insufficientPrivilege, `must be superuser to run ${what}`)
  }
  const r = db.replica
  r.transact((tx) => {
    if (stmt.action === 'add') addPeerMember(tx, host, stmt.peerId, r.nodeId, r.now())
    else removePeerMember(tx, host, stmt.peerId, r.nodeId, r.now())
  })
  return utility('ALTER SYSTEM')
}
