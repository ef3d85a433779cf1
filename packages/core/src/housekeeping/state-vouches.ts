/**
 * Vouches for holders' states: which holder of a shard is known to have durably held
 * exactly which state (a Yjs state vector of one generation), whether this replica saw
 * it itself or a peer relayed it (docs/decisions/0018-stability-within-holders.md,
 * relayed reports).
 *
 * A vouch comes from an equal report: a holder's digest or SYNC_DIFF hash (sent only for
 * durable state) matched this replica's state, whose state vector is then the holder's.
 * That is a fact about the holder, not about whoever passes it on, so vouches travel
 * (REPORTS, replication/relayed-reports.ts) and the builder of a shard counts a holder it
 * has no connection to (Housekeeper.deleteStability).
 *
 * Invariants: a holder's durable state only grows within a generation (a crash loses only
 * what was not durable), so of two vouches for one holder in one generation the one whose
 * state vector covers the other is kept; one of a newer generation replaces any older.
 * Memory: one entry per (shard, holder), the state vectors shared with the replica's own
 * (one per shard state reported, see `own`).
 */
import * as Y from 'yjs'
import type { ReportGroup } from '../replication/messages.js'
import { sameBytes } from '../codec/bytes.js'

/** A holder known to have durably held exactly the state of `stateVector` in `generation`. */
export interface Vouch {
  generation: number
  stateVector: Uint8Array
}

/** A decoded state vector (client -> clock); null for a malformed one. */
export function decodeStateVector(bytes: Uint8Array): Map<number, number> | null {
  try {
    return Y.decodeStateVector(bytes)
  } catch {
    return null
  }
}

/** Whether a state with `have` holds every update one with `need` holds. */
export function coversState(have: ReadonlyMap<number, number>, need: ReadonlyMap<number, number>): boolean {
  for (const [client, clock] of need) if ((have.get(client) ?? 0) < clock) return false
  return true
}

/** What `StateVouches.own` needs of a shard. */
export interface VouchedShard {
  readonly id: string
  readonly generation: number
  digest(): number
  stateVector(): Uint8Array
}

export class StateVouches {
  private readonly byShard = new Map<string, Map<string, Vouch>>()
  /** Per shard: this replica's state vector for its last digest (equal reports come many per state). */
  private readonly ownMemo = new Map<string, { generation: number; digest: number; stateVector: Uint8Array }>()

  /** This replica's state vector of a shard, encoded once per state. */
  own(shard: VouchedShard): Uint8Array {
    const digest = shard.digest()
    const m = this.ownMemo.get(shard.id)
    if (m !== undefined && m.digest === digest && m.generation === shard.generation) return m.stateVector
    const stateVector = shard.stateVector()
    this.ownMemo.set(shard.id, { generation: shard.generation, digest, stateVector })
    return stateVector
  }

  /** `holder` matched this replica's current state of `shard`. */
  noteEqual(shard: VouchedShard, holder: string): void {
    this.holders(shard.id).set(holder, { generation: shard.generation, stateVector: this.own(shard) })
  }

  /** A relayed vouch: kept unless the one held already says as much or more. */
  note(shardId: string, holder: string, generation: number, stateVector: Uint8Array): void {
    const m = this.holders(shardId)
    const old = m.get(holder)
    if (old !== undefined && old.generation > generation) return
    if (old !== undefined && old.generation === generation) {
      if (sameBytes(old.stateVector, stateVector)) return
      const had = decodeStateVector(old.stateVector)
      const got = decodeStateVector(stateVector)
      if (got === null) return
      if (had !== null && coversState(had, got)) return
    }
    m.set(holder, { generation, stateVector })
  }

  get(shardId: string, holder: string): Vouch | undefined {
    return this.byShard.get(shardId)?.get(holder)
  }

  /**
   * The vouches for `holders` in `generation`, grouped by state; and the holders whose
   * vouch is not for `current` (this replica's state now): a relayer asks those again.
   */
  report(shardId: string, generation: number, holders: readonly string[], current: Uint8Array | null): { groups: ReportGroup[]; stale: string[] } {
    const m = this.byShard.get(shardId)
    const groups = new Map<Uint8Array, string[]>()
    const stale: string[] = []
    for (const h of holders) {
      const v = m?.get(h)
      if (v === undefined || v.generation !== generation) {
        stale.push(h)
        continue
      }
      let g = groups.get(v.stateVector)
      if (g === undefined) {
        g = []
        groups.set(v.stateVector, g)
      }
      g.push(h)
      if (current === null || !sameBytes(v.stateVector, current)) stale.push(h)
    }
    return { groups: [...groups].map(([stateVector, hs]) => ({ stateVector, holders: hs })), stale }
  }

  private holders(shardId: string): Map<string, Vouch> {
    let m = this.byShard.get(shardId)
    if (m === undefined) {
      m = new Map()
      this.byShard.set(shardId, m)
    }
    return m
  }
}
