import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows, code } = useOneNodeDb()

// Found by comparing random expressions with PostgreSQL 15; every expected answer below is PostgreSQL's.
describe('scalar functions agree with PostgreSQL where they gave other answers or were missing', () => {
  it('age() of an earlier timestamp than the second is the positive age with every field negated (it mixed signs)', async () => {
    const ages = await rows(`SELECT age(timestamp '2000-02-27 02:00', timestamp '2021-03-14 01:59:59')::text,
      age(timestamp '2021-03-14 01:59:59', timestamp '2000-02-27 02:00')::text,
      age(timestamp '2020-02-29', timestamp '2020-03-31')::text, age(timestamp '2020-03-31', timestamp '2020-02-29')::text,
      age(timestamp '2000-12-31 12:00:00.5', timestamp '2001-01-31 10:00')::text,
      age(timestamp '0044-03-15 BC', timestamp '2000-01-01')::text, age(date '2020-01-01', date '2020-01-01')::text`)
    expect(ages).toEqual([[
      '-21 years -15 days -23:59:59', '21 years 15 days 23:59:59', '-1 mons -2 days', '1 mon 2 days',
      '-30 days -21:59:59.5', '-2042 years -9 mons -17 days', '00:00:00',
    ]])
  })

  it('replace() with an empty search string returns the text unchanged (it put the replacement between every character)', async () => {
    expect(await rows(`SELECT replace('abc', '', 'Q'), replace('', '', 'x'), replace('aaa', 'a', ''), replace('abcabc', 'bc', 'X')`)).toEqual([['abc', '', '', 'aXaX']])
  })

  it('bit_length of text and character(n) counts bits of the UTF-8 bytes (42883 before)', async () => {
    expect(await rows(`SELECT bit_length('abc'), bit_length('ß'::char(3)), bit_length(''::text), bit_length(NULL::text)`)).toEqual([[24, 32, 0, null]])
  })

  it('the inverse and hyperbolic trigonometric functions, with their domains (42883 before)', async () => {
    const [r] = await rows(`SELECT asin(0.5), acos(-1), atan(1), atan2(0, -1), atan2(-0.5::float8, 1), cot(1), sinh(1), cosh(1), tanh(0.5),
      asinh(2), acosh(2), atanh(0.5), atanh(1), cot(0), sinh(1000), asin('NaN')::text`)
    expect(r).toEqual([
      0.5235987755982989, Math.PI, 0.7853981633974483, Math.PI, -0.4636476090008061, 0.6420926159343306, 1.1752011936438014, 1.5430806348152437,
      0.46211715726000974, 1.4436354751788103, 1.3169578969248166, 0.5493061443340548, Infinity, Infinity, Infinity, 'NaN',
    ])
    for (const sql of ['SELECT asin(2)', 'SELECT acos(-1.5)', 'SELECT acosh(0.5)', 'SELECT atanh(-1.5)', "SELECT cot('Infinity')"]) expect(await code(sql), sql).toBe('22003')
  })

  it('upper, lower and initcap map each character to one, as PostgreSQL in a UTF-8 locale (upper(\'ß\') was SS)', async () => {
    expect(await rows(`SELECT upper('ß café ǆ ﬁ'), lower('ÀÉ İ ß'), initcap('élan ßx hello-world o''neil 3abc'), upper('abc'), lower('ABC'), initcap('hi THERE')`))
      .toEqual([['ß CAFÉ Ǆ ﬁ', 'àé i ß', "Élan ßx Hello-World O'Neil 3abc", 'ABC', 'abc', 'Hi There']])
  })

  it('a jsonb scalar answers -> 0 and -> -1 with itself (NULL before); json and other indexes stay NULL', async () => {
    expect(await rows(`SELECT '"s"'::jsonb -> 0, '"s"'::jsonb -> -1, '"s"'::jsonb -> 1, '5'::jsonb ->> 0, '"s"'::json -> 0, '{"a":1}'::jsonb -> 0,
      'null'::jsonb -> 0, 'null'::jsonb ->> 0, '[1,2]'::jsonb -> -1`)).toEqual([['"s"', '"s"', null, '5', null, null, 'null', null, '2']])
  })

  it('num_nulls and num_nonnulls count their arguments, or a VARIADIC array\'s elements (42883 before)', async () => {
    expect(await rows(`SELECT num_nulls(1, null, 'a', null::int), num_nonnulls(1, null, 'a'), num_nulls(variadic array[1, null, 3]),
      num_nonnulls(variadic null::int[]), num_nulls(null)`)).toEqual([[2, 2, 1, null, 1]])
    expect(await code('SELECT num_nulls()')).toBe('42883')
  })

  it('overlay(.. PLACING .. FROM .. [FOR ..]) on text and bytea (42883 before)', async () => {
    expect(await rows(`SELECT overlay('abcdef' placing 'XY' from 2 for 3), overlay('abcdef' placing 'XY' from 2), overlay('abc' placing 'XY' from 5 for 1),
      overlay('é€b' placing 'Z' from 2 for 1), overlay('abc' placing 'X' from 1 for -1), encode(overlay('\\x0102'::bytea placing '\\xff'::bytea from 2), 'hex'),
      overlay('abc' placing 'X' from 2 for 100)`)).toEqual([['aXYef', 'aXYdef', 'abcXY', 'éZb', 'Xabc', '01ff', 'aX']])
    expect(await code(`SELECT overlay('abc' placing 'X' from 0)`)).toBe('22011')
  })

  it('text input: bool takes every unique prefix (\'of\' was refused), integers an underscore only between digits (\'1__0\' was 10)', async () => {
    expect(await rows(`SELECT 'of'::bool, 'OFF'::bool, 'tr'::bool, 'ye'::bool, ' n '::bool, '1_000'::int2, '-1_000_000'::int4, '9_223_372_036_854_775_807'::int8`))
      .toEqual([[false, false, true, true, false, 1000, -1000000, '9223372036854775807']])
    for (const sql of [`SELECT 'o'::bool`, `SELECT 'onn'::bool`, `SELECT '1__0'::int4`, `SELECT '_1'::int4`, `SELECT '1_'::int8`, `SELECT '1_000'::int2 + '_5'::int2`]) {
      expect(await code(sql), sql).toBe('22P02')
    }
  })

  it('round, trunc, ceil, floor and sign of an integer are double precision, as PostgreSQL resolves them (numeric before: round(7) / 2 was 3.5000000000000000)', async () => {
    expect(await rows(`SELECT pg_typeof(round(2))::text, pg_typeof(sign(2::int8))::text, pg_typeof(sign(2.5))::text, (round(7) / 2)::text, (floor(-7) / 4)::text, (sign(-3) * 0.1)::text`))
      .toEqual([['double precision', 'double precision', 'numeric', '3.5', '-1.75', '-0.1']])
  })

  it('BETWEEN skips its upper bound once the lower one fails, as PostgreSQL\'s AND (an overflow there failed the row)', async () => {
    expect(await rows(`SELECT x FROM (VALUES (2, 9223372036854775807::int8), (-5, -2::int8)) v(x, big) WHERE -2 BETWEEN x AND x * big`)).toEqual([[-5]])
  })

  it('quote_ident and format(%I) quote PostgreSQL\'s keywords (\'true\' and \'select\' came back bare)', async () => {
    expect(await rows(`SELECT quote_ident('true'), quote_ident('select'), quote_ident('user'), quote_ident('name'), quote_ident('abc'), quote_ident('Abc'), format('%I.%I', 'public', 'order')`))
      .toEqual([['"true"', '"select"', '"user"', 'name', 'abc', '"Abc"', 'public."order"']])
    expect(await rows(`SELECT quote_nullable(NULL), quote_nullable('it''s'), quote_nullable(42), quote_nullable(date '2020-01-02')`)).toEqual([['NULL', "'it''s'", "'42'", "'2020-01-02'"]])
  })

  it('a strict operator or function evaluates every argument before answering NULL, so an error beside a NULL is raised (it was skipped)', async () => {
    for (const sql of [
      'SELECT x FROM (VALUES (NULL::int, 0)) v(x, z) WHERE x < 1/z',
      "SELECT replace(x::text, 'a', (1/z)::text) FROM (VALUES (NULL::int, 0)) v(x, z)",
      'SELECT x + 1/z FROM (VALUES (NULL::int, 0)) v(x, z)',
    ]) expect(await code(sql), sql).toBe('22012')
  })

  it('jsonb refuses a string or key holding \\u0000, and json refuses it when made text (22P05; a NUL reached the client before)', async () => {
    for (const sql of [`SELECT '"\\u0000"'::jsonb`, `SELECT '{"a\\u0000": 1}'::jsonb`, `SELECT '["a\\u0000"]'::json::jsonb`, `SELECT '["a\\u0000"]'::json ->> 0`]) {
      expect(await code(sql), sql).toBe('22P05')
    }
    expect(await rows(`SELECT '"\\u0000"'::json, '"a\\\\u0000"'::jsonb, '["a\\u0001"]'::jsonb ->> 0 = E'a\\x01'`)).toEqual([['"\\u0000"', '"a\\\\u0000"', true]])
  })
})

