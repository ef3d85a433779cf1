/**
 * Content hash and equality of materialized rows. The shard keeps the sum of its rows'
 * hashes (order-independent) so anti-entropy can compare rows between replicas that hold
 * the same Yjs state (see ShardDigest.rows).
 */
import type { Row } from '../types.js'

/**
 * FNV-1a over a row's key and its values, each tagged with its type: each string, and
 * each value as `type:text`, followed by 0xff. Replicas compare these sums, so the value
 * must never change; it is computed without building the tagged strings (every row of a
 * start or a catch-up is hashed).
 */
export function rowHash(key: string, row: Row): number {
  let h = end(chars(0x811c9dc5, key))
  for (const name in row) {
    h = end(chars(h, name))
    const v = row[name]!
    if (v === null) h = end(chars(h, '\u0000n'))
    else if (v instanceof Uint8Array) {
      h = Math.imul(h ^ 0x62, 0x01000193)
      for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v[i]!, 0x01000193)
    } else if (typeof v === 'number' && Number.isSafeInteger(v)) h = end(integerChars(Math.imul(chars(h, 'number') ^ 0x3a, 0x01000193), v))
    else h = end(chars(Math.imul(chars(h, typeof v) ^ 0x3a, 0x01000193), String(v)))
  }
  return h >>> 0
}

/** Digits of an integer, least significant first (a safe integer has at most 16). */
const DIGITS = new Uint8Array(16)

/** `chars(h, String(v))` for a safe integer `v`, without making the string (a row's integers, every row of a catch-up). */
function integerChars(h: number, v: number): number {
  if (v < 0) h = Math.imul(h ^ 45 /* - */, 0x01000193)
  let n = Math.abs(v)
  let count = 0
  do {
    DIGITS[count++] = n % 10
    n = Math.floor(n / 10)
  } while (n > 0)
  while (count > 0) h = Math.imul(h ^ (48 + DIGITS[--count]!), 0x01000193)
  return h
}

function chars(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h
}

function end(h: number): number {
  return Math.imul(h ^ 0xff, 0x01000193)
}

/** Whether two rows hold the same columns with the same values (bytes compared by content). */
export function sameRow(a: Row, b: Row): boolean {
  for (const k in b) {
    const x = a[k]
    const y = b[k]
    if (x === y) continue
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      if (x.length !== y.length || x.some((v, i) => v !== y[i])) return false
      continue
    }
    return false
  }
  for (const k in a) if (!(k in b)) return false
  return true
}
