import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

async function rows(sql: string): Promise<unknown[][]> {
  return (await db!.query(sql)).rowArrays
}

describe('secondary indexes kept current by updates', () => {
  it('an UPDATE of other columns leaves the row findable by its indexed values; one of an indexed column moves it', async () => {
    db = await openDatabase({ nodeId: 'si1' })
    // As pgbench builds its tables: the key added after the rows, plus an index on another column.
    await db.query('CREATE TABLE acc (aid int NOT NULL, bid int, abalance int, n numeric)')
    await db.query('INSERT INTO acc SELECT g, g % 10, 0, 1.0 FROM generate_series(1, 200) g')
    await db.query('ALTER TABLE acc ADD PRIMARY KEY (aid)')
    await db.query('CREATE INDEX acc_bid ON acc (bid)')
    await db.query('CREATE INDEX acc_n ON acc (n)')
    // Built on first use, then kept current by the writes below.
    expect(await rows('SELECT abalance FROM acc WHERE aid = 7')).toEqual([[0]])
    expect(await rows('SELECT count(*) FROM acc WHERE bid = 7')).toEqual([['20']])
    expect(await rows('SELECT count(*) FROM acc WHERE n = 1')).toEqual([['200']])

    for (let i = 0; i < 3; i++) await db.query('UPDATE acc SET abalance = abalance + 5 WHERE aid = 7')
    expect(await rows('SELECT abalance FROM acc WHERE aid = 7')).toEqual([[15]])
    expect(await rows('SELECT aid FROM acc WHERE bid = 7 AND abalance > 0')).toEqual([[7]])

    // An indexed value rewritten as an equal one: the row stays found, with its new text.
    await db.query('UPDATE acc SET n = 1.00 WHERE aid = 3')
    expect(await rows('SELECT aid, n FROM acc WHERE n = 1 AND aid = 3')).toEqual([[3, '1.00']])
    expect(await rows('SELECT count(*) FROM acc WHERE n = 1')).toEqual([['200']])

    // The indexed column changes: found under the new value only.
    await db.query('UPDATE acc SET bid = 99 WHERE aid = 8')
    expect(await rows('SELECT aid FROM acc WHERE bid = 99')).toEqual([[8]])
    expect(await rows('SELECT count(*) FROM acc WHERE bid = 8')).toEqual([['19']])
    expect(await rows('SELECT aid FROM acc WHERE bid >= 98 AND bid <= 100')).toEqual([[8]])

    // The key changes: found under the new key only.
    await db.query('UPDATE acc SET aid = 1000 WHERE aid = 9')
    expect(await rows('SELECT aid, bid FROM acc WHERE aid = 9')).toEqual([])
    expect(await rows('SELECT aid, bid FROM acc WHERE aid = 1000')).toEqual([[1000, 9]])
    expect(await rows('SELECT aid FROM acc WHERE bid = 9 ORDER BY aid')).toEqual([[19], [29], [39], [49], [59], [69], [79], [89], [99], [109], [119], [129], [139], [149], [159], [169], [179], [189], [199], [1000]])

    // An indexed column set to NULL leaves the index; set again, it returns.
    await db.query('UPDATE acc SET bid = NULL WHERE aid = 1000')
    expect(await rows('SELECT count(*) FROM acc WHERE bid = 9')).toEqual([['19']])
    await db.query('UPDATE acc SET bid = 9 WHERE aid = 1000')
    expect(await rows('SELECT count(*) FROM acc WHERE bid = 9')).toEqual([['20']])
  })
})
