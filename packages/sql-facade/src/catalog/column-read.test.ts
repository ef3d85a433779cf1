import { describe, expect, it } from 'vitest'
import type { Value } from '@concord/core'
import { columnReader, decodeColumns, readColumn } from './column-read.js'
import { T, arrayOf, type SqlType } from '../types/sql-type.js'
import { encodeValue } from '../types/storage-codec.js'
import { Decimal } from '../types/decimal.js'
import type { ColumnBinding } from '../relation/scope.js'

/**
 * A scan reads each column through `columnReader` (plan/table-scan.ts): its fast paths must
 * read every stored value exactly as `readColumn` does, including values written under
 * another definition (after a DDL merge) and NULLs of NOT NULL columns with a fill.
 */
describe('columnReader', () => {
  const stored: Array<Value | undefined> = [
    undefined, null, 0, -0, 1, 2.5, NaN, 2 ** 40, 12n, -(2n ** 63n), true, false, '', 'abc', '5', '2.5', 't', '2026-11-30',
    encodeValue(Decimal.parse('12.50')), encodeValue(Decimal.parse('7')), '\u0000x', '\u0000',
  ]
  const types: SqlType[] = [T.int2, T.int4, T.int8, T.float4, T.float8, T.bool, T.text, T.varchar, T.name, T.uuid, T.json, T.jsonb,
    T.date, T.time, T.timestamp, T.timestamptz, T.numeric, T.interval, T.bytea, arrayOf(T.int4), arrayOf(T.text)]

  it('reads every representation as readColumn does, for every type, with and without a fill', () => {
    for (const type of types) {
      for (const fill of [undefined, 7, 'dflt']) {
        const c: ColumnBinding = { name: 'c', table: 't', type, ...(fill !== undefined ? { fill } : {}) }
        const fast = columnReader(c)
        for (const v of stored) {
          let want: unknown
          let got: unknown
          try {
            want = readColumn(v, c)
          } catch (e) {
            want = { threw: (e as Error).message }
          }
          try {
            got = fast(v)
          } catch (e) {
            got = { threw: (e as Error).message }
          }
          expect([type.id, type.array ?? false, fill, v, got]).toEqual([type.id, type.array ?? false, fill, v, want])
        }
      }
    }
  })

  it('decodes some columns and leaves the others NULL', () => {
    const cols: ColumnBinding[] = [{ name: 'a', table: 't', type: T.int4 }, { name: 'b', table: 't', type: T.text }, { name: 'c', table: 't', type: T.int8, fill: 3n }]
    const readers = cols.map(columnReader)
    const row = { a: 1, b: 'x', c: null }
    expect(decodeColumns(row, cols, readers, null)).toEqual([1, 'x', 3n])
    expect(decodeColumns(row, cols, readers, [2])).toEqual([null, null, 3n])
    expect(decodeColumns(row, cols, readers, [])).toEqual([null, null, null])
  })
})
