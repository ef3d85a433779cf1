/**
 * Runtime representation of SQL values inside the executor, by type:
 * bool boolean · int2/int4/float4/float8/oid number · int8 bigint · numeric Decimal ·
 * text-like, uuid, json, jsonb, unknown string · bytea Uint8Array · date number (days) ·
 * time number (micros of day) · timestamp[tz] number (epoch micros) · interval Interval ·
 * money bigint (cents) · timetz bigint (timetz.ts) · point .. circle string (geometry.ts) ·
 * inet, cidr string (inet.ts) · arrays SqlArray (of any element type, any number of
 * dimensions). SQL NULL is null.
 */
import type { SqlArray } from './array.js'
import type { ScalarValue } from './scalar-value.js'

export type RtValue = ScalarValue | SqlArray
