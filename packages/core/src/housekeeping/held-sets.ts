/**
 * Held-by sets (docs/decisions/0036-held-by-sets.md): which holders of a shard are known,
 * here, to have durably held exactly this replica's current state of it, kept as a set
 * that replicas merge by union as they gossip it.
 *
 * An equal report (a peer's digest or SYNC_DIFF hash matching this replica's state, both
 * sent only for durable state) is a fact about the holder: it durably held this state.
 * Every replica holding the shard keeps the set of holders it knows that of, for its
 * current state (itself included once its state is durable). A replica whose anti-entropy
 * partner's digest shows it holds the same state sends it its set, as one bit per holder;
 * the partner adds the holders it did not know to its own set (each counts as an equal
 * report there, Housekeeper.noteEqualState) and answers with its set when that names
 * holders the sender's did not. Sets travel only between replicas at the same state:
 * while a shard is being written they would be of no use. Sets of one state only grow, and a union spreads through the holders
 * as a rumour does: the builder knows the whole set in O(log n) rounds, where asking or
 * hearing from each holder itself took O(n) (decision 0018).
 *
 * A set names holders by position in the shard's live holders sorted by node id (the
 * member list replicated in the catalog), and carries a hash of that list: a replica
 * whose list differs (its catalog is behind or ahead) ignores it.
 *
 * A set is not sent again to a peer known to hold all of it already (it was sent there, or
 * the peer's own set named as many holders) for RESEND_AFTER_ROUNDS rounds: in a quiet
 * cluster the sets stop travelling once they are whole, and a set lost on the way is sent
 * again after that many rounds.
 *
 * Invariants: a set belongs to one (generation, digest) of a shard, and is emptied when
 * the shard's state moves on; it only names holders of the list it was built from.
 * Memory: one set per shard with an equal report at its current state; one count per
 * (peer, shard) told, at most MAX_TOLD.
 */
import { fnv1aString } from '../codec/checksum.js'
import { MAX_HELD_HOLDERS, type HeldSet } from '../replication/messages.js'

/** A shard's live holders, sorted by node id, as a held-by set numbers them. */
export interface HolderList {
  readonly ids: readonly string[]
  readonly index: ReadonlyMap<string, number>
  /** Hash of the list (each id followed by U+0000). */
  readonly hash: number
}

export function holderList(ids: Iterable<string>): HolderList {
  const sorted = [...new Set(ids)].sort()
  let hash = 0x811c9dc5
  for (const id of sorted) hash = fnv1aString(`${id}\u0000`, hash)
  return { ids: sorted, index: new Map(sorted.map((id, i) => [id, i])), hash }
}

/** A shard's state as a held-by set is keyed: its generation and digest. */
export interface HeldState {
  readonly id: string
  readonly generation: number
  digest(): number
}

/** Rounds after which a set is sent again to a peer thought to hold all of it. */
export const RESEND_AFTER_ROUNDS = 10
/** Bound on the remembered (peer, shard) counts. */
const MAX_TOLD = 8192

export class HeldSets {
  private readonly byShard = new Map<string, { generation: number; hash: number; held: Set<string> }>()
  /** (peer U+0000 shard) -> the state and number of holders the peer is known to know of, and when that was learned (round). */
  private readonly told = new Map<string, { generation: number; hash: number; count: number; round: number }>()

  /** The set of the shard's current state, emptied first if the state moved on. */
  private at(shard: HeldState): Set<string> {
    const generation = shard.generation
    const hash = shard.digest()
    const s = this.byShard.get(shard.id)
    if (s !== undefined && s.generation === generation && s.hash === hash) return s.held
    const held = new Set<string>()
    this.byShard.set(shard.id, { generation, hash, held })
    return held
  }

  /** `holder` durably held exactly the shard's current state; true if that is news here. */
  add(shard: HeldState, holder: string): boolean {
    const held = this.at(shard)
    if (held.has(holder)) return false
    held.add(holder)
    return true
  }

  /** Whether the set of the shard's current state names `holder`. */
  has(shard: HeldState, holder: string): boolean {
    return this.at(shard).has(holder)
  }

  /**
   * The set of the shard's current state over `list`, to send `peer` in `round`; null when
   * it names nobody, the list is too long to send, or the peer knows all of it already
   * (learned fewer than RESEND_AFTER_ROUNDS rounds ago).
   */
  outgoing(shard: HeldState, list: HolderList, peer: string, round: number): HeldSet | null {
    if (list.ids.length > MAX_HELD_HOLDERS) return null
    const bits = new Uint8Array(Math.ceil(list.ids.length / 8))
    let count = 0
    for (const h of this.at(shard)) {
      const i = list.index.get(h)
      if (i === undefined) continue
      bits[i >> 3]! |= 1 << (i & 7)
      count++
    }
    if (count === 0) return null
    const set = { shard: shard.id, generation: shard.generation, hash: shard.digest(), holders: list.hash, bits }
    const key = `${peer}\u0000${shard.id}`
    const t = this.told.get(key)
    if (t !== undefined && t.generation === set.generation && t.hash === set.hash && t.count >= count && round - t.round < RESEND_AFTER_ROUNDS) return null
    this.tell(key, set.generation, set.hash, count, round)
    return set
  }

  private tell(key: string, generation: number, hash: number, count: number, round: number): void {
    if (this.told.size >= MAX_TOLD && !this.told.has(key)) this.told.clear()
    this.told.set(key, { generation, hash, count, round })
  }

  /**
   * Merges a peer's set: the holders it names that this replica did not know of at its
   * current state (added now), and whether this replica's set names holders the peer's
   * does not. Nothing when the set is of another state or another holder list.
   */
  incoming(shard: HeldState, set: HeldSet, list: HolderList, peer: string, round: number): { added: string[]; knowsMore: boolean } {
    const none = { added: [], knowsMore: false }
    if (set.generation !== shard.generation || set.hash !== shard.digest() || set.holders !== list.hash) return none
    if (set.bits.length !== Math.ceil(list.ids.length / 8)) return none
    const held = this.at(shard)
    const added: string[] = []
    for (let i = 0; i < list.ids.length; i++) {
      if ((set.bits[i >> 3]! & (1 << (i & 7))) === 0) continue
      const h = list.ids[i]!
      if (!held.has(h)) {
        held.add(h)
        added.push(h)
      }
    }
    // The merged set holds every holder the peer's names: it names more if it is larger over the list.
    let merged = 0
    for (const h of held) if (list.index.has(h)) merged++
    const knowsMore = merged > countBits(set.bits)
    // Otherwise the peer's set is all of ours (an answer, when there is one, tells it the rest).
    if (!knowsMore) this.tell(`${peer}\u0000${shard.id}`, set.generation, set.hash, merged, round)
    return { added, knowsMore }
  }

  forget(shardId: string): void {
    this.byShard.delete(shardId)
  }
}

function countBits(bits: Uint8Array): number {
  let n = 0
  for (let b of bits) {
    while (b !== 0) {
      b &= b - 1
      n++
    }
  }
  return n
}
