import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

async function withView(nodeId: string): Promise<Database> {
  const d = await openDatabase({ nodeId })
  await d.query('CREATE TABLE base (a int PRIMARY KEY, b text, c int DEFAULT 7)')
  await d.query('CREATE VIEW v AS SELECT a, b, a * 2 AS dbl FROM base WHERE a > 0')
  return d
}

describe('writing through automatically updatable views', () => {
  it('inserts into the view\'s table, with the table\'s defaults and RETURNING over the view', async () => {
    db = await withView('vw1')
    expect((await db.query("INSERT INTO v VALUES (1, 'one') RETURNING *")).rowArrays).toEqual([[1, 'one', 2]])
    await db.query("INSERT INTO v (b, a) VALUES ('two', 2)")
    // The view's WHERE does not stop an INSERT (no CHECK OPTION), as in PostgreSQL.
    await db.query("INSERT INTO v VALUES (-5, 'neg')")
    await expect(db.query("INSERT INTO v VALUES (3, 'x', 6)")).rejects.toMatchObject({ code: '0A000', message: 'cannot insert into column "dbl" of view "v"' })
    expect((await db.query('SELECT * FROM base ORDER BY a')).rowArrays).toEqual([[-5, 'neg', 7], [1, 'one', 7], [2, 'two', 7]])
  })

  it('updates and deletes only the rows the view shows, reading view expressions in WHERE and RETURNING', async () => {
    db = await withView('vw2')
    await db.query("INSERT INTO base VALUES (-5, 'neg'), (1, 'one'), (2, 'two')")
    const u = await db.query('UPDATE v SET b = upper(b) WHERE dbl >= 4 RETURNING *, dbl + 1')
    expect(u.rowArrays).toEqual([[2, 'TWO', 4, 5]])
    await expect(db.query('UPDATE v SET dbl = 3')).rejects.toMatchObject({ code: '0A000', message: 'cannot update column "dbl" of view "v"' })
    expect((await db.query("DELETE FROM v WHERE b = 'one' RETURNING a")).rowArrays).toEqual([[1]])
    expect((await db.query('DELETE FROM v')).rowCount).toBe(1)
    expect((await db.query('SELECT a FROM base')).rowArrays).toEqual([[-5]])
  })

  it('writes through a view over a view, renaming columns on the way', async () => {
    db = await withView('vw3')
    await db.query('CREATE VIEW vv AS SELECT b AS name, a FROM v')
    await db.query("INSERT INTO vv VALUES ('three', 3)")
    await db.query("UPDATE vv SET name = 'THREE' WHERE a = 3")
    expect((await db.query('SELECT a, b, c FROM base')).rowArrays).toEqual([[3, 'THREE', 7]])
    await db.query('DELETE FROM vv')
    expect((await db.query('SELECT count(*) FROM base')).rowArrays).toEqual([['0']])
  })

  it('refuses views that are not automatically updatable, and CHECK OPTION views, with 0A000', async () => {
    db = await withView('vw4')
    await db.query('CREATE VIEW agg AS SELECT count(*) FROM base')
    await expect(db.query('INSERT INTO agg VALUES (1)')).rejects.toMatchObject({
      code: '0A000', message: 'cannot insert into view "agg"', detail: 'Views that return aggregate functions are not automatically updatable.',
    })
    await db.query('CREATE VIEW co AS SELECT * FROM base WHERE a > 0 WITH CHECK OPTION')
    await expect(db.query("INSERT INTO co VALUES (5, 'x')")).rejects.toMatchObject({ code: '0A000' })
    expect((await db.query('SELECT count(*) FROM base')).rowArrays).toEqual([['0']])
  })
})
