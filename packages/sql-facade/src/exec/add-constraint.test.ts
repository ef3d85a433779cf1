/**
 * ALTER TABLE .. ADD CONSTRAINT checks what PostgreSQL checks before the constraint
 * exists (pg-regress alter_table): a UNIQUE key the rows already break was added and the
 * duplicates stayed; a key over a missing column was accepted; a second constraint of one
 * name was added beside the first. Answers checked on PostgreSQL 15.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

beforeAll(async () => {
  await db.rows('CREATE TABLE ac (a int, b int, CONSTRAINT ac_pos CHECK (a > 0))')
  await db.rows('INSERT INTO ac VALUES (1, 1), (1, 2), (2, NULL), (3, NULL)')
})

describe('ALTER TABLE .. ADD CONSTRAINT', () => {
  it('UNIQUE over rows that share a key fails with 23505 and adds nothing', async () => {
    expect(await db.code('ALTER TABLE ac ADD CONSTRAINT ac_a_uq UNIQUE (a)')).toBe('23505')
    expect(await db.code('ALTER TABLE ac ADD UNIQUE (a, b)')).toBeUndefined()
    // NULLs do not collide; the rows are as they were, and a duplicate of b is still allowed.
    expect(await db.code('ALTER TABLE ac ADD UNIQUE (b)')).toBeUndefined()
    expect(await db.code('INSERT INTO ac VALUES (9, 1)')).toBe('23505')
    expect(await db.code('INSERT INTO ac VALUES (1, 5)')).toBeUndefined()
    expect(await db.rows("SELECT count(*)::int FROM pg_indexes WHERE tablename = 'ac' AND indexname = 'ac_a_uq'")).toEqual([[0]])
  })

  it('a key over a missing column is 42703', async () => {
    expect(await db.code('ALTER TABLE ac ADD CONSTRAINT ac_x_uq UNIQUE (nosuch)')).toBe('42703')
    expect(await db.code('ALTER TABLE ac ADD UNIQUE (a, nosuch)')).toBe('42703')
  })

  it('a name the table\'s constraints already use is 42710; an index name taken is 42P07', async () => {
    expect(await db.code('ALTER TABLE ac ADD CONSTRAINT ac_pos CHECK (a > 5)')).toBe('42710')
    expect(await db.code('ALTER TABLE ac ADD CONSTRAINT ac_pos UNIQUE (b)')).toBe('42710')
    expect(await db.code('ALTER TABLE ac ADD CONSTRAINT ac_b_key CHECK (b > 0)')).toBe('42710')
    await db.rows('CREATE INDEX ac_plain ON ac (a)')
    expect(await db.code('ALTER TABLE ac ADD CONSTRAINT ac_plain UNIQUE (b)')).toBe('42P07')
    // The first ac_pos still holds as it was written.
    expect(await db.code('INSERT INTO ac VALUES (4, 40)')).toBeUndefined()
    expect(await db.code('INSERT INTO ac VALUES (0, 41)')).toBe('23514')
    expect(await db.rows("SELECT count(*)::int FROM pg_constraint WHERE conname = 'ac_pos'")).toEqual([[1]])
  })
})
