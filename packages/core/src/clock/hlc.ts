/**
 * Hybrid logical clock.
 *
 * A timestamp is one number: wall-clock milliseconds times 1024 plus a logical counter
 * (10 bits). Packed this way it stays an exact double until the year 2248, compares with
 * `<`, and encodes in at most 9 bytes. Ties between nodes are broken by node id, outside
 * this class. Invariants: `now()` is strictly increasing, and after `observe(t)` the next
 * `now()` is greater than `t`. When more than 1024 events happen in one millisecond the
 * counter carries into the millisecond part: the clock runs slightly ahead, never back.
 */
export const LOGICAL_BITS = 10
export const LOGICAL_RANGE = 1 << LOGICAL_BITS

/** A clock refuses to jump more than this far ahead of its own wall clock on `observe`. */
export const DEFAULT_MAX_DRIFT_MS = 24 * 3600 * 1000

export class HybridClock {
  private last = 0
  private readonly wall: () => number
  private readonly maxDriftMs: number

  constructor(wall: () => number, maxDriftMs = DEFAULT_MAX_DRIFT_MS) {
    this.wall = wall
    this.maxDriftMs = maxDriftMs
  }

  /** A fresh timestamp, greater than every timestamp issued or observed before. */
  now(): number {
    const physical = Math.floor(this.wall()) * LOGICAL_RANGE
    this.last = physical > this.last ? physical : this.last + 1
    return this.last
  }

  /** The latest timestamp issued or observed, without advancing. */
  peek(): number {
    return this.last
  }

  /**
   * Folds in a timestamp seen from another node. Returns false (and ignores it) when the
   * timestamp lies further ahead of this node's wall clock than the allowed drift: one
   * peer with a broken clock must not drag every clock in the cluster into the future.
   */
  observe(remote: number): boolean {
    if (!Number.isSafeInteger(remote) || remote < 0) return false
    if (remote > (Math.floor(this.wall()) + this.maxDriftMs) * LOGICAL_RANGE) return false
    if (remote > this.last) this.last = remote
    return true
  }
}

/** Milliseconds part of a timestamp. */
export function hlcMillis(t: number): number {
  return Math.floor(t / LOGICAL_RANGE)
}

/** Logical counter part of a timestamp. */
export function hlcCounter(t: number): number {
  return t % LOGICAL_RANGE
}

/** Total order of (timestamp, node) pairs: the order every merge policy uses. */
export function compareStamp(aTime: number, aNode: string, bTime: number, bNode: string): number {
  if (aTime !== bTime) return aTime < bTime ? -1 : 1
  return aNode < bNode ? -1 : aNode > bNode ? 1 : 0
}
