/**
 * PostgreSQL's hash-partition routing, so a row lands in the same partition number as in
 * PostgreSQL: each non-null key column is hashed by its type's extended hash function
 * with the seed HASH_PARTITION_SEED, the 64-bit hashes are folded with hash_combine64
 * (partbounds.c compute_partition_hash_value), and the row belongs to the partition whose
 * remainder is `hash mod modulus` (satisfies_hash_partition). The per-type functions:
 *   int2, int4, date            hash_uint32_extended(value)       (hashint4extended)
 *   int8, timestamp[tz], time   hash_uint32_extended(lo ^ hi')    (hashint8extended)
 *   bool                        hash_uint32_extended(0 or 1)      (hashcharextended)
 *   text, varchar, bpchar, name hash_bytes_extended(UTF-8 bytes)  (hashtextextended, C collation)
 *   uuid                        hash_bytes_extended(16 bytes)     (uuid_hash_extended)
 * The 32-bit arithmetic is Bob Jenkins' lookup3 (mix/final), as in common/hashfn.c;
 * little-endian word order, which is what PostgreSQL computes on x86 and ARM.
 * Other key types have no PostgreSQL-compatible hash here and return null.
 */
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

export const HASH_PARTITION_SEED = 0x7a5b22367996dcfdn
const MASK64 = (1n << 64n) - 1n
const PG_EPOCH_DAYS = 10957
const PG_EPOCH_MICROS = 946_684_800_000_000n

function rot(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** lookup3's mix() on a three-word state, in place. */
function mix(s: Uint32Array): void {
  let a = s[0]!, b = s[1]!, c = s[2]!
  a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0
  b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0
  c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0
  a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0
  b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0
  c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0
  s[0] = a; s[1] = b; s[2] = c
}

/** lookup3's final(). */
function final(s: Uint32Array): void {
  let a = s[0]!, b = s[1]!, c = s[2]!
  c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0
  a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0
  b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0
  c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0
  a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0
  b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0
  c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0
  s[0] = a; s[1] = b; s[2] = c
}

function seeded(initial: number, seed: bigint): Uint32Array {
  const s = new Uint32Array([initial, initial, initial])
  if (seed !== 0n) {
    s[0] = (s[0]! + Number((seed >> 32n) & 0xffffffffn)) >>> 0
    s[1] = (s[1]! + Number(seed & 0xffffffffn)) >>> 0
    mix(s)
  }
  return s
}

function result64(s: Uint32Array): bigint {
  return (BigInt(s[1]!) << 32n) | BigInt(s[2]!)
}

/** hash_bytes_uint32_extended: one 32-bit word. */
export function hashUint32Extended(k: number, seed: bigint): bigint {
  const s = seeded((0x9e3779b9 + 4 + 3923095) >>> 0, seed)
  s[0] = (s[0]! + (k >>> 0)) >>> 0
  final(s)
  return result64(s)
}

/** hash_bytes_extended: a byte string. */
export function hashBytesExtended(k: Uint8Array, seed: bigint): bigint {
  let len = k.length
  const s = seeded((0x9e3779b9 + len + 3923095) >>> 0, seed)
  const word = (i: number) => (k[i]! | (k[i + 1]! << 8) | (k[i + 2]! << 16) | (k[i + 3]! << 24)) >>> 0
  let i = 0
  while (len >= 12) {
    s[0] = (s[0]! + word(i)) >>> 0
    s[1] = (s[1]! + word(i + 4)) >>> 0
    s[2] = (s[2]! + word(i + 8)) >>> 0
    mix(s)
    i += 12
    len -= 12
  }
  // The last 11 bytes; the lowest byte of c is reserved for the length.
  if (len >= 11) s[2] = (s[2]! + (k[i + 10]! << 24)) >>> 0
  if (len >= 10) s[2] = (s[2]! + (k[i + 9]! << 16)) >>> 0
  if (len >= 9) s[2] = (s[2]! + (k[i + 8]! << 8)) >>> 0
  if (len >= 8) s[1] = (s[1]! + (k[i + 7]! << 24)) >>> 0
  if (len >= 7) s[1] = (s[1]! + (k[i + 6]! << 16)) >>> 0
  if (len >= 6) s[1] = (s[1]! + (k[i + 5]! << 8)) >>> 0
  if (len >= 5) s[1] = (s[1]! + k[i + 4]!) >>> 0
  if (len >= 4) s[0] = (s[0]! + (k[i + 3]! << 24)) >>> 0
  if (len >= 3) s[0] = (s[0]! + (k[i + 2]! << 16)) >>> 0
  if (len >= 2) s[0] = (s[0]! + (k[i + 1]! << 8)) >>> 0
  if (len >= 1) s[0] = (s[0]! + k[i]!) >>> 0
  final(s)
  return result64(s)
}

/** hashint8extended: fold the high half into the low half (complemented for negatives). */
export function hashInt8Extended(v: bigint, seed: bigint): bigint {
  const u = BigInt.asUintN(64, v)
  const lo = Number(u & 0xffffffffn)
  const hi = Number(u >> 32n)
  return hashUint32Extended((lo ^ (v >= 0n ? hi : ~hi)) >>> 0, seed)
}

export function hashCombine64(a: bigint, b: bigint): bigint {
  return (a ^ ((b + 0x49a0f4dd15e5a8e3n + ((a << 54n) & MASK64) + (a >> 7n)) & MASK64)) & MASK64
}

const utf8 = new TextEncoder()

function uuidBytes(s: string): Uint8Array {
  const hex = s.replace(/-/g, '')
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

/** The type's extended hash of one non-null value, or null when PostgreSQL's is not implemented. */
export function pgHashExtended(v: RtValue, t: SqlType, seed: bigint): bigint | null {
  if (t.array) return null
  switch (t.id) {
    case 'int2': case 'int4':
      return typeof v === 'number' && Number.isInteger(v) ? hashUint32Extended(v | 0, seed) : null
    case 'date':
      // PostgreSQL counts days from 2000-01-01.
      return typeof v === 'number' && Number.isInteger(v) ? hashUint32Extended((v - PG_EPOCH_DAYS) | 0, seed) : null
    case 'int8': case 'time':
      if (typeof v === 'bigint') return hashInt8Extended(v, seed)
      return typeof v === 'number' && Number.isSafeInteger(v) ? hashInt8Extended(BigInt(v), seed) : null
    case 'timestamp': case 'timestamptz':
      // PostgreSQL counts microseconds from 2000-01-01 00:00:00.
      return typeof v === 'number' && Number.isSafeInteger(v) ? hashInt8Extended(BigInt(v) - PG_EPOCH_MICROS, seed) : null
    case 'bool':
      return hashUint32Extended(v ? 1 : 0, seed)
    case 'text': case 'varchar': case 'name':
      return typeof v === 'string' ? hashBytesExtended(utf8.encode(v), seed) : null
    case 'bpchar':
      // bpchar hashes without its trailing blanks (hashbpcharextended).
      return typeof v === 'string' ? hashBytesExtended(utf8.encode(v.replace(/ +$/, '')), seed) : null
    case 'uuid':
      return typeof v === 'string' ? hashBytesExtended(uuidBytes(v), seed) : null
  }
  return null
}

/**
 * compute_partition_hash_value: the row hash of a partition key (nulls are skipped), or
 * null when a key column's type has no PostgreSQL-compatible hash here.
 */
export function partitionHash(values: RtValue[], types: SqlType[]): bigint | null {
  let row = 0n
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (v === null) continue
    const h = pgHashExtended(v, types[i]!, HASH_PARTITION_SEED)
    if (h === null) return null
    row = hashCombine64(row, h)
  }
  return row
}
