import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

async function accounts(nodeId: string): Promise<Database> {
  const d = await openDatabase({ nodeId })
  await d.query('CREATE TABLE target (tid int PRIMARY KEY, balance int NOT NULL)')
  await d.query('CREATE TABLE source (sid int, delta int)')
  await d.query('INSERT INTO target VALUES (1, 10), (2, 20), (3, 30)')
  return d
}

describe('MERGE', () => {
  it('updates matched rows, deletes by condition and inserts unmatched ones, in clause order', async () => {
    db = await accounts('m1')
    await db.query('INSERT INTO source VALUES (1, 5), (2, -20), (4, 40), (5, 0)')
    const r = await db.query(`MERGE INTO target t USING source s ON t.tid = s.sid
      WHEN MATCHED AND t.balance + s.delta <= 0 THEN DELETE
      WHEN MATCHED THEN UPDATE SET balance = balance + s.delta
      WHEN NOT MATCHED AND s.delta > 0 THEN INSERT (tid, balance) VALUES (s.sid, s.delta)
      WHEN NOT MATCHED THEN DO NOTHING`)
    expect(r.commandTag).toBe('MERGE 3')
    expect((await db.query('SELECT tid, balance FROM target ORDER BY tid')).rowArrays).toEqual([[1, 15], [3, 30], [4, 40]])
  })

  it('sees the rows as they were before its own writes, and takes a subquery as source', async () => {
    db = await accounts('m2')
    // Row 9 is inserted once per source row that finds no match: the insert of the first is not seen by the second.
    await expect(db.query(`MERGE INTO target USING (VALUES (9, 1), (9, 2)) AS v(id, d) ON tid = v.id
      WHEN NOT MATCHED THEN INSERT VALUES (v.id, v.d)`)).rejects.toMatchObject({ code: '23505' })
    const r = await db.query(`MERGE INTO target USING (SELECT tid AS id FROM target WHERE tid < 3) s ON tid = s.id + 1
      WHEN MATCHED THEN UPDATE SET balance = 0 WHEN NOT MATCHED THEN INSERT VALUES (s.id + 10, DEFAULT)`)
    expect(r.commandTag).toBe('MERGE 2')
    expect((await db.query('SELECT tid, balance FROM target ORDER BY tid')).rowArrays).toEqual([[1, 10], [2, 0], [3, 0]])
  })

  it('refuses to touch one target row twice (21000) and leaves nothing behind', async () => {
    db = await accounts('m3')
    await db.query('INSERT INTO source VALUES (1, 1), (1, 2)')
    expect(await sqlState(db, 'MERGE INTO target t USING source s ON t.tid = s.sid WHEN MATCHED THEN UPDATE SET balance = s.delta')).toBe('21000')
    expect((await db.query('SELECT balance FROM target WHERE tid = 1')).rowArrays).toEqual([[10]])
    // DO NOTHING touches nothing, so a second match is fine.
    expect((await db.query('MERGE INTO target t USING source s ON t.tid = s.sid WHEN MATCHED THEN DO NOTHING')).commandTag).toBe('MERGE 0')
    expect(await sqlState(db, 'MERGE INTO target t USING source s ON t.tid = s.sid WHEN NOT MATCHED THEN INSERT VALUES (s.sid, t.balance)')).toBe('42P01')
    expect(await sqlState(db, 'MERGE INTO target t USING source s ON t.tid = s.sid WHEN MATCHED THEN DELETE WHEN MATCHED AND s.delta > 1 THEN DELETE')).toBe('42601')
  })
})
