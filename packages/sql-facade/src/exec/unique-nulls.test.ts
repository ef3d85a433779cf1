import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

describe('UNIQUE and NULLs', () => {
  it('lets any number of rows hold NULL in a unique key (NULLS DISTINCT, PostgreSQL\'s default)', async () => {
    await db.rows('CREATE TABLE un (a int UNIQUE, b int, c int, UNIQUE (b, c))')
    await db.rows('CREATE UNIQUE INDEX un_c ON un (c) NULLS DISTINCT')
    await db.rows('INSERT INTO un VALUES (NULL, NULL, NULL), (NULL, 1, NULL), (NULL, 1, NULL)')
    expect(await db.rows('SELECT count(*)::int FROM un')).toEqual([[3]])
    expect(await db.code('INSERT INTO un VALUES (1, 2, 3), (1, 2, 4)')).toBe('23505')
  })

  it.each([
    ['CREATE UNIQUE INDEX', 'CREATE TABLE nd1 (a int); CREATE UNIQUE INDEX nd1_a ON nd1 (a) NULLS NOT DISTINCT'],
    ['a column constraint', 'CREATE TABLE nd2 (a int UNIQUE NULLS NOT DISTINCT)'],
    ['a table constraint', 'CREATE TABLE nd3 (a int, b int, UNIQUE NULLS NOT DISTINCT (a, b))'],
    ['ALTER TABLE .. ADD', 'CREATE TABLE nd4 (a int); ALTER TABLE nd4 ADD CONSTRAINT nd4_u UNIQUE NULLS NOT DISTINCT (a)'],
  ])('refuses NULLS NOT DISTINCT with 0A000 (%s): it was accepted, and a second NULL went in', async (_, sql) => {
    const statements = sql.split('; ')
    for (const s of statements.slice(0, -1)) await db.rows(s)
    expect(await db.code(statements.at(-1)!)).toBe('0A000')
  })
})
