import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { formatPgText } from '../result-format.js'

// Expected rows were produced by PostgreSQL 15 for the same statements.
let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1' })
  await db.query('CREATE TABLE e (id INT PRIMARY KEY, dept TEXT, sal INT)')
  await db.query("INSERT INTO e VALUES (1,'a',100),(2,'a',200),(3,'a',200),(4,'b',50),(5,'b',NULL),(6,'c',10)")
})
afterAll(async () => {
  await db.close()
})

async function text(sql: string): Promise<string[]> {
  const r = await db.query(sql)
  return r.rowArrays.map((row) => row.map((v, i) => formatPgText(v, r.fields[i]!) ?? 'NULL').join('|'))
}

describe('window functions', () => {
  it('rank, row_number, dense_rank and aggregates over partitions with default frames', async () => {
    expect(await text('SELECT id, row_number() OVER (PARTITION BY dept ORDER BY sal DESC, id) AS rn, rank() OVER (PARTITION BY dept ORDER BY sal) AS r, dense_rank() OVER (ORDER BY sal) AS dr, sum(sal) OVER (PARTITION BY dept ORDER BY sal) AS rs, avg(sal) OVER (PARTITION BY dept) AS av, count(*) OVER () AS n FROM e ORDER BY id')).toEqual([
      '1|3|1|3|100|166.6666666666666667|6',
      '2|1|2|4|500|166.6666666666666667|6',
      '3|2|2|4|500|166.6666666666666667|6',
      '4|2|1|2|50|50.0000000000000000|6',
      '5|1|2|5|50|50.0000000000000000|6',
      '6|1|1|1|10|10.0000000000000000|6',
    ])
  })

  it('offsets, ntile, ROWS frames, percent_rank and cume_dist over a named window', async () => {
    expect(await text('SELECT id, lag(sal) OVER w AS lg, lead(sal, 1, 0) OVER w AS ld, first_value(id) OVER w AS fv, last_value(id) OVER w AS lv, ntile(4) OVER w AS nt, sum(sal) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS mv, percent_rank() OVER w AS pr, cume_dist() OVER w AS cd FROM e WINDOW w AS (ORDER BY id) ORDER BY id')).toEqual([
      '1|NULL|200|1|1|1|300|0|0.16666666666666666',
      '2|100|200|1|2|1|500|0.2|0.3333333333333333',
      '3|200|50|1|3|2|450|0.4|0.5',
      '4|200|NULL|1|4|2|250|0.6|0.6666666666666666',
      '5|50|10|1|5|3|60|0.8|0.8333333333333334',
      '6|NULL|0|1|6|4|10|1|1',
    ])
  })

  it('windows over grouped rows, and not in WHERE', async () => {
    expect(await text('SELECT dept, sum(sal) AS s, rank() OVER (ORDER BY sum(sal) DESC) AS r FROM e GROUP BY dept ORDER BY dept')).toEqual(['a|500|1', 'b|50|2', 'c|10|3'])
    await expect(db.query('SELECT id FROM e WHERE row_number() OVER () > 1')).rejects.toMatchObject({ code: '42P20' })
  })
})
