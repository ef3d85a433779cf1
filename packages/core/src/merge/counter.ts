/**
 * Counter arithmetic: a counter column's value is the sum of every writer's contribution.
 * Values are numbers or, once any side is a bigint, bigints (BIGINT columns); anything
 * else counts as zero. Non-integral numbers mixed with bigints are truncated.
 *
 * The rule: each writer's entry holds its own running contribution, so concurrent
 * increments all add up. Setting a counter sets the total: the writer's contribution
 * becomes the target minus what the others contribute (`subtractCounter`).
 */
import type { Value } from '../types.js'

function toBig(v: Value): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v))
  return 0n
}

export function addCounter(a: Value, b: Value): number | bigint {
  if (typeof a === 'bigint' || typeof b === 'bigint') return toBig(a) + toBig(b)
  return (typeof a === 'number' ? a : 0) + (typeof b === 'number' ? b : 0)
}

export function subtractCounter(a: Value, b: Value): number | bigint {
  if (typeof a === 'bigint' || typeof b === 'bigint') return toBig(a) - toBig(b)
  return (typeof a === 'number' ? a : 0) - (typeof b === 'number' ? b : 0)
}

/** A counter column's value: every writer's contribution added up; null when nobody wrote one. */
export function sumCounter(entries: ReadonlyArray<readonly [string, { cols: ReadonlyMap<string, { value: Value }> }]>, skey: string): Value {
  let sum: number | bigint = 0
  let any = false
  for (const [, e] of entries) {
    const w = e.cols.get(skey)
    if (w === undefined || w.value === null) continue
    any = true
    sum = addCounter(sum, w.value)
  }
  return any ? sum : null
}
