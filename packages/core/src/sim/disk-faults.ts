/**
 * Seeded faults of one simulated disk (SimStorage), kept for every life of its node: a
 * full disk stays full across a restart.
 *
 * - Slow fsync: now and then one write takes far longer than usual (a stalled flush);
 *   the writes issued after it wait behind it, the disk committing one at a time.
 * - Disk full: spells of virtual time in which every write that completes fails with a
 *   `StorageFullError` and changes nothing; after each spell the disk has room again.
 * - Torn tail: at a crash, the writes in flight land up to a seeded cut. Those before it
 *   are on disk though nobody was told (the process died before it heard), the rest are
 *   lost. The cut falls between whole writes: the Storage contract makes each write
 *   atomic (LMDB and IndexedDB commit an append batch whole), so a record of a batch on
 *   disk without the others is not a state any storage may leave. What is new to the
 *   replica is writes durable but never acknowledged, several at once, at a restart.
 *
 * Invariants: with no faults configured nothing is drawn from the random stream (a
 * simulation without faults replays exactly as before they existed); every draw comes
 * from the disk's own stream, so a seed replays its faults exactly.
 */

export interface StorageFaults {
  /** A write is slow with this probability, and then takes [minMs, maxMs] virtual ms more. */
  slowFsync?: { probability: number; minMs: number; maxMs: number }
  /** Spells of a full disk, about `everyMs` apart (uniform in [0.5, 1.5] of it), each [minMs, maxMs] long. */
  diskFull?: { everyMs: number; minMs: number; maxMs: number }
  /** At a crash, writes in flight land up to a seeded cut (else all are lost). */
  tornTail?: boolean
}

/** What the faults did, for a campaign's report. */
export interface DiskFaultCounts {
  slowWrites: number
  /** Writes that failed because the disk was full. */
  fullWrites: number
  /** Writes in flight at a crash that landed, and that were lost. */
  landedAtCrash: number
  lostAtCrash: number
}

export class DiskFaults {
  readonly counts: DiskFaultCounts = { slowWrites: 0, fullWrites: 0, landedAtCrash: 0, lostAtCrash: 0 }
  private readonly faults: StorageFaults
  private readonly random: () => number
  /** The current or next spell of a full disk: [spellStart, spellEnd). */
  private spellStart = Number.POSITIVE_INFINITY
  private spellEnd = Number.POSITIVE_INFINITY
  /** Full until this virtual time whatever the spells say (`fillUntil`). */
  private forcedUntil = Number.NEGATIVE_INFINITY

  /** `now`: the virtual time the disk starts at (its first spell of fullness comes after it). */
  constructor(faults: StorageFaults, random: () => number, now: number) {
    this.faults = faults
    this.random = random
    if (faults.diskFull !== undefined) this.nextSpell(now)
  }

  /** Extra virtual ms the write issued now takes to become durable. */
  fsyncDelay(): number {
    const slow = this.faults.slowFsync
    if (slow === undefined || this.random() >= slow.probability) return 0
    this.counts.slowWrites++
    return this.between(slow.minMs, slow.maxMs)
  }

  /** True when a write completing at virtual time `at` finds the disk full. Times asked never go back. */
  isFull(at: number): boolean {
    if (at < this.forcedUntil) return true
    if (this.faults.diskFull === undefined) return false
    // Bounded: spells are at least half of `everyMs` apart, and virtual time moves by seconds.
    for (let i = 0; i < 100_000 && at >= this.spellEnd; i++) this.nextSpell(this.spellEnd)
    return at >= this.spellStart && at < this.spellEnd
  }

  /** Makes the disk full until virtual time `until`, whatever the seeded spells say (tests). */
  fillUntil(until: number): void {
    this.forcedUntil = until
  }

  /** How many of the `inFlight` writes a crash interrupts land (a prefix of them). */
  landedAtCrash(inFlight: number): number {
    if (this.faults.tornTail !== true || inFlight === 0) return 0
    return this.between(0, inFlight)
  }

  private nextSpell(after: number): void {
    const full = this.faults.diskFull!
    this.spellStart = after + Math.max(1, Math.round(full.everyMs * (0.5 + this.random())))
    this.spellEnd = this.spellStart + this.between(full.minMs, full.maxMs)
  }

  /** Integer in [min, max]. */
  private between(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1))
  }
}
