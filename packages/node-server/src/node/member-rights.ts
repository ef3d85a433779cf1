/**
 * Per-member write rights (docs/security.md, "Member rights"): with the member list on,
 * each member is an `admin` or a plain `member` (peer-members.ts in @concord/sql-facade).
 * A member may write data and ordinary DDL; only an admin may write the catalog objects
 * that govern the cluster (`ADMIN_CATALOG_KINDS`: the member list and its bindings, roles,
 * role memberships and grants, cluster-wide settings and the default conflict policy,
 * browser grants) and the secrets shard (role verifiers), which is only those.
 *
 * Enforced twice:
 * - on this node's own writes (`guard`, Replica.catalogWriteGuard): a member node's SQL
 *   that would write such an object fails with 42501 before anything is written;
 * - on what peers send (`checkOf`, Replicator.peerWriteChecks): a catalog update from a
 *   peer without the admin right that would set or delete such an object is refused whole
 *   (not applied, so never relayed by this node), counted (`concord_writes_refused_total`)
 *   and logged once per peer; anti-entropy does not ask that peer for that shard again
 *   until its state changes.
 *
 * What "the peer" is (docs/decisions/0024-member-rights.md): the authenticated sender of the message. For a direct frame, the
 * PeerId of the Noise connection (its node id bound by its HELLO); for gossip, the PeerId
 * that signed the envelope, which must be bound to the envelope's origin (peer-membership
 * .ts), even when another member relayed it. Yjs structs carry no signature, so a
 * catalog update is judged by who delivered it, not by whose writer entries it holds: a
 * member's anti-entropy diff that relays an admin's change of the list is refused too
 * (the change comes from an admin, or by gossip that admin signed), and an admin's diff
 * is trusted whole, relayed entries included.
 *
 * Invariant: while the list is off, nothing is checked (every peer is a full member, as
 * before rights existed).
 */
import { CATALOG_SHARD, SECRETS_SHARD, catalogKindsOfUpdate, type Replica, type WriteCheck } from '@concord/core'
import {
  BROWSER_GRANT_KIND, CLUSTER_SETTING_KIND, PEER_MEMBER_KIND, ROLE_KIND, ROLE_LOGIN_KIND, ROLE_MEMBER_KIND, ROLE_SECRET_KIND, SCHEMA_GRANT_KIND, SqlError, SqlState,
  TABLE_GRANT_KIND, type MemberRight,
} from '@concord/sql-facade'
import type { Logger } from '../log/logger.js'

/** The default conflict policy's catalog kind (`ALTER SYSTEM SET conflict_resolution_policy`). */
const POLICY_KIND = 'policy'

export const ADMIN_CATALOG_KINDS: ReadonlySet<string> = new Set([
  PEER_MEMBER_KIND, ROLE_KIND, ROLE_SECRET_KIND, ROLE_MEMBER_KIND, ROLE_LOGIN_KIND, TABLE_GRANT_KIND, SCHEMA_GRANT_KIND, CLUSTER_SETTING_KIND, POLICY_KIND, BROWSER_GRANT_KIND,
])

/** Refusals logged per node: (peer, shard) pairs. */
const MAX_LOGGED = 4096

export interface RightsSource {
  selfRight(): MemberRight | null
  rightOfNode(nodeId: string): MemberRight | null
}

export class MemberRights {
  private readonly rights: RightsSource
  private readonly replica: Replica
  private readonly log: Logger
  private readonly logged = new Set<string>()

  constructor(rights: RightsSource, replica: Replica, log: Logger) {
    this.rights = rights
    this.replica = replica
    this.log = log
  }

  /** Throws 42501 when this node may not write that catalog object. */
  guard(kind: string): void {
    if (!ADMIN_CATALOG_KINDS.has(kind) || this.rights.selfRight() !== 'member') return
    throw new SqlError(
      SqlState.insufficientPrivilege,
      `this node is a member of the cluster without the admin right: the member list, roles, grants, cluster settings and browser tokens are changed on an admin node (SELECT peer_id, role FROM concord_cluster_members)`,
    )
  }

  /** The write check of the peer speaking as `nodeId`; null when all it sends may apply. */
  checkOf(nodeId: string): WriteCheck | null {
    if (this.rights.rightOfNode(nodeId) !== 'member') return null
    return (shard, update, generation) => {
      // The secrets shard holds role verifiers only: nothing of it is a member's to write.
      if (shard === SECRETS_SHARD) return false
      if (shard !== CATALOG_SHARD) return true
      const catalog = this.replica.catalogShard
      const kinds = catalogKindsOfUpdate(generation === catalog.generation ? catalog.doc : null, update)
      if (kinds === null) return false
      for (const k of kinds) if (ADMIN_CATALOG_KINDS.has(k)) return false
      return true
    }
  }

  /** Logs a refusal once per peer and shard. */
  refused(peer: string, shards: string[]): void {
    for (const shard of shards) {
      const key = `${peer}\u0000${shard}`
      if (this.logged.has(key) || this.logged.size >= MAX_LOGGED) continue
      this.logged.add(key)
      this.log.warn(
        `refused an update of ${shard} from ${peer}: a member without the admin right may not change the member list, roles, grants, cluster settings or browser tokens, nor relay such changes, nor send what cannot be attributed to the objects it changes (not applied, not replicated)`,
      )
    }
  }
}
