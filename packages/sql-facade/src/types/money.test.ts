import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

async function row(sql: string): Promise<unknown[]> {
  return (await db.query(sql)).rowArrays[0]!
}

describe('money', () => {
  it('reads and prints amounts as PostgreSQL does under the C locale, rounding to cents', async () => {
    db = await openDatabase({ nodeId: 'm1' })
    expect(await row(`SELECT 1000::money, '$1,000.00'::money, '(12.5)'::money, '12.345'::money, (-1234.567)::money, '-0.005'::money, '1.10'::money::numeric`))
      .toEqual(['$1,000.00', '$1,000.00', '-$12.50', '$12.35', '-$1,234.57', '-$0.01', '1.10'])
    await expect(db.query(`SELECT 'abc'::money`)).rejects.toMatchObject({ code: '22P02' })
    await expect(db.query(`SELECT '92233720368547758.08'::money`)).rejects.toMatchObject({ code: '22003' })
  })

  it('does cash arithmetic, sums, orders and stores in a table', async () => {
    db = await openDatabase({ nodeId: 'm2' })
    expect(await row(`SELECT 100::money * 2, 100::money / 3, 1::money / 2::money, 2.5 * 1::money, 7::money / 2.0, 1::money + '$0.50'`))
      .toEqual(['$200.00', '$33.33', 0.5, '$2.50', '$3.50', '$1.50'])
    await expect(db.query(`SELECT 5::money / 0`)).rejects.toMatchObject({ code: '22012' })
    await db.query('CREATE TABLE m (id int PRIMARY KEY, a money)')
    await db.query(`INSERT INTO m VALUES (1, 5), (2, '$7.25'), (3, '1,000')`)
    expect((await db.query('SELECT id FROM m ORDER BY a DESC')).rowArrays).toEqual([[3], [2], [1]])
    expect(await row('SELECT sum(a), max(a) FROM m')).toEqual(['$1,012.25', '$1,000.00'])
    const w = await db.query(`SELECT i, SUM(v::money) OVER (ORDER BY i ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
      FROM (VALUES (1, '1.10'), (2, '2.20'), (3, NULL)) t(i, v)`)
    expect(w.rowArrays).toEqual([[1, '$3.30'], [2, '$2.20'], [3, null]])
  })
})
