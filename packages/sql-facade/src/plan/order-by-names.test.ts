import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows, code } = useOneNodeDb()

// Every expected answer below is PostgreSQL 15's.
describe('ORDER BY a name several select-list items carry', () => {
  it('is 42702 when they are different expressions (one of them was chosen silently), and sorts when they are the same', async () => {
    await rows('CREATE TABLE ob (id int PRIMARY KEY, a int); INSERT INTO ob VALUES (1, 20), (2, 10)')
    expect(await code('SELECT id, (id)::numeric FROM ob ORDER BY id')).toBe('42702')
    expect(await code('SELECT id, CASE WHEN true THEN a ELSE id END FROM ob ORDER BY id')).toBe('42702')
    expect(await rows('SELECT id, id FROM ob ORDER BY id DESC')).toEqual([[2, 2], [1, 1]])
    expect(await rows('SELECT *, id FROM ob ORDER BY id DESC')).toEqual([[2, 10, 2], [1, 20, 1]])
    expect(await rows('SELECT id, id::numeric AS id2 FROM ob ORDER BY id DESC')).toEqual([[2, '2'], [1, '1']])
  })
})
