/**
 * `ALTER SYSTEM ADD NODE '<peer id>' [WITH JOIN TOKEN '<token>'] [WITH (ROLE = admin |
 * member)]`, `ALTER SYSTEM ALTER NODE '<peer id>' WITH (ROLE = ..)` and `ALTER SYSTEM
 * REMOVE NODE '<peer id>'`: changes to the cluster's member list (cluster/peer-members.ts),
 * which the node server enforces on its peer port.
 *
 * Who may: a superuser, on a node that is an admin member (or any node while the list is
 * off); any role that logged in, for ADD NODE with a valid one-time join token this node
 * issued (that is how a joiner admits itself: the token is the authorization, consumed
 * whether or not the rest succeeds), which makes it a plain member: naming a right needs a
 * superuser. The change is a catalog write, so it reaches every member like DDL.
 */
import type { Replica } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { addPeerMember, alterPeerMember, MEMBER_RIGHTS, removePeerMember, type MemberRight, type MembershipHost } from '../cluster/peer-members.js'
import { utility, type StatementResult } from '../runtime/result.js'

export interface ClusterNodeStatement {
  action: 'add' | 'remove' | 'alter'
  peerId: string
  joinToken: string | null
  /** `WITH (ROLE = ..)` as written; null when absent. */
  right: string | null
}

export function runClusterNodeStatement(
  db: { replica: Replica; membership: MembershipHost | undefined },
  stmt: ClusterNodeStatement,
  superuser: boolean,
): StatementResult {
  const host = db.membership
  const what = `ALTER SYSTEM ${stmt.action.toUpperCase()} NODE`
  if (host === undefined) throw new SqlError(SqlState.featureNotSupported, `${what} needs a node that runs libp2p (a server node without --no-p2p)`)
  const right = stmt.right === null ? null : checkRight(stmt.right)
  // Checked before a join token is consumed: the write would be refused on every node.
  if (host.selfRight() === 'member') {
    throw new SqlError(SqlState.insufficientPrivilege, `this node is a member without the admin right: run ${what} on an admin node (SELECT * FROM concord_cluster_members shows their roles)`)
  }
  if (stmt.joinToken !== null && right === null) {
    if (!host.redeemJoinToken(stmt.joinToken)) throw new SqlError(SqlState.invalidAuthorizationSpecification, 'invalid join token (unknown here, or already used)')
  } else if (!superuser) {
    throw new SqlError(SqlState.insufficientPrivilege, `must be superuser to run ${what}${right !== null ? ' WITH (ROLE = ..)' : ''}`)
  } else if (stmt.joinToken !== null && !host.redeemJoinToken(stmt.joinToken)) {
    throw new SqlError(SqlState.invalidAuthorizationSpecification, 'invalid join token (unknown here, or already used)')
  }
  const r = db.replica
  r.transact((tx) => {
    if (stmt.action === 'add') addPeerMember(tx, host, stmt.peerId, r.nodeId, r.now(), right)
    else if (stmt.action === 'alter') alterPeerMember(tx, stmt.peerId, right!, r.nodeId, r.now())
    else removePeerMember(tx, host, stmt.peerId, r.nodeId, r.now())
  })
  return utility('ALTER SYSTEM')
}

function checkRight(s: string): MemberRight {
  const right = MEMBER_RIGHTS.find((x) => x === s)
  if (right === undefined) throw new SqlError(SqlState.invalidParameterValue, `invalid node role "${s.slice(0, 40)}": use admin or member`)
  return right
}
