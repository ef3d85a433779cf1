/**
 * Drawing values of user sequences (CREATE SEQUENCE, nextval) so that two nodes never
 * hand out the same value of one epoch, partitioned or not, on the same id slots SERIAL
 * uses (id-slots.ts): a node draws only from slots it holds, confirmed.
 *
 * An epoch's values are `base + k * increment`, k = 0 .. count - 1 (count: how many fit
 * before the bound). The index space is cut into SLOT_COUNT equal chunks, chunk s =
 * [s * size, (s + 1) * size) with size = max(1, floor(count / SLOT_COUNT)) (the last
 * chunk takes the remainder), and a node draws the indexes of the chunks of its own
 * usable slots, lowest slot first, in order. A node alone holds slot 0, so it hands out
 * base, base + increment, .. exactly as PostgreSQL; a second node draws from the chunk
 * of its own slot, far away. Values are unique, not globally ordered.
 *
 * Invariants: a value is handed out only after the catalog object
 * `('sequence-position', '<name> U+0000 <epoch> U+0000 <node>')` saying indexes below
 * `upTo` may be in use was written, so a restart resumes above every value drawn before
 * it. Drawing is not transactional (as nextval). A node that has used up its chunks
 * claims another slot whose chunk is not empty; when every such slot is taken the
 * sequence is exhausted (2200H) unless it CYCLEs, which begins a new epoch at MINVALUE
 * (MAXVALUE descending). A pending claim fails the draw with 55000 (IdRangePending),
 * which the session waits out, as for SERIAL.
 */
import type { Json } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { IdSlots, SlotHost } from './id-slots.js'
import { SLOT_COUNT } from './serial-range.js'
import type { SequenceDef } from './sequence-definition.js'
import { IdRangePending } from './serial-sequences.js'

export const SEQUENCE_POSITION_KIND = 'sequence-position'

interface Position {
  slot: number | null
  next: bigint
  upTo: bigint
  done: number[]
}

/** How far ahead of the last value drawn a node persists its position (a restart skips at most this many). */
const PERSIST_STEP = 1024n
/** Bound on slot changes within one draw. */
const MAX_STEPS = 16

/** How many values an epoch has: from `base` to the bound in the increment's direction. */
export function epochCount(d: SequenceDef): bigint {
  if (d.base < d.min || d.base > d.max) return 0n
  return d.increment > 0n ? (d.max - d.base) / d.increment + 1n : (d.base - d.min) / -d.increment + 1n
}

/** The indexes [first, end) slot `slot` gives an epoch of `count` values; empty when first >= end. */
export function chunkOf(slot: number, count: bigint): { first: bigint; end: bigint } {
  const n = BigInt(SLOT_COUNT)
  const size = count / n > 0n ? count / n : 1n
  const first = BigInt(slot) * size
  const end = slot === SLOT_COUNT - 1 ? count : BigInt(slot + 1) * size < count ? BigInt(slot + 1) * size : count
  return { first, end }
}

export class UserSequences {
  private readonly positions = new Map<string, Position>()
  private readonly host: SlotHost
  private readonly slots: IdSlots

  constructor(host: SlotHost, slots: IdSlots) {
    this.host = host
    this.slots = slots
  }

  private key(name: string, epoch: number): string {
    return `${name}\u0000${epoch}\u0000${this.host.nodeId}`
  }

  private load(name: string, key: string): Position {
    let p = this.positions.get(key)
    if (p !== undefined) return p
    let stored: { slot?: unknown; upTo?: unknown; done?: unknown } | undefined
    const suffix = `\u0000${this.host.nodeId}`
    for (const [n, v] of this.host.listCatalog(SEQUENCE_POSITION_KIND)) {
      if (n === key) stored = v as typeof stored
      // This node's positions of the sequence's earlier epochs are of no further use.
      else if (n.startsWith(`${name}\u0000`) && n.endsWith(suffix)) this.forget(n)
    }
    const upTo = typeof stored?.upTo === 'string' && /^\d{1,19}$/.test(stored.upTo) ? BigInt(stored.upTo) : 0n
    const slot = typeof stored?.slot === 'number' && Number.isInteger(stored.slot) && stored.slot >= 0 && stored.slot < SLOT_COUNT ? stored.slot : null
    const done = Array.isArray(stored?.done) ? stored.done.filter((x): x is number => typeof x === 'number') : []
    p = { slot, next: upTo, upTo, done }
    this.positions.set(key, p)
    return p
  }

  private forget(key: string): void {
    this.positions.delete(key)
    this.host.writeCatalog(SEQUENCE_POSITION_KIND, key, null)
  }

  /** The last value this node drew in the sequence's current epoch, or null if none. */
  lastDrawn(name: string, d: SequenceDef): bigint | null {
    const p = this.load(name, this.key(name, d.epoch))
    if (p.slot === null || p.next <= chunkOf(p.slot, epochCount(d)).first) return null
    return d.base + (p.next - 1n) * d.increment
  }

  /** Drops every position of `name` (DROP SEQUENCE): written by any node, for all nodes. */
  dropPositions(name: string): void {
    for (const [n] of this.host.listCatalog(SEQUENCE_POSITION_KIND)) if (n.startsWith(`${name}\u0000`)) this.forget(n)
  }

  private persist(key: string, p: Position): void {
    this.host.writeCatalog(SEQUENCE_POSITION_KIND, key, { slot: p.slot, upTo: String(p.upTo), done: p.done } as Json)
  }

  /**
   * The next value of sequence `name` for this node. `wrap` begins a new epoch at the
   * CYCLE restart value and returns the definition it wrote.
   */
  next(name: string, def: SequenceDef, wrap: (d: SequenceDef) => SequenceDef): bigint {
    let d = def
    this.slots.confirmPending()
    for (let epochs = 0; epochs < 2; epochs++) {
      const got = this.draw(name, d)
      if (got !== null) return got
      if (!d.cycle) throw exhausted(name, d)
      d = wrap(d)
    }
    throw exhausted(name, d)
  }

  /** A value of the current epoch, or null when this epoch has none left for any node. */
  private draw(name: string, d: SequenceDef): bigint | null {
    const key = this.key(name, d.epoch)
    const p = this.load(name, key)
    const count = epochCount(d)
    const fits = (s: number) => {
      const c = chunkOf(s, count)
      return c.first < c.end && !p.done.includes(s)
    }
    for (let step = 0; step < MAX_STEPS; step++) {
      const usable = this.slots.usable()
      if (p.slot !== null && usable.includes(p.slot)) {
        const c = chunkOf(p.slot, count)
        const k = p.next > c.first ? p.next : c.first
        if (k < c.end) {
          p.next = k + 1n
          if (k >= p.upTo) {
            p.upTo = k + PERSIST_STEP < c.end ? k + PERSIST_STEP : c.end
            this.persist(key, p)
          }
          this.keepSpare(p, c, usable, fits)
          return d.base + k * d.increment
        }
      }
      if (p.slot !== null) {
        p.done.push(p.slot)
        p.slot = null
      }
      const nextSlot = usable.find(fits)
      if (nextSlot !== undefined) {
        p.slot = nextSlot
        p.next = chunkOf(nextSlot, count).first
        p.upTo = p.next
        continue
      }
      if (this.slots.pending().some(fits)) throw notYet(name)
      if (this.slots.claim(fits) === null) return null
      if (this.slots.hasPeers()) throw notYet(name)
    }
    return null
  }

  /** Claims a slot ahead once the current chunk is half used, so a cut-off node keeps drawing. */
  private keepSpare(p: Position, c: { first: bigint; end: bigint }, usable: number[], fits: (s: number) => boolean): void {
    if ((p.next - c.first) * 2n < c.end - c.first) return
    if (!this.slots.hasPeers()) return
    if (usable.some((s) => s !== p.slot && fits(s)) || this.slots.pending().some(fits)) return
    this.slots.claim(fits)
  }
}

export function exhausted(name: string, d: SequenceDef): SqlError {
  return d.increment > 0n
    ? new SqlError(SqlState.sequenceGeneratorLimitExceeded, `nextval: reached maximum value of sequence "${name}" (${d.max})`)
    : new SqlError(SqlState.sequenceGeneratorLimitExceeded, `nextval: reached minimum value of sequence "${name}" (${d.min})`)
}

function notYet(name: string): SqlError {
  return new IdRangePending(SqlState.objectNotInPrerequisiteState, `sequence "${name}" has no value range on this node yet`, {
    detail: 'This node claimed a new id slot; it draws from it once every live member has reported holding the claim.',
    hint: 'Retry once this node is connected to the other members.',
  })
}
