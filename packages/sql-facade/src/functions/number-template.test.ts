import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows, code } = useOneNodeDb()

// Every expected answer below is PostgreSQL 15's.
describe('to_char(number) lays a value out by the template as PostgreSQL does', () => {
  it('places signs (PR brackets, S before or after the digits), drops zeros in FM and prints EEEE', async () => {
    expect(await rows(`SELECT to_char(v, '9999999999999999.999999999999999PR'), to_char(v, 'FM9999999999999999.999999999999999THPR'),
      to_char(v, 'S 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 . 9 9 9'), to_char(v, '9.999EEEE'), to_char(v, 'FM0999999999.990')
      FROM (VALUES (0::numeric), (-34338492.215397047), (4.31)) t(v)`)).toEqual([
      ['                 .000000000000000 ', '0.', '                                 +. 0 0 0', ' 0.000e+00', '0000000000.000'],
      ['        <34338492.215397047000000>', '<34338492.215397047>', '                 -3 4 3 3 8 4 9 2 . 2 1 5', '-3.434e+07', '-0034338492.215'],
      ['                4.310000000000000 ', '4.31', '                               +4 . 3 1 0', ' 4.310e+00', '0000000004.310'],
    ])
  })

  it('prints ordinal suffixes, roman numerals and V-scaled integers', async () => {
    expect(await rows(`SELECT to_char(q, 'FM9999999999999999THPR'), to_char(q, 'SG9999999999999999th'), to_char(q, '9999999999999999S'),
      to_char(q, 'RN'), to_char(q, '999V99') FROM (VALUES (123::int8), (11), (22)) t(q)`)).toEqual([
      ['123RD', '+             123rd', '             123+', '         CXXIII', ' 12300'],
      ['11TH', '+              11th', '              11+', '             XI', '  1100'],
      ['22ND', '+              22nd', '              22+', '           XXII', '  2200'],
    ])
    expect(await rows(`SELECT to_char(-4567890123456789::int8, 'FM9999999999999999THPR'), to_char(-4567890123456789::int8, '9999999999999999S')`))
      .toEqual([['<4567890123456789>', '4567890123456789-']])
    expect(await code(`SELECT to_char(-4567890123456789::int8, 'RN')`)).toBe('22003')
  })

  it('reads quotes and backslashes in the template, and keeps 15 (real: 6) significant digits of a float', async () => {
    expect(await rows(`SELECT to_char('100'::numeric, 'f\\"oo999'), to_char('100'::numeric, 'f"ool\\"999'),
      to_char('12345678901'::float8, 'FM9999999999D9999900000000000000000'), to_char('inf'::float4, 'MI99.99')`))
      .toEqual([['f"oo 100', 'fool"999', '##########.####', ' ##.']])
  })

  it('refuses templates PostgreSQL refuses', async () => {
    expect(await code(`SELECT to_char(12, '9.9.9')`)).toBe('42601')
    expect(await code(`SELECT to_char(12, 'S99PR')`)).toBe('42601')
  })
})

describe('to_number reads a number by the template', () => {
  it('reads group separators, brackets, leading and trailing signs, currency and ordinal suffixes', async () => {
    expect(await rows(`SELECT to_number('-34,338,492.654,878', '99G999G999D999G999'), to_number('<564646.654564>', '999999.999999PR'),
      to_number('.-01', 'S99.99'), to_number('$1,234.56','L99,999.99'), to_number('42nd', '99th'), to_number('123', '999V9')`))
      .toEqual([['-34338492.654878', '-564646.654564', '-0.01', '1234.56', '42', '12.3000000000000000']])
  })

  it('refuses roman numerals on input (0A000)', async () => {
    expect(await code(`SELECT to_number('1', 'RN')`)).toBe('0A000')
  })
})

describe('NUMERIC typmods with a negative scale or a scale past the precision (PostgreSQL 15)', () => {
  it('round to tens .. and check the value against 10^(precision - scale)', async () => {
    await rows('CREATE TABLE num_typmods (millions numeric(3, -6), thousandths numeric(3, 3), millionths numeric(3, 6))')
    await rows('INSERT INTO num_typmods VALUES (123456789, 0.123456, 0.000123456)')
    expect(await rows('SELECT * FROM num_typmods')).toEqual([['123000000', '0.123', '0.000123']])
    expect(await code('INSERT INTO num_typmods (millions) VALUES (999500000)')).toBe('22003')
    expect(await code('INSERT INTO num_typmods (millionths) VALUES (0.0009995)')).toBe('22003')
    expect(await rows(`SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'num_typmods'::regclass AND attnum > 0 ORDER BY attnum`))
      .toEqual([['numeric(3,-6)'], ['numeric(3,3)'], ['numeric(3,6)']])
    expect(await code('SELECT 1::numeric(3, 1001)')).toBe('22023')
  })

  it('a double exactly halfway between two outputs rounds to the even one, as C\'s printf (2.5 printed 3)', async () => {
    expect(await rows(`SELECT to_char(x, '999'), to_char(x, 'FM990.0'), to_char(-x, '999') FROM (VALUES (1, 2.5::float8), (2, 3.5), (3, 0.25), (4, 12345.5)) v(i, x) ORDER BY i`))
      .toEqual([['   2', '2.5', '  -2'], ['   4', '3.5', '  -4'], ['   0', '0.2', '  -0'], [' ###', '###.#', '-###']])
  })

  it('RN rounds a double half to even, prints # past 1..3999 for every int4, and refuses NaN as PostgreSQL (3.5 was IV, 2.5 III; -2147483648 failed)', async () => {
    expect(await rows(`SELECT to_char(x, 'RN') FROM (VALUES (1, 2.5::float8), (2, 3.5), (3, 3999.4), (4, 4000)) v(i, x) ORDER BY i`))
      .toEqual([['             II'], ['             IV'], ['      MMMCMXCIX'], ['###############']])
    expect(await rows(`SELECT to_char(2.5::numeric, 'RN'), to_char(-2147483648, 'RN'), to_char(2147483647, 'FMRN')`)).toEqual([['            III', '###############', '###############']])
    expect(await code(`SELECT to_char('NaN'::numeric, 'RN')`)).toBe('0A000')
  })
})

