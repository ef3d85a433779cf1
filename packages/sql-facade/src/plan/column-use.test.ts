import { describe, expect, it } from 'vitest'
import type { Node, RangeVar } from 'libpg-query'
import { columnUseOf } from '../parser/column-use.js'
import { parseScript } from '../parser/parse.js'
import { useOneNodeDb } from '../one-node-db.fixture.js'

/**
 * Scans decode only the columns a SELECT names (parser/column-use.ts, plan/table-scan.ts).
 * First what the analysis answers per FROM item, then answers of statements that read
 * columns without naming them, which must fall back to whole rows and answer as before.
 */
function tree(sql: string): Node {
  const [s] = parseScript(sql)
  if (s?.kind !== 'pg') throw new Error('not a statement')
  return s.node
}

function rangeVars(node: unknown, out: RangeVar[] = []): RangeVar[] {
  if (!node || typeof node !== 'object') return out
  if (Array.isArray(node)) {
    for (const x of node) rangeVars(x, out)
    return out
  }
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'RangeVar') out.push(v as RangeVar)
    rangeVars(v, out)
  }
  return out
}

/** What the analysis says each FROM item of `sql` decodes: the column names among `cols`, or 'all'. */
function decodes(sql: string, cols = ['id', 'grp', 'body', 'x']): Array<string[] | 'all'> {
  const t = tree(sql)
  const use = columnUseOf(t)
  return rangeVars(t).map((rv) => {
    const set = use?.(rv) ?? null
    return set === null ? 'all' : cols.filter((c) => set.has(c))
  })
}

describe('column use of a SELECT', () => {
  it('names the columns a statement reads, in every clause and subquery', () => {
    expect(decodes('SELECT grp, count(*), sum(id) FROM data GROUP BY grp')).toEqual([['id', 'grp']])
    expect(decodes('SELECT d.grp FROM data d WHERE d.x > 1 ORDER BY id')).toEqual([['id', 'grp', 'x']])
    expect(decodes('SELECT grp FROM data d WHERE EXISTS (SELECT 1 FROM other o WHERE o.id = d.x)')).toEqual([['id', 'grp', 'x'], ['id', 'grp', 'x']])
    expect(decodes('SELECT a.grp FROM data a JOIN other b USING (body)')).toEqual([['grp', 'body'], ['grp', 'body']])
    expect(decodes('WITH c AS (SELECT grp FROM data) SELECT count(*) FROM c')).toEqual([['grp'], ['grp']])
    expect(decodes('SELECT count(*) FROM data')).toEqual([[]])
    // EXISTS (SELECT * ..) only counts rows.
    expect(decodes('SELECT grp FROM data d WHERE EXISTS (SELECT * FROM other o WHERE o.id = d.id)')).toEqual([['id', 'grp'], ['id', 'grp']])
  })

  it('falls back to whole rows when columns are read without being named', () => {
    expect(decodes('SELECT * FROM data')).toEqual(['all'])
    expect(decodes('SELECT d.* FROM data d')).toEqual(['all'])
    expect(decodes('SELECT row_to_json(d.*) FROM data d')).toEqual(['all'])
    expect(decodes('SELECT grp FROM data WHERE id IN (SELECT * FROM other)')).toEqual(['all', 'all'])
    expect(decodes('SELECT DISTINCT grp FROM data d WHERE EXISTS (SELECT DISTINCT * FROM other OFFSET 1)')).toEqual(['all', 'all'])
    // Whole-row references by alias or by table name: that item only.
    expect(decodes('SELECT d FROM data d')).toEqual(['all'])
    expect(decodes('SELECT row_to_json(data), o.id FROM data, other o')).toEqual(['all', ['id']])
    expect(decodes('SELECT (d).grp FROM data d')).toEqual(['all'])
    expect(decodes('SELECT count(o) FROM data d, other o WHERE d.id = o.id')).toEqual([['id'], 'all'])
    // Column aliases rename the columns the statement names.
    expect(decodes('SELECT a FROM data AS d(a, b)')).toEqual(['all'])
    // On a join they rename the columns of every item in it; a join alias read whole reads them all.
    expect(decodes('SELECT a, c FROM (data CROSS JOIN other) AS j(a, b, c)')).toEqual(['all', 'all'])
    expect(decodes('SELECT j FROM (data CROSS JOIN other) AS j')).toEqual(['all', 'all'])
    expect(decodes('SELECT j.grp FROM (data CROSS JOIN other) AS j')).toEqual([['grp'], ['grp']])
    expect(decodes('SELECT grp FROM data NATURAL JOIN other')).toEqual(['all', 'all'])
    expect(decodes('WITH u AS (UPDATE data SET grp = 1 RETURNING id) SELECT id FROM u')).toEqual(['all'])
    expect(decodes('SELECT grp FROM data FOR UPDATE')).toEqual(['all'])
    // UPDATE writes whole rows back; only a SELECT is analysed.
    expect(columnUseOf(tree('UPDATE data SET grp = 1 WHERE id = 2'))).toBeNull()
    expect(columnUseOf(tree('DELETE FROM data WHERE id = 2 RETURNING *'))).toBeNull()
    expect(columnUseOf(tree('INSERT INTO other SELECT id FROM data'))).toBeNull()
  })

  it('answers alike for statements made from one literal template', () => {
    const a = tree('SELECT grp FROM data WHERE id = 12')
    const b = tree('SELECT grp FROM data WHERE id = 13')
    const c = tree('SELECT grp FROM data WHERE id = 14')
    for (const t of [a, b, c]) {
      const use = columnUseOf(t)
      for (const rv of rangeVars(t)) expect([...(use?.(rv) ?? ['all'])].filter((n) => ['id', 'grp', 'body'].includes(n)).sort()).toEqual(['grp', 'id'])
    }
  })
})

describe('scans that decode some columns answer as whole-row scans do', () => {
  const db = useOneNodeDb()

  it('sets up', async () => {
    await db.rows('CREATE TABLE cu (id INT PRIMARY KEY, grp INT NOT NULL DEFAULT 7, body TEXT, x INT)')
    await db.rows("INSERT INTO cu VALUES (1, 1, 'a', 10), (2, 1, 'b', 20), (3, 2, 'c', NULL), (4, 2, NULL, 40)")
    await db.rows('CREATE TABLE cu2 (id INT PRIMARY KEY, body TEXT, y INT)')
    await db.rows("INSERT INTO cu2 VALUES (1, 'a', 100), (3, 'z', 300)")
    await db.rows('CREATE VIEW cuv AS SELECT id, body, x FROM cu')
    await db.rows('CREATE FUNCTION cu_body(i INT) RETURNS TEXT AS $$ SELECT body FROM cu WHERE id = i $$ LANGUAGE sql')
    await db.rows('CREATE FUNCTION cu_bodies() RETURNS TEXT AS $$ SELECT string_agg(body, \',\' ORDER BY id) FROM cu $$ LANGUAGE sql')
  })

  it('GROUP BY and aggregates', async () => {
    expect(await db.rows('SELECT grp, count(*), sum(id), max(x) FROM cu GROUP BY grp ORDER BY grp')).toEqual([[1, '2', '3', 20], [2, '2', '7', 40]])
    expect(await db.rows('SELECT count(*) FROM cu')).toEqual([['4']])
    expect(await db.rows('SELECT count(body) FROM cu')).toEqual([['3']])
    expect(await db.rows('SELECT grp FROM cu WHERE x IS NULL')).toEqual([[2]])
    expect(await db.rows('SELECT id FROM cu ORDER BY body DESC NULLS LAST, id')).toEqual([[3], [2], [1], [4]])
    expect(await db.rows('SELECT grp, string_agg(body, \'\' ORDER BY id) FROM cu GROUP BY grp HAVING max(x) > 30')).toEqual([[2, 'c']])
  })

  it('subqueries, correlated or not, and joins', async () => {
    expect(await db.rows('SELECT id, (SELECT y FROM cu2 WHERE cu2.body = cu.body) FROM cu ORDER BY id')).toEqual([[1, 100], [2, null], [3, null], [4, null]])
    expect(await db.rows('SELECT id FROM cu WHERE EXISTS (SELECT * FROM cu2 WHERE cu2.id = cu.id) ORDER BY id')).toEqual([[1], [3]])
    expect(await db.rows('SELECT id FROM cu WHERE EXISTS (SELECT DISTINCT * FROM cu2 WHERE cu2.id < cu.id OFFSET 1) ORDER BY id')).toEqual([[4]])
    expect(await db.rows('SELECT cu.id, y FROM cu JOIN cu2 USING (body) ORDER BY 1')).toEqual([[1, 100]])
    expect(await db.rows('SELECT id, y FROM cu NATURAL JOIN cu2')).toEqual([[1, 100]])
    expect(await db.rows('SELECT a, c FROM cu AS t(a, b, c) ORDER BY a')).toEqual([[1, 'a'], [2, 'b'], [3, 'c'], [4, null]])
    // A join's column aliases (the columns read NULL before).
    expect(await db.rows('SELECT a, b2, y2 FROM (cu JOIN cu2 USING (id)) AS j (a, g, b, x2, b2, y2) ORDER BY a')).toEqual([[1, 'a', 100], [3, 'z', 300]])
    expect(await db.rows('SELECT j::text FROM (cu JOIN cu2 USING (id)) AS j WHERE id = 1')).toEqual([['(1,1,a,10,a,100)']])
  })

  it('point reads by primary key decode the columns named, as scans do', async () => {
    expect(await db.rows('SELECT grp FROM cu WHERE id = 1')).toEqual([[1]])
    expect(await db.rows('SELECT body, x FROM cu WHERE id = 4')).toEqual([[null, 40]])
    expect(await db.rows('SELECT * FROM cu WHERE id = 3')).toEqual([[3, 2, 'c', null]])
    expect(await db.rows('SELECT cu::text FROM cu WHERE id = 2')).toEqual([['(2,1,b,20)']])
    expect(await db.rows('SELECT row_to_json(c) FROM cu c WHERE c.id = 1')).toEqual([['{"id":1,"grp":1,"body":"a","x":10}']])
    expect(await db.rows('SELECT id, (SELECT y FROM cu2 WHERE cu2.id = cu.id) FROM cu ORDER BY id')).toEqual([[1, 100], [2, null], [3, 300], [4, null]])
    expect(await db.rows('SELECT count(*) FROM cu WHERE id = 2 AND x = 20')).toEqual([['1']])
    // Through a view and a function, whose statements are not the one analysed.
    expect(await db.rows('SELECT body FROM cuv WHERE id = 2')).toEqual([['b']])
    expect(await db.rows('SELECT x FROM cuv WHERE id = 4')).toEqual([[40]])
    expect(await db.rows('SELECT cu_body(3)')).toEqual([['c']])
    // A column added since the rows were written reads its default on a point read too.
    await db.rows('CREATE TABLE cu4 (id INT PRIMARY KEY, body TEXT)')
    await db.rows("INSERT INTO cu4 VALUES (1, 'a')")
    await db.rows('ALTER TABLE cu4 ADD COLUMN n INT NOT NULL DEFAULT 5')
    expect(await db.rows('SELECT n FROM cu4 WHERE id = 1')).toEqual([[5]])
    expect(await db.rows('SELECT n, body FROM cu4 WHERE id = 1')).toEqual([[5, 'a']])
  })

  it('whole rows: *, t.*, whole-row references, views and functions', async () => {
    expect(await db.rows('SELECT * FROM cu WHERE id = 1 OR grp = 2 ORDER BY id')).toEqual([[1, 1, 'a', 10], [3, 2, 'c', null], [4, 2, null, 40]])
    expect(await db.rows('SELECT c.* FROM cu c WHERE x > 15 ORDER BY id')).toEqual([[2, 1, 'b', 20], [4, 2, null, 40]])
    expect(await db.rows('SELECT row_to_json(c) FROM cu c WHERE x = 10')).toEqual([['{"id":1,"grp":1,"body":"a","x":10}']])
    expect(await db.rows('SELECT cu::text FROM cu WHERE x = 20')).toEqual([['(2,1,b,20)']])
    expect(await db.rows('SELECT id, body FROM cuv WHERE x > 15 ORDER BY id')).toEqual([[2, 'b'], [4, null]])
    expect(await db.rows('SELECT count(*) FROM cuv WHERE body IS NOT NULL')).toEqual([['3']])
    expect(await db.rows('SELECT id, cu_body(id) FROM cu WHERE grp = 1 ORDER BY id')).toEqual([[1, 'a'], [2, 'b']])
    expect(await db.rows('SELECT cu_bodies()')).toEqual([['a,b,c']])
    expect(await db.rows('SELECT grp, cu_bodies() FROM cu WHERE id = 4')).toEqual([[2, 'a,b,c']])
  })

  it('writes read and keep whole rows', async () => {
    expect(await db.rows('UPDATE cu SET x = x + 1 WHERE grp = 1 RETURNING *')).toEqual([[1, 1, 'a', 11], [2, 1, 'b', 21]])
    expect(await db.rows('WITH u AS (UPDATE cu SET grp = 1 WHERE id = 3 RETURNING *) SELECT id, body FROM u')).toEqual([[3, 'c']])
    expect(await db.rows('SELECT * FROM cu ORDER BY id')).toEqual([[1, 1, 'a', 11], [2, 1, 'b', 21], [3, 1, 'c', null], [4, 2, null, 40]])
    expect(await db.rows('INSERT INTO cu2 SELECT id + 10, body, x FROM cu WHERE grp = 2 RETURNING *')).toEqual([[14, null, 40]])
    expect(await db.rows('CREATE TABLE cu3 AS SELECT id, x FROM cu WHERE grp = 1')).toEqual([])
    expect(await db.rows('SELECT * FROM cu3 ORDER BY id')).toEqual([[1, 11], [2, 21], [3, null]])
  })

  it('partitions, inheritance and tableoid read whole rows', async () => {
    await db.rows('CREATE TABLE cp (id INT, k INT, body TEXT, PRIMARY KEY (id, k)) PARTITION BY LIST (k)')
    await db.rows('CREATE TABLE cp1 PARTITION OF cp FOR VALUES IN (1)')
    await db.rows('CREATE TABLE cp2 PARTITION OF cp FOR VALUES IN (2)')
    await db.rows("INSERT INTO cp VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 1, 'c')")
    expect(await db.rows('SELECT id FROM cp1 ORDER BY id')).toEqual([[1], [3]])
    expect(await db.rows('SELECT count(*) FROM cp2')).toEqual([['1']])
    expect(await db.rows('SELECT body, tableoid::regclass::text FROM cp ORDER BY id')).toEqual([['a', 'cp1'], ['b', 'cp2'], ['c', 'cp1']])
    await db.rows('CREATE TABLE ih (id INT PRIMARY KEY, body TEXT)')
    await db.rows('CREATE TABLE ihc (extra INT) INHERITS (ih)')
    await db.rows("INSERT INTO ih VALUES (1, 'p')")
    await db.rows("INSERT INTO ihc VALUES (2, 'c', 5)")
    expect(await db.rows('SELECT body FROM ih ORDER BY id')).toEqual([['p'], ['c']])
  })
})
