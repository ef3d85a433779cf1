/**
 * The shard requests (SYNC_REQ) this replica has sent and not yet seen answered, per peer.
 *
 * Anti-entropy asks a peer for a shard each time the peer's digest differs, and digests
 * come every round from both sides. A large answer (a joiner's first copy of a shard: the
 * whole state, megabytes encoded, sent in paced fragments, applied in one step) takes
 * longer than a round, so without this every round in between asked for, encoded, sent
 * and applied the whole shard again: a joiner received its data several times over,
 * which made catch-up slower the slower it already was. A shard is asked from a peer
 * again only once the peer answered it (a diff or a generation of that shard) or stopped
 * making progress: nothing from it for `patienceMs` since the request or since the last
 * fragment it sent (a lost request or answer is asked again then).
 *
 * Bounds: at most one entry per (peer, shard) both hold; a peer's entries go when it leaves.
 */
export class RequestsInFlight {
  /** Per peer: shard -> when it was asked. */
  private readonly asked = new Map<string, Map<string, number>>()
  /** Per peer: when the last fragment of a message came from it (a large answer in transit). */
  private readonly progress = new Map<string, number>()
  private readonly patienceMs: number

  constructor(patienceMs: number) {
    this.patienceMs = patienceMs
  }

  /** True while `shard` was asked from `peer` and the answer may still come (see the header). */
  pending(peer: string, shard: string, now: number): boolean {
    const at = this.asked.get(peer)?.get(shard)
    if (at === undefined) return false
    if (now - Math.max(at, this.progress.get(peer) ?? at) <= this.patienceMs) return true
    this.asked.get(peer)!.delete(shard)
    return false
  }

  /** `shard` was asked from `peer` now. */
  sent(peer: string, shard: string, now: number): void {
    let m = this.asked.get(peer)
    if (m === undefined) this.asked.set(peer, (m = new Map()))
    m.set(shard, now)
  }

  /** `peer` answered for `shard` (a diff or a generation): it may be asked again. */
  answered(peer: string, shard: string): void {
    this.asked.get(peer)?.delete(shard)
  }

  /** A fragment came from `peer`: an answer is on its way. */
  receiving(peer: string, now: number): void {
    if (this.asked.has(peer)) this.progress.set(peer, now)
  }

  /** `peer` left: nothing asked from it will come. */
  forget(peer: string): void {
    this.asked.delete(peer)
    this.progress.delete(peer)
  }
}
