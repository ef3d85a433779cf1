/**
 * Seeded random SQL for differential runs against PostgreSQL (random-differential.test.ts):
 * expressions over a table of edge values (NULLs, zero, extremes, empty text), queries of
 * many shapes over two related tables (joins, subqueries, set operations, grouping, window
 * functions, ordered-set aggregates), and DML sequences whose table contents are compared
 * after every statement.
 *
 * The same seed gives the same statements. The grammar leaves out what is known to differ
 * for reasons that are not bugs: floating-point library functions whose last digit differs
 * between libm and V8 (cbrt, sin, exp, ...), text case mapping of non-ASCII letters (the
 * PostgreSQL here runs the C locale, Concord a UTF-8 one: docs/compatibility.md), and the
 * order of rows a statement does not order (RETURNING rows are compared sorted).
 */

/** A small deterministic generator (a linear congruential one: enough for picking grammar rules). */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0 || 1
  }

  next(): number {
    this.state = (Math.imul(this.state, 1103515245) + 12345) & 0x7fffffff
    return this.state / 0x7fffffff
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }

  int(n: number): number {
    return Math.floor(this.next() * n)
  }
}

// ---- expressions ----------------------------------------------------------------------

export const EXPRESSION_SETUP = [
  'CREATE TABLE fz (id int PRIMARY KEY, a int, b int8, c numeric, d float8, e text, f bool, g date, h timestamp, i interval, j jsonb, k text[])',
  `INSERT INTO fz VALUES
   (1, 0, 0, 0, 0, '', false, '2000-01-01', '2000-01-01 00:00', '0', '{}', '{}'),
   (2, 1, 10, 1.5, 1.5, 'abc', true, '2020-02-29', '2020-02-29 12:34:56.789', '1 day 2 hours', '{"a":1}', '{a,b}'),
   (3, -7, -900000, -2.345, -0.001, 'Hello World', false, '1999-12-31', '1999-12-31 23:59:59', '-3 mons 4 days', '[1,2,3]', '{NULL,x}'),
   (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
   (5, 2147483647, 9223372036854775807, 123456789.123456789, 1e300, '  pad  ', true, '0001-01-01', '1970-01-01 00:00:01', '1 year', '"str"', '{}'),
   (6, -2147483648, -9223372036854775808, -0.5, 'NaN', 'x y z', false, '2024-12-31', '2024-06-15 08:00', '00:00:00.5', 'null', '{"a b",c}'),
   (7, 3, 3, 2.5, 2.5, 'x%y_z', NULL, '2001-02-03', '2001-02-03 04:05:06', '2 days', '{"a":{"b":[1,null]}}', '{1,2,3}'),
   (8, 42, -1, 0.0001, 'Infinity', 'ABC', true, '2010-10-10', '2010-10-10 10:10:10', '-1 sec', 'true', '{z}')`,
]

type ExprType = 'int' | 'num' | 'flt' | 'text' | 'bool' | 'date' | 'ts' | 'iv'
const EXPR_TYPES: readonly ExprType[] = ['int', 'num', 'flt', 'text', 'bool', 'date', 'ts', 'iv']

const LEAVES: Record<ExprType, readonly string[]> = {
  int: ['a', 'b', '3', '-2', '0', '7', 'id'],
  num: ['c', '1.25', '-0.5', '10.000', '0.1'],
  flt: ['d', '2.5::float8', "'-0'::float8", '1e-5::float8'],
  text: ['e', "'abc'", "'A'", "''", "'x%'", "'  y '", "'Ab_C'"],
  bool: ['f', 'true', 'false', 'null::bool'],
  date: ['g', "date '2020-01-31'", "date '1999-03-01'"],
  ts: ['h', "timestamp '2021-03-14 01:59:59'", "timestamp '2000-02-28 23:00'"],
  iv: ['i', "interval '1 month'", "interval '-2 days 03:00'", "interval '36 hours'"],
}

/** A random expression of type `t`, at most `depth` levels deep. */
export function expression(r: Rng, t: ExprType, depth: number): string {
  if (depth <= 0 || r.next() < 0.3) return r.pick(LEAVES[t])
  const e = (u: ExprType): string => expression(r, u, depth - 1)
  const rules: Record<ExprType, Array<() => string>> = {
    int: [
      () => `(${e('int')} ${r.pick(['+', '-', '*', '/', '%'])} ${e('int')})`, () => `abs(${e('int')})`, () => `length(${e('text')})`,
      () => `position(${e('text')} in ${e('text')})`, () => `coalesce(${e('int')}, ${e('int')})`, () => `nullif(${e('int')}, ${e('int')})`,
      () => `greatest(${e('int')}, ${e('int')})`, () => `least(${e('int')}, ${e('int')})`, () => `case when ${e('bool')} then ${e('int')} else ${e('int')} end`,
      () => `(${e('num')})::int`, () => `(${e('flt')})::int8`, () => `mod(${e('int')}, ${e('int')})`, () => `sign(${e('int')})`,
      () => `extract(${r.pick(['year', 'month', 'day', 'dow', 'doy', 'epoch', 'hour', 'week', 'isodow', 'quarter'])} from ${e('ts')})::int8`,
      () => `(${e('int')} ${r.pick(['&', '|', '#', '<<', '>>'])} ${r.pick(['1', '3', 'a'])})`, () => `char_length(${e('text')})`, () => `ascii(${e('text')})`,
      () => `width_bucket(${e('num')}, 0, 10, 4)`, () => `(${e('date')} - ${e('date')})`, () => `strpos(${e('text')}, ${e('text')})`,
      () => `array_length(k, 1)`, () => `cardinality(k)`, () => `bit_length(${e('text')})`, () => `gcd(${e('int')}, ${e('int')})`,
      () => `num_nonnulls(${e('int')}, ${e('text')}, null)`,
    ],
    num: [
      () => `(${e('num')} ${r.pick(['+', '-', '*', '/'])} ${e(r.pick(['num', 'int'] as const))})`, () => `round(${e('num')}, ${r.pick(['0', '1', '2', '-1'])})`,
      () => `trunc(${e('num')}, ${r.pick(['0', '1', '3'])})`, () => `abs(${e('num')})`, () => `floor(${e('num')})`, () => `ceil(${e('num')})`,
      () => `(${e('int')})::numeric`, () => `(${e('flt')})::numeric(20,4)`, () => `power(${e('num')}, 2)`, () => `mod(${e('num')}, ${e('num')})`,
      () => `scale(${e('num')})`, () => `div(${e('num')}, ${e('num')})`, () => `(${e('num')} % ${e('num')})`, () => `trim_scale(${e('num')})`,
    ],
    flt: [
      () => `(${e('flt')} ${r.pick(['+', '-', '*', '/'])} ${e(r.pick(['flt', 'int'] as const))})`, () => `round(${e('flt')})`, () => `trunc(${e('flt')})`,
      () => `(${e('num')})::float8`, () => `(${e('int')})::float4`, () => `abs(${e('flt')})`, () => `sqrt(abs(${e('flt')}))`,
    ],
    text: [
      () => `(${e('text')} || ${e(r.pick(['text', 'int', 'num'] as const))})`, () => `upper(${e('text')})`, () => `lower(${e('text')})`,
      () => `substr(${e('text')}, ${e('int')}, ${r.pick(['2', '0', '5'])})`, () => `replace(${e('text')}, ${e('text')}, 'Q')`, () => `trim(${e('text')})`,
      () => `ltrim(${e('text')}, 'a ')`, () => `lpad(${e('text')}, ${r.pick(['0', '3', '8'])}, '*')`, () => `rpad(${e('text')}, 4)`,
      () => `(${e(r.pick(['int', 'num', 'date', 'ts', 'iv', 'bool'] as const))})::text`, () => `concat(${e('text')}, ${e('int')}, null)`,
      () => `concat_ws('-', ${e('text')}, ${e('num')})`, () => `initcap(${e('text')})`, () => `reverse(${e('text')})`, () => `repeat(${e('text')}, ${r.pick(['0', '2'])})`,
      () => `left(${e('text')}, ${r.pick(['2', '-1', '0'])})`, () => `right(${e('text')}, ${r.pick(['2', '-1'])})`, () => `split_part(${e('text')}, ' ', ${r.pick(['1', '2', '-1'])})`,
      () => `translate(${e('text')}, 'abc', 'xy')`, () => `to_char(${e('num')}, ${r.pick(["'999.99'", "'FM9990.00'", "'S9999'", "'9,999'"])})`,
      () => `to_char(${e('ts')}, ${r.pick(["'YYYY-MM-DD HH24:MI'", "'Day DD Mon'", "'IYYY-IW'", "'FMMonth'"])})`, () => `md5(${e('text')})`,
      () => `quote_literal(${e('text')})`, () => `quote_ident(${e('text')})`, () => `format('%s|%L|%I', ${e('text')}, ${e('int')}, ${e('text')})`,
      () => `regexp_replace(${e('text')}, '[aeiou]', '#', 'g')`, () => `regexp_replace(${e('text')}, '[[:upper:]]+', '_')`, () => `(j ->> 'a')`,
      () => `(j #>> '{a,b}')`, () => `jsonb_typeof(j)`, () => `array_to_string(k, ',', '*')`, () => `k[1]`, () => `case ${e('int')} when 1 then 'one' when 0 then 'zero' end`,
      () => `to_hex(${e('int')})`, () => `date_trunc('${r.pick(['month', 'week', 'quarter', 'year', 'hour'])}', ${e('ts')})::text`,
      () => `overlay(${e('text')} placing 'XY' from ${r.pick(['1', '2', '4'])} for ${r.pick(['0', '1', '3'])})`, () => `(age(${e('ts')}, ${e('ts')}))::text`,
      () => `(j -> ${r.pick(['0', '-1', "'a'"])})::text`, () => `substring(${e('text')} similar '%#"b_#"%' escape '#')`,
    ],
    bool: [
      () => `(${e('int')} ${r.pick(['<', '>', '=', '<>', '<=', '>='])} ${e('int')})`, () => `(${e('text')} ${r.pick(['<', '=', '>='])} ${e('text')})`,
      () => `(${e('bool')} ${r.pick(['and', 'or'])} ${e('bool')})`, () => `(not ${e('bool')})`, () => `(${e('int')} is ${r.pick(['', 'not '])}null)`,
      () => `(${e('text')} ${r.pick(['like', 'ilike', 'not like'])} ${r.pick(["'%a%'", "'_b%'", "'A%'", "'x\\%%'", "''"])})`,
      () => `(${e('int')} between ${e('int')} and ${e('int')})`, () => `(${e('int')} in (1, 2, null))`, () => `(${e('int')} not in (1, 2))`,
      () => `(${e('num')} is distinct from ${e('num')})`, () => `(${e('bool')} is ${r.pick(['true', 'not false', 'unknown'])})`,
      () => `(${e('flt')} ${r.pick(['<', '=', '>'])} ${e('flt')})`, () => `(${e('date')} < ${e('ts')})`, () => `(${e('text')} ~ ${r.pick(["'^a'", "'[0-9]'", "'o W'", "'[[:space:]]'", "'\\mx'"])})`,
      () => `(${e('text')} ~* 'ABC')`, () => `(j ? 'a')`, () => `(j @> '{"a":1}')`, () => `(k @> '{a}')`, () => `(${e('text')} = any(k))`,
      () => `(${e('iv')} > interval '1 day')`, () => `(${e('text')} ${r.pick(['similar to', 'not similar to'])} ${r.pick(["'%(b|c)%'", "'[a-c]*'", "'_b%'", "'%#%%' escape '#'"])})`,
      () => `starts_with(${e('text')}, 'a')`, () => `(${e('int')} = all('{1,2}'::int[]))`, () => `jsonb_path_exists(coalesce(j, 'null'), '$.a')`,
    ],
    date: [
      () => `(${e('date')} + (${e('int')}::int4 % 1000))`, () => `(${e('date')} - 30)`, () => `(${e('ts')})::date`,
      () => `make_date(2020, ${r.pick(['1', '2', '12'])}, ${r.pick(['1', '28', '29'])})`, () => `(${e('date')} + ${e('iv')})::date`, () => `date_trunc('month', ${e('date')})::date`,
    ],
    ts: [
      () => `(${e('ts')} + ${e('iv')})`, () => `(${e('ts')} - ${e('iv')})`, () => `(${e('date')})::timestamp`, () => `(${e('date')} + time '10:30')`,
      () => `date_trunc('${r.pick(['day', 'month', 'hour', 'week', 'minute', 'year', 'decade', 'century'])}', ${e('ts')})`, () => `make_timestamp(2021, 2, 28, 23, 59, 59.5)`,
    ],
    iv: [
      () => `(${e('iv')} + ${e('iv')})`, () => `(${e('iv')} * ${r.pick(['2', '0.5', '-1', '1.1'])})`, () => `(${e('ts')} - ${e('ts')})`, () => `justify_interval(${e('iv')})`,
      () => `justify_hours(${e('iv')})`, () => `justify_days(${e('iv')})`, () => `age(${e('ts')}, ${e('ts')})`, () => `(${e('iv')} / ${r.pick(['2', '3', '0.7'])})`,
    ],
  }
  return r.pick(rules[t])()
}

/** A query over fz: expressions per row, aggregates per group, filters or orderings. */
export function expressionQuery(r: Rng): string {
  const t = r.pick(EXPR_TYPES)
  const e = expression(r, t, 1 + r.int(3))
  switch (r.int(4)) {
    case 0: {
      const numeric = t === 'int' || t === 'num' || t === 'flt'
      // An untyped literal is not an aggregate's argument here: PostgreSQL finds array_agg('a') ambiguous.
      const literal = e.startsWith("'")
      const agg = r.pick([`count(${e})`, `min(${e})`, `max(${e})`, `count(distinct ${e})`, `string_agg((${e})::text, ',' order by id)`,
        literal ? 'count(*)' : `array_agg(${e} order by id)`, numeric ? `sum(${e})` : 'count(*)', numeric ? `avg(${e})` : 'count(*)', t === 'bool' ? `bool_and(${e})` : 'count(*)',
        numeric && t !== 'flt' ? `percentile_disc(0.5) within group (order by ${e})` : 'count(*)'])
      return `SELECT (id % 3) AS g, ${agg} FROM fz GROUP BY 1 ORDER BY 1`
    }
    case 1:
      return `SELECT id FROM fz WHERE ${expression(r, 'bool', 2 + r.int(2))} ORDER BY id`
    default:
      return `SELECT id, ${e} FROM fz ORDER BY id`
  }
}

// ---- queries over two tables ------------------------------------------------------------

export const QUERY_SETUP = [
  'CREATE TABLE qa (id int PRIMARY KEY, x int, y text, z numeric)',
  'CREATE TABLE qb (id int PRIMARY KEY, a_id int, v int, w text)',
  "INSERT INTO qa VALUES (1, 1, 'a', 1.5), (2, 2, 'b', NULL), (3, NULL, 'a', 0), (4, 2, NULL, -2), (5, 5, 'c', 10), (6, 1, 'b', 1.5), (7, NULL, NULL, NULL)",
  "INSERT INTO qb VALUES (1, 1, 10, 'p'), (2, 1, 20, 'q'), (3, 2, NULL, 'p'), (4, 9, 5, NULL), (5, NULL, 7, 'r'), (6, 5, 10, 'q'), (7, 3, -1, 'p')",
]

function condition(r: Rng, alias: string, table: 'qa' | 'qb'): string {
  const intCol = r.pick(table === 'qa' ? ['x', 'id'] : ['a_id', 'v', 'id'])
  const col = r.pick(table === 'qa' ? ['x', 'y', 'z', 'id'] : ['a_id', 'v', 'w', 'id'])
  return r.pick([
    () => `${alias}.${intCol} ${r.pick(['=', '<', '>', '<>', '>='])} ${r.pick(['1', '2', '5', 'null'])}`,
    () => `${alias}.${col} is ${r.pick(['', 'not '])}null`,
    () => `${alias}.${intCol} in (${r.pick(['1, 2', '1, null', 'select a_id from qb', 'select x from qa where x > 1', 'select v from qb where v is not null'])})`,
    () => `${alias}.${intCol} not in (${r.pick(['1, 2', '1, null', 'select a_id from qb', 'select a_id from qb where a_id is not null', 'select x from qa where x > 1'])})`,
    () => `exists (select 1 from qb b2 where b2.a_id = ${alias}.id)`,
    () => `not exists (select 1 from qb b2 where b2.a_id = ${alias}.id and b2.v > 5)`,
    () => `${alias}.${intCol} > any (select v from qb)`,
    () => `${alias}.${intCol} >= all (select x from qa where x is not null)`,
    () => `coalesce(${alias}.${intCol}, 0) between 1 and 3`,
  ])()
}

/** A query over qa and qb whose result order is fully determined. */
export function tableQuery(r: Rng): string {
  return r.pick([
    () => `SELECT a.id, b.id FROM qa a ${r.pick(['JOIN', 'LEFT JOIN', 'RIGHT JOIN', 'FULL JOIN'])} qb b ON ${r.pick(['a.id = b.a_id', 'a.x = b.a_id', 'a.x = b.v / 10', 'a.id = b.a_id AND b.v > 5', 'true'])} ${r.pick(['', `WHERE ${condition(r, 'a', 'qa')}`])} ORDER BY 1, 2`,
    () => `SELECT a.id FROM qa a WHERE ${condition(r, 'a', 'qa')} ${r.pick(['AND', 'OR'])} ${condition(r, 'a', 'qa')} ORDER BY 1`,
    () => `SELECT ${r.pick(['x', 'y', 'z', 'id'])}, count(*), count(x), sum(x), max(y), avg(z) FROM qa GROUP BY 1 ${r.pick(['', 'HAVING count(*) > 1', 'HAVING sum(x) IS NULL', 'HAVING max(id) > 3'])} ORDER BY 1 NULLS FIRST`,
    () => `SELECT DISTINCT ${r.pick(['x', 'y', 'z'])} FROM qa ORDER BY 1 ${r.pick(['', 'NULLS FIRST', 'DESC', 'DESC NULLS LAST'])}`,
    () => `SELECT ${r.pick(['x', 'y'])} FROM qa ${r.pick(['UNION', 'UNION ALL', 'INTERSECT', 'EXCEPT', 'INTERSECT ALL', 'EXCEPT ALL'])} SELECT ${r.pick(['a_id', 'w'])}${r.pick(['', '::text'])} FROM qb ORDER BY 1`,
    () => `SELECT id, ${r.pick(['row_number()', 'rank()', 'dense_rank()', 'sum(x)', 'count(*)', 'lag(x)', "lead(y, 1, '-')", 'first_value(z)', 'last_value(id)', 'avg(x)', 'max(y)'])} OVER (${r.pick(['', 'PARTITION BY y ORDER BY id', 'ORDER BY x NULLS FIRST, id', 'ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING', 'ORDER BY x, id RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW', 'PARTITION BY x ORDER BY z DESC, id'])}) FROM qa ORDER BY id`,
    () => 'SELECT id, (SELECT count(*) FROM qb b WHERE b.a_id = a.id), (SELECT max(v) FROM qb b WHERE b.a_id = a.x) FROM qa a ORDER BY id',
    () => `WITH t AS (SELECT a_id, sum(v) s FROM qb GROUP BY a_id) SELECT a.id, t.s FROM qa a ${r.pick(['JOIN', 'LEFT JOIN'])} t ON t.a_id = a.id ORDER BY 1`,
    () => `SELECT a.id, l.v FROM qa a LEFT JOIN LATERAL (SELECT v FROM qb b WHERE b.a_id = a.id ORDER BY v ${r.pick(['', 'DESC'])} LIMIT 1) l ON true ORDER BY 1`,
    () => `SELECT id FROM qa ORDER BY ${r.pick(['x', 'y', 'z', 'x DESC', 'y NULLS FIRST', 'z DESC NULLS LAST', 'coalesce(x, 99)'])}, id ${r.pick(['', 'LIMIT 3', 'LIMIT 2 OFFSET 2', 'OFFSET 5', 'FETCH FIRST 2 ROWS ONLY'])}`,
    () => "SELECT y, string_agg(coalesce(x::text, '?'), ',' ORDER BY id), array_agg(DISTINCT x), bool_and(x > 1), count(DISTINCT z) FROM qa GROUP BY y ORDER BY y NULLS LAST",
    () => `SELECT count(*), sum(v), min(w), max(a_id), avg(v)::numeric(10,3), stddev_samp(v)::numeric(10,3), variance(v)::numeric(10,3) FROM qb WHERE ${condition(r, 'qb', 'qb')}`,
    () => "SELECT CASE WHEN x > 1 THEN 'big' WHEN x = 1 THEN 'one' ELSE 'other' END c, count(*) FROM qa GROUP BY 1 ORDER BY 1",
    () => 'SELECT a.y, count(b.id) FROM qa a LEFT JOIN qb b ON b.a_id = a.id GROUP BY a.y ORDER BY 1 NULLS FIRST',
    () => `SELECT id FROM qa WHERE (x, y) ${r.pick(['=', '<>', '<', '>'])} (2, 'b') ORDER BY 1`,
    () => 'SELECT id FROM qa WHERE (x, y) IN (SELECT a_id, w FROM qb) ORDER BY 1',
    () => 'SELECT * FROM (SELECT id, x FROM qa UNION ALL SELECT id, v FROM qb) s WHERE x > 1 ORDER BY 1, 2',
    () => `SELECT ${r.pick(['min', 'max', 'sum', 'count'])}(${r.pick(['x', 'z', 'id'])}) FILTER (WHERE ${condition(r, 'qa', 'qa')}) FROM qa`,
    () => `SELECT percentile_cont(${r.pick(['0.5', '0.25', 'array[0, 0.5, 1]'])}) WITHIN GROUP (ORDER BY ${r.pick(['x', 'z', 'x DESC'])}), percentile_disc(0.5) WITHIN GROUP (ORDER BY y), mode() WITHIN GROUP (ORDER BY x) FROM qa`,
  ])()
}

// ---- DML sequences ----------------------------------------------------------------------

export const DML_SETUP = [
  'CREATE TABLE dp (id int PRIMARY KEY, name text UNIQUE, score int DEFAULT 0, tags text[], note text)',
  'CREATE TABLE dc (id int PRIMARY KEY, pid int REFERENCES dp(id) ON DELETE CASCADE, qty int NOT NULL DEFAULT 1, label text, CHECK (qty >= 0))',
  "INSERT INTO dp VALUES (1, 'a', 10, '{x}', NULL), (2, 'b', 20, NULL, 'n2'), (3, 'c', 0, '{}', 'n3')",
  "INSERT INTO dc VALUES (1, 1, 5, 'p'), (2, 1, 0, NULL), (3, 2, 7, 'q')",
]

/** What every DML statement is judged by: both tables, ordered. */
export const DML_STATE = ['SELECT * FROM dp ORDER BY id', 'SELECT * FROM dc ORDER BY id']

/** One write of a random sequence over dp and dc (constraints, ON CONFLICT, RETURNING, MERGE, CTE writes). */
export function dmlStatement(r: Rng): string {
  const v = (): string => r.pick(['1', '2', '3', '4', '5', '6', 'null', '0', '-1'])
  const name = (): string => r.pick(["'a'", "'b'", "'c'", "'d'", "'e'", 'null', "'A'"])
  return r.pick([
    () => `INSERT INTO dp VALUES (${r.int(8)}, ${name()}, ${v()}, ${r.pick(["'{y}'", 'null', "'{x,y}'"])}, ${r.pick(["'z'", 'null'])})`,
    () => `INSERT INTO dp (id, name) VALUES (${r.int(8)}, ${name()}) ON CONFLICT (id) DO UPDATE SET score = dp.score + excluded.id, note = 'upd'`,
    () => `INSERT INTO dp (id, name) VALUES (${r.int(8)}, ${name()}) ON CONFLICT (name) DO NOTHING`,
    () => `INSERT INTO dp (id, name, score) VALUES (${r.int(8)}, ${name()}, ${v()}) ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE dp.score > ${v()} RETURNING id, name, score`,
    () => `INSERT INTO dp (id, name) SELECT id + ${r.int(6) + 3}, name || 'x' FROM dp WHERE id < ${r.int(5)} ON CONFLICT DO NOTHING RETURNING *`,
    () => `UPDATE dp SET score = score + ${v()} WHERE id ${r.pick(['=', '<', '>', '<>'])} ${v()} RETURNING id, score`,
    () => `UPDATE dp SET score = (SELECT count(*) FROM dc WHERE dc.pid = dp.id) WHERE ${r.pick(['true', 'id > 1', 'name IS NULL'])}`,
    () => `UPDATE dp SET tags = array_append(coalesce(tags, '{}'), ${name()}) WHERE id = ${v()}`,
    () => `UPDATE dp SET tags[${r.pick(['1', '2', '3'])}] = ${name()} WHERE id = ${v()} RETURNING tags`,
    () => `UPDATE dp SET name = upper(name), note = coalesce(note, 'none') WHERE score ${r.pick(['>', '<'])} ${v()}`,
    () => `UPDATE dp SET id = id + 10 WHERE id = ${v()}`,
    () => `UPDATE dc SET qty = qty - ${r.pick(['1', '5', '10'])} WHERE pid = ${v()} RETURNING id, qty`,
    () => `UPDATE dc SET pid = ${v()} WHERE id = ${v()}`,
    () => `UPDATE dc SET label = dp.name FROM dp WHERE dp.id = dc.pid AND dp.score ${r.pick(['>', '<='])} ${v()} RETURNING dc.id, dc.label`,
    () => `DELETE FROM dp WHERE id = ${v()} RETURNING id`,
    () => `DELETE FROM dc WHERE qty ${r.pick(['=', '<', '>'])} ${v()} RETURNING *`,
    () => `DELETE FROM dc USING dp WHERE dp.id = dc.pid AND dp.name ${r.pick(['=', '<>'])} ${name()}`,
    () => `INSERT INTO dc VALUES (${r.int(9)}, ${v()}, ${r.pick(['1', '0', '-1', '3', 'default'])}, ${name()})`,
    () => `INSERT INTO dc (id, pid) VALUES (${r.int(9)}, ${v()}) ON CONFLICT (id) DO UPDATE SET qty = dc.qty + 1 RETURNING id, qty`,
    () => `WITH d AS (DELETE FROM dc WHERE pid = ${v()} RETURNING id, qty) INSERT INTO dc (id, pid, qty, label) SELECT id + 20, 1, qty, 'moved' FROM d`,
    () => `WITH u AS (UPDATE dp SET score = score * 2 WHERE id = ${v()} RETURNING id) SELECT count(*) FROM u`,
    () => `MERGE INTO dp t USING (VALUES (${r.int(8)}, ${name()}, ${v()})) s(id, name, score) ON t.id = s.id WHEN MATCHED AND s.score IS NULL THEN DELETE WHEN MATCHED THEN UPDATE SET score = s.score, name = coalesce(s.name, t.name) WHEN NOT MATCHED THEN INSERT (id, name, score) VALUES (s.id, s.name, coalesce(s.score, 0))`,
    () => `UPDATE dp SET score = DEFAULT, note = DEFAULT WHERE id = ${v()}`,
    () => `INSERT INTO dp (id, name) VALUES (${r.int(8)}, ${name()}), (${r.int(8)}, ${name()})`,
    () => 'TRUNCATE dc',
  ])()
}
