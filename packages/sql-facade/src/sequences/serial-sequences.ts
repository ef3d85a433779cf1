/**
 * Drawing int2/int4 SERIAL (and GENERATED AS IDENTITY) ids: one sequence per (table,
 * incarnation, column), `<table>_<column>_seq` in messages as PostgreSQL names it. Each
 * node draws, in order, from the ranges of its usable id slots (id-slots.ts), so two
 * nodes never hand out the same value, partitioned or not.
 *
 * Invariants: an id is handed out only after a catalog object
 * `('serial-position', '<table> U+0000 <incarnation> U+0000 <column> U+0000 <node>')`
 * saying ids up to `upTo` may be in use was written (persistStep ids ahead), so a restart
 * resumes above every id drawn before it and never hands one out twice. Like PostgreSQL's
 * nextval, drawing is not transactional: a rolled-back statement's ids are not reused.
 * When no slot is left for the type the draw fails with 2200H; when this node's claim of
 * a new slot is not yet confirmed it fails with 55000 (a spare slot is claimed once the
 * current range is half used, so this happens only on a node cut off for long).
 */
import type { Json } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { IdSlots, SlotHost } from './id-slots.js'
import { persistStep, SERIAL_MAX, slotRange, type SerialType } from './serial-range.js'

export const POSITION_KIND = 'serial-position'

/**
 * 55000: this node's claim of a new id range is not confirmed yet. The statement left no
 * trace, so a session may wait for the confirmation and run it again (Session does, for
 * a while: DatabaseOptions.serialWaitMs).
 */
export class IdRangePending extends SqlError {}

export interface SequenceRef {
  table: string
  incarnation: number
  column: string
  type: SerialType
  /** Table and column names its positions are kept under, when renamed (storage name, column's first name). */
  stored?: [string, string]
}

interface Position {
  /** Slot being drawn from; null before the first draw or once it is used up. */
  slot: number | null
  next: number
  /** Ids below this (in `slot`) may have been handed out: persisted before handing them out. */
  upTo: number
  /** Slots whose range this sequence has used up (or that this node lost). */
  done: number[]
}

/** Bound on slot changes within one draw (each either draws or marks a slot done). */
const MAX_STEPS = 8

export class SerialSequences {
  private readonly positions = new Map<string, Position>()

  private readonly host: SlotHost
  private readonly slots: IdSlots

  constructor(
    host: SlotHost,
    slots: IdSlots,
  ) {
    this.host = host
    this.slots = slots
  }

  static sequenceName(ref: Pick<SequenceRef, 'table' | 'column'>): string {
    return `${ref.table}_${ref.column}_seq`
  }

  private key(ref: SequenceRef): string {
    const [table, column] = ref.stored ?? [ref.table, ref.column]
    return `${table}\u0000${ref.incarnation}\u0000${column}\u0000${this.host.nodeId}`
  }

  private load(ref: SequenceRef, key: string): Position {
    let p = this.positions.get(key)
    if (p !== undefined) return p
    const stored = this.host.listCatalog(POSITION_KIND).find(([n]) => n === key)?.[1] as { slot?: unknown; upTo?: unknown; done?: unknown } | undefined
    const slot = typeof stored?.slot === 'number' ? stored.slot : null
    const upTo = typeof stored?.upTo === 'number' ? stored.upTo : 0
    const done = Array.isArray(stored?.done) ? stored.done.filter((x): x is number => typeof x === 'number') : []
    p = { slot, next: upTo, upTo, done }
    if (slot !== null && slotRange(slot, ref.type) === null) p.slot = null
    this.positions.set(key, p)
    return p
  }

  private persist(key: string, p: Position): void {
    this.host.writeCatalog(POSITION_KIND, key, { slot: p.slot, upTo: p.upTo, done: p.done } as Json)
  }

  /** The next id of a sequence for this node. */
  next(ref: SequenceRef): number {
    const key = this.key(ref)
    const p = this.load(ref, key)
    const fits = (s: number) => slotRange(s, ref.type) !== null
    this.slots.confirmPending()
    for (let step = 0; step < MAX_STEPS; step++) {
      const usable = this.slots.usable()
      const range = p.slot === null ? null : slotRange(p.slot, ref.type)
      if (range !== null && usable.includes(p.slot!)) {
        const id = Math.max(p.next, range.first)
        if (id <= range.last) {
          p.next = id + 1
          if (id >= p.upTo) {
            p.upTo = Math.min(id + persistStep(ref.type), range.last + 1)
            this.persist(key, p)
          }
          this.keepSpare(p, ref, range, usable)
          return id
        }
      }
      if (p.slot !== null) {
        p.done.push(p.slot)
        p.slot = null
      }
      const nextSlot = usable.find((s) => fits(s) && !p.done.includes(s))
      if (nextSlot !== undefined) {
        p.slot = nextSlot
        p.next = slotRange(nextSlot, ref.type)!.first
        p.upTo = p.next
        continue
      }
      if (this.slots.pending().some(fits)) throw this.notYet(ref)
      if (this.slots.claim(fits) === null) throw this.exhausted(ref)
      // Claimed alone: confirmed at once and usable on the next step. Otherwise it waits.
      if (this.slots.hasPeers()) throw this.notYet(ref)
    }
    throw this.exhausted(ref)
  }

  /** Claims a slot ahead once the current range is half used, so a cut-off node keeps drawing. */
  private keepSpare(p: Position, ref: SequenceRef, range: { first: number; last: number }, usable: number[]): void {
    if (p.next - range.first < (range.last - range.first) / 2) return
    const fits = (s: number) => slotRange(s, ref.type) !== null
    if (usable.some((s) => s !== p.slot && fits(s) && !p.done.includes(s)) || this.slots.pending().some(fits)) return
    // Alone, a claim is confirmed at once: no need to hold one ahead.
    if (this.slots.hasPeers()) this.slots.claim(fits)
  }

  private exhausted(ref: SequenceRef): SqlError {
    return new SqlError(SqlState.sequenceGeneratorLimitExceeded, `nextval: reached maximum value of sequence "${SerialSequences.sequenceName(ref)}" (${SERIAL_MAX[ref.type]})`, {
      detail: 'Every id range of the column\'s type is held by a node, and this node has used up its own.',
    })
  }

  private notYet(ref: SequenceRef): SqlError {
    return new IdRangePending(SqlState.objectNotInPrerequisiteState, `sequence "${SerialSequences.sequenceName(ref)}" has no id range on this node yet`, {
      detail: 'This node claimed a new id range; it draws from it once every live member has reported holding the claim.',
      hint: 'Retry once this node is connected to the other members.',
    })
  }
}
