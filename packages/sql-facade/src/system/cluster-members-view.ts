/**
 * concord_cluster_members: the cluster's member list as the replicated catalog holds it
 * (cluster/peer-members.ts): every PeerId ever added, whether it is a member now or was
 * removed, the node id it is bound to (null until bound), which node wrote that and
 * when, which entry is this node, and the member's role (right): admin or member. Empty while the
 * list is off (the cluster key alone admits peers). The same rows on every node once
 * their catalogs agree.
 */
import { view } from '../runtime/system-view.js'
import { T } from '../types/sql-type.js'
import { listPeerMembers } from '../cluster/peer-members.js'

export const clusterMembersView = view(
  [['peer_id', T.text], ['member', T.bool], ['node_id', T.text], ['changed_by', T.text], ['changed_at', T.timestamptz], ['this_node', T.bool], ['role', T.text]],
  ({ replica, exec }) => {
    const self = exec.membership?.selfPeerId()
    return listPeerMembers(replica).map((m) => [m.peerId, !m.removed, m.nodeId, m.by, m.at * 1000, m.peerId === self, m.right])
  },
)
