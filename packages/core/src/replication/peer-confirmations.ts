/**
 * Which shards connected peers have confirmed: the last state hash each peer reported
 * per shard, from messages peers send anyway (a DIGEST lists its hash of each shard both
 * hold; a SYNC_DIFF carries the sender's hash after its state). A shard this replica holds
 * is confirmed when some connected peer last reported exactly its current state hash. A
 * local write changes that hash, so the shard stays unconfirmed until a peer reports
 * holding the write. This is what an application shows as online or syncing (the
 * browser's connection monitor); no extra message is sent for it.
 *
 * Invariant: only peers that said hello and have not gone down have entries.
 */

/** How far this replica's shards are confirmed by connected peers (`Replica.syncState`). */
export interface SyncState {
  /** Peers connected (said hello) now. */
  peers: number
  /** Shards this replica holds or should hold (a peer listed one it has not got yet). */
  shards: number
  /** Of those, shards whose current state some connected peer reported holding. */
  confirmed: number
}

/** Most shards remembered per peer: a peer listing more is listing shards that do not exist here. */
const MAX_SHARDS_PER_PEER = 100_000

export class PeerConfirmations {
  private readonly byPeer = new Map<string, Map<string, number>>()
  private readonly listeners = new Set<() => void>()

  /** `peer` reported `hash` as its state of `shard`. */
  note(peer: string, shard: string, hash: number): void {
    const hashes = this.byPeer.get(peer)
    if (hashes === undefined || hashes.get(shard) === hash) return
    if (!hashes.has(shard) && hashes.size >= MAX_SHARDS_PER_PEER) return
    hashes.set(shard, hash)
    this.changed()
  }

  /** `peer` said hello: it is connected, and its reports start afresh. */
  connected(peer: string): void {
    this.byPeer.set(peer, new Map())
    this.changed()
  }

  /** `peer` went down. */
  forget(peer: string): void {
    if (!this.byPeer.has(peer)) return
    this.byPeer.delete(peer)
    this.changed()
  }

  /**
   * The state against this replica's current `local` hashes (shard id to digest, of the
   * shards it holds); `holds` tells whether a shard a peer listed belongs here.
   */
  state(local: ReadonlyMap<string, number>, holds: (shard: string) => boolean): SyncState {
    const shards = new Set(local.keys())
    for (const hashes of this.byPeer.values()) for (const s of hashes.keys()) if (holds(s)) shards.add(s)
    let confirmed = 0
    for (const s of shards) {
      const mine = local.get(s)
      if (mine === undefined) continue
      for (const hashes of this.byPeer.values()) {
        if (hashes.get(s) === mine) {
          confirmed++
          break
        }
      }
    }
    return { peers: this.byPeer.size, shards: shards.size, confirmed }
  }

  /** Calls `fn` whenever a peer's report or the set of peers changes; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private changed(): void {
    for (const fn of this.listeners) {
      try {
        fn()
      } catch {
        // A listener cannot break replication.
      }
    }
  }
}
