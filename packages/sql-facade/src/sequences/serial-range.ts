/**
 * How the values of int2 and int4 SERIAL columns are split between nodes: the positive
 * range of the type is cut into equal id ranges, one per id slot, and a node draws ids
 * only from the ranges of slots it holds (id-slots.ts). Slot s of int4 covers
 * [s * 2^20, (s + 1) * 2^20 - 1] (slot 0 starts at 1), so 2048 slots cover exactly
 * 1 .. 2147483647; int2 has 32 slots of 1024 ids covering 1 .. 32767, and slots from 32
 * on have no int2 range. Pure arithmetic; a range never crosses the type's maximum.
 */
export type SerialType = 'int2' | 'int4'

/** Number of id slots; every int4 value belongs to exactly one. */
export const SLOT_COUNT = 2048

const RANGE_BITS: Record<SerialType, number> = { int4: 20, int2: 10 }
export const SERIAL_MAX: Record<SerialType, number> = { int4: 2147483647, int2: 32767 }

/** The ids slot `slot` gives a column of `type`, or null when the type has no range there. */
export function slotRange(slot: number, type: SerialType): { first: number; last: number } | null {
  const size = 2 ** RANGE_BITS[type]
  if (!Number.isInteger(slot) || slot < 0 || slot * size > SERIAL_MAX[type]) return null
  return { first: Math.max(1, slot * size), last: Math.min(SERIAL_MAX[type], (slot + 1) * size - 1) }
}

/** How many ids a node persists its position ahead (a restart skips at most this many). */
export function persistStep(type: SerialType): number {
  return type === 'int4' ? 1024 : 64
}
