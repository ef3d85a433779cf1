import { describe, expect, it } from 'vitest'
import { toTextResult } from './concord-target.js'
import { floatText, jsonbText, pgText } from './pg-text.js'

describe('PostgreSQL text output of JS values', () => {
  it('prints float8 as PostgreSQL 12+ does (shortest exact, exponent past 15 digits)', () => {
    const cases: Array<[number, string]> = [
      [1.5, '1.5'],
      [0.1, '0.1'],
      [0.1 + 0.2, '0.30000000000000004'],
      [1e10, '10000000000'],
      [1e15, '1e+15'],
      [1e16, '1e+16'],
      [123456789012345, '123456789012345'],
      [100000000000000.5, '100000000000000.5'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [1e300 * 10, '1e+301'],
      [-2.5, '-2.5'],
      [-0, '-0'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
      [NaN, 'NaN'],
    ]
    for (const [n, s] of cases) expect(floatText(n, 'float8'), String(n)).toBe(s)
  })

  it('prints float4 with float4 precision', () => {
    expect(floatText(Math.fround(0.1), 'float4')).toBe('0.1')
    expect(floatText(123456789, 'float4')).toBe('1.2345679e+08')
    expect(floatText(Math.fround(3.14159265358979), 'float4')).toBe('3.1415927')
    expect(floatText(1e10, 'float4')).toBe('1e+10')
  })

  it('prints jsonb with sorted keys and spaces', () => {
    expect(jsonbText({ b: 1, a: [1, 2, { c: null }], aa: 'x' })).toBe('{"a": [1, 2, {"c": null}], "b": 1, "aa": "x"}')
  })

  it('prints the other types by column type', () => {
    expect(pgText(true)).toBe('t')
    expect(pgText(null)).toBeNull()
    expect(pgText(12n, 'int8')).toBe('12')
    expect(pgText(3, 'float8')).toBe('3')
    expect(pgText(new Date(Date.UTC(2024, 1, 28, 13, 45, 30, 500)), 'timestamptz')).toBe('2024-02-28 13:45:30.5+00')
    expect(pgText(new Date(Date.UTC(2024, 1, 28)), 'date')).toBe('2024-02-28')
    expect(pgText([1, null, 'a b'], '_text')).toBe('{1,NULL,"a b"}')
    expect(pgText('12.50', 'numeric')).toBe('12.50')
  })

  it('maps object rows by field name and array rows by position', () => {
    const fields = [{ name: 'a', type: 'int4' }, { name: 'b', type: 'bool' }]
    expect(toTextResult({ fields, rows: [{ a: 1, b: false }], rowCount: 1 }).rows).toEqual([['1', 'f']])
    expect(toTextResult({ fields, rows: [[2, null]] }).rows).toEqual([['2', null]])
  })
})
