/**
 * Peer scopes: what a restricted peer (a browser replica holding a scoped token) may read
 * and write, applied to the replication messages crossing this replica's boundary.
 *
 * A peer without a scope (every node peer) is unaffected. For a scoped peer:
 * - Received: UPDATES, SYNC_DIFF and GENERATION entries for shards it may not write are
 *   dropped (the rest of the message applies) and reported; ROWS_REQ for a table it may
 *   not read whole, unless it names only shards it may read, and every CALL (forwarded SQL, run as a role the caller names) and NOTICE,
 *   are refused whole. HELLO, ACK, HEARTBEAT, DIGEST, SYNC_REQ and ROWS carry no data of
 *   the cluster's and pass.
 * - Sent: UPDATES, SYNC_DIFF, DIGEST and SYNC_REQ keep only the shards it may read; a
 *   GENERATION of another shard, a NOTICE and a CALL are not sent. So it never learns a
 *   row, a digest or the id of a shard outside its scope through this replica.
 *
 * A full peer may still be denied some writes: a member without the admin right may not
 * write the member list, roles or cluster settings (node-server member-rights.ts). Its
 * messages pass `writesIncoming`, which drops the UPDATES, SYNC_DIFF and GENERATION entries
 * a `WriteCheck` refuses, and nothing else.
 *
 * Invariant: the functions are pure; a filtered message that keeps no entry is dropped
 * (null), never sent or applied empty. Gossip is not covered here: a transport must keep
 * scoped peers out of gossip (the node's does: gossipsub scores them below every threshold).
 */
import { MessageType, type Message } from './messages.js'

export interface PeerScope {
  /** Whether the peer may receive this shard's data. */
  reads(shard: string): boolean
  /** Whether updates from the peer to this shard may be applied. */
  writes(shard: string): boolean
  /** Whether the peer may read every row of this table (a federated read, ROWS_REQ, of any of its parts). */
  readsTable(table: string): boolean
}

/** The scope of a peer (by replica node id), or null for an unrestricted peer. */
export type PeerScopes = (peer: string) => PeerScope | null

/** Whether one Yjs update from a peer to a shard (an UPDATES entry, a SYNC_DIFF, a GENERATION's state) may be applied. */
export type WriteCheck = (shard: string, update: Uint8Array, generation: number) => boolean

/** The write check of a full peer (by replica node id), or null when every write of it applies. */
export type PeerWriteChecks = (peer: string) => WriteCheck | null

/** A received message cut to what a scoped peer may write: `refused` names what was dropped. */
export function scopeIncoming(scope: PeerScope, msg: Message): { msg: Message | null; refused: string[] } {
  switch (msg.type) {
    case MessageType.Updates:
    case MessageType.SyncDiff:
    case MessageType.Generation:
      return writesIncoming((shard) => scope.writes(shard), msg)
    case MessageType.RowsRequest: {
      // A table it reads whole, or named shards it may read only (a region scope's home shards).
      const byShard = !msg.unplaced && msg.shards.length > 0
      return (scope.readsTable(msg.table) || byShard) && msg.shards.every((s) => scope.reads(s)) ? { msg, refused: [] } : { msg: null, refused: [`rows of ${msg.table}`] }
    }
    case MessageType.Call:
      return { msg: null, refused: [`call ${msg.topic}`] }
    case MessageType.Notice:
      return { msg: null, refused: [`notice ${msg.topic}`] }
    // Vouches and held-by sets decide when tombstones go: only an unrestricted peer's count.
    case MessageType.ReportsAsk:
    case MessageType.Reports:
      return { msg: null, refused: [`reports of ${msg.shard}`] }
    case MessageType.Held:
      return { msg: null, refused: msg.sets.map((h) => `reports of ${h.shard}`) }
    default:
      return { msg, refused: [] }
  }
}

/** A message to send cut to what a scoped peer may read; null: send nothing. */
export function scopeOutgoing(scope: PeerScope, msg: Message): Message | null {
  switch (msg.type) {
    case MessageType.Updates: {
      const updates = msg.updates.filter((u) => scope.reads(u.shard))
      return updates.length === 0 ? null : { ...msg, updates }
    }
    case MessageType.SyncDiff: {
      const diffs = msg.diffs.filter((d) => scope.reads(d.shard))
      return diffs.length === 0 ? null : { ...msg, diffs }
    }
    case MessageType.Digest:
      return { ...msg, digests: msg.digests.filter((d) => scope.reads(d.shard)) }
    case MessageType.SyncRequest: {
      const requests = msg.requests.filter((r) => scope.reads(r.shard))
      return requests.length === 0 ? null : { ...msg, requests }
    }
    case MessageType.Generation:
      return scope.reads(msg.shard) ? msg : null
    case MessageType.Notice:
    case MessageType.Call:
    case MessageType.ReportsAsk:
    case MessageType.Reports:
    case MessageType.Held:
      return null
    default:
      return msg
  }
}

/** A received message without the shard updates `check` refuses: `refused` names their shards. */
export function writesIncoming(check: WriteCheck, msg: Message): { msg: Message | null; refused: string[] } {
  switch (msg.type) {
    case MessageType.Updates: {
      const ok = msg.updates.map((u) => check(u.shard, u.update, u.generation))
      const keep = msg.updates.filter((_, i) => ok[i])
      return { msg: keep.length === 0 ? null : { ...msg, updates: keep }, refused: [...new Set(msg.updates.filter((_, i) => !ok[i]).map((u) => u.shard))] }
    }
    case MessageType.SyncDiff: {
      const ok = msg.diffs.map((d) => check(d.shard, d.update, d.generation))
      const keep = msg.diffs.filter((_, i) => ok[i])
      return { msg: keep.length === 0 ? null : { ...msg, diffs: keep }, refused: [...new Set(msg.diffs.filter((_, i) => !ok[i]).map((d) => d.shard))] }
    }
    case MessageType.Generation:
      return check(msg.shard, msg.state, msg.generation) ? { msg, refused: [] } : { msg: null, refused: [msg.shard] }
    default:
      return { msg, refused: [] }
  }
}
