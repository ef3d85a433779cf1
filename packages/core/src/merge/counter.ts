/**
 * Counter arithmetic: a counter column's value is the sum of every writer's contribution.
 * Values are numbers or, once any side is a bigint, bigints (BIGINT columns); anything
 * else counts as zero. Non-integral numbers mixed with bigints are truncated.
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
