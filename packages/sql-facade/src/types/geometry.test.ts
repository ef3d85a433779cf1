import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

async function row(sql: string): Promise<unknown[]> {
  return (await db.query(sql)).rowArrays[0]!
}

describe('geometric types', () => {
  it('read every input form and print the canonical text PostgreSQL prints', async () => {
    db = await openDatabase({ nodeId: 'g1' })
    expect(await row(`SELECT ' ( Nan , NaN ) '::point, '10.0,10.0'::point, '(1e+300,Inf)'::point, '(5.1, 34.5)'::point,
      box '(0,0,100,100)', box '((2,2),(3,3))', lseg '[(1,2),(3,4)]', line '{1,2,3}', line '[(1,2),(3,4)]',
      path '((1,2),(3,4))', path '[(1,2),(3,4)]', path '(1,2),(3,4)', polygon '(1000,0,0,1000)', circle '((1,2),3)', circle '1,2,3'`))
      .toEqual(['(NaN,NaN)', '(10,10)', '(1e+300,Infinity)', '(5.1,34.5)', '(100,100),(0,0)', '(3,3),(2,2)', '[(1,2),(3,4)]',
        '{1,2,3}', '{1,-1,1}', '((1,2),(3,4))', '[(1,2),(3,4)]', '((1,2),(3,4))', '((1000,0),(0,1000))', '<(1,2),3>', '<(1,2),3>'])
    await expect(db.query(`SELECT 'asdfasdf'::point`)).rejects.toMatchObject({ code: '22P02' })
    expect(await row(`SELECT array[box '(1,1,0,0)', box '(2,2,1,1)'], '{(1,1),(0,0);(3,3),(2,2)}'::box[], array[point '(1,2)', '(3,4)']`))
      .toEqual(['{(1,1),(0,0);(2,2),(1,1)}', '{(1,1),(0,0);(3,3),(2,2)}', '{"(1,2)","(3,4)"}'])
    await expect(db.query(`SELECT '<(1,2),-3>'::circle`)).rejects.toMatchObject({ code: '22P02' })
    await expect(db.query(`SELECT '{0,0,1}'::line`)).rejects.toMatchObject({ code: '22P02' })
  })

  it('store in a table and answer position, containment, distance and same-as operators as PostgreSQL does', async () => {
    db = await openDatabase({ nodeId: 'g2' })
    await db.query('CREATE TABLE pts (f1 point)')
    await db.query(`INSERT INTO pts VALUES ('(0,0)'), ('(-10,0)'), ('(-3,4)'), ('(5.1,34.5)'), ('(-5,-12)'), ('(1e-300,-1e-300)'),
      ('(1e+300,Inf)'), ('(Inf,1e+300)'), ('(NaN,NaN)'), ('(10,10)')`)
    const count = async (where: string) => (await row(`SELECT count(*) FROM pts WHERE ${where}`))[0]
    expect(await count(`f1 <@ polygon '(0,0),(0,100),(100,100),(50,50),(100,0),(0,0)'`)).toBe('5')
    expect(await count(`f1 <@ box '(0,0,100,100)'`)).toBe('3')
    expect(await count(`box '(0,0,100,100)' @> f1`)).toBe('3')
    expect(await count(`f1 <@ circle '<(50,50),50>'`)).toBe('1')
    expect(await count(`f1 << '(0.0, 0.0)'`)).toBe('3')
    expect(await count(`f1 >> '(0.0, 0.0)'`)).toBe('4')
    expect(await count(`f1 <<| '(0.0, 0.0)'`)).toBe('1')
    expect(await count(`f1 |>> '(0.0, 0.0)'`)).toBe('5')
    expect(await count(`f1 ~= '(-5, -12)'`)).toBe('1')
    const near = await db.query(`SELECT f1 FROM pts WHERE f1 <@ '(-10,-10),(10,10)'::box ORDER BY f1 <-> '0,1'`)
    expect(near.rowArrays.map((r) => r[0])).toEqual(['(0,0)', '(1e-300,-1e-300)', '(-3,4)', '(-10,0)', '(10,10)'])
    expect(await row(`SELECT '(-3,4)'::point <-> '0,1', (point '(1,2)')[0], (box '(1,2,3,4)')[0]`)).toEqual([4.242640687119286, 1, '(3,4)'])
  })

  it('compare boxes by area, refuse = and ORDER BY on points, and convert with the geometric functions', async () => {
    db = await openDatabase({ nodeId: 'g3' })
    expect(await row(`SELECT box '(0,0,1,1)' = box '(5,5,6,6)', box '(0,0,1,1)' < box '(5,5,7,7)',
      polygon(box '(1,2,3,4)'), circle(box '(1,2,3,4)'), circle_center(circle '<(1,2),3>'), radius(circle '<(1,2),3>'),
      '(1000,0,0,1000)'::polygon && '(1000,1000,0,0)'::polygon`))
      .toEqual([true, true, '((1,2),(1,4),(3,4),(3,2))', '<(2,3),1.4142135623730951>', '(1,2)', 3, true])
    await expect(db.query(`SELECT '(1,2)'::point = '(1,2)'::point`)).rejects.toMatchObject({ code: '42883' })
    await expect(db.query(`SELECT x FROM (VALUES (point '(1,2)')) v(x) ORDER BY x`)).rejects.toMatchObject({ code: '42883' })
    await expect(db.query(`SELECT (point '(1,2)')[0:1]`)).rejects.toMatchObject({ code: '0A000' })
  })

  it('assign one coordinate of a point through a subscript, as fixed-length arrays do in PostgreSQL', async () => {
    db = await openDatabase({ nodeId: 'g4' })
    await db.query('CREATE TABLE p (id int PRIMARY KEY, f1 point)')
    await db.query(`INSERT INTO p VALUES (1, '(10,10)'), (2, NULL)`)
    expect((await db.query('UPDATE p SET f1[0] = 10 WHERE id = 2 RETURNING f1')).rowArrays).toEqual([[null]])
    expect((await db.query('UPDATE p SET f1[0] = NULL WHERE id = 1 RETURNING f1')).rowArrays).toEqual([['(10,10)']])
    expect((await db.query('UPDATE p SET f1[0] = -10, f1[1] = -7.5 WHERE id = 1 RETURNING f1')).rowArrays).toEqual([['(-10,-7.5)']])
    await expect(db.query('UPDATE p SET f1[3] = 10 WHERE id = 1')).rejects.toMatchObject({ code: '2202E' })
    expect((await db.query('SELECT f1 FROM p WHERE id = 1')).rowArrays).toEqual([['(-10,-7.5)']])
  })
})
