import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CATALOG_SHARD, parseShardId } from '@concord/core'
import { openDatabase, type Database } from '../database.js'
import { ENGINE_GONE, OffloadEngineHost } from '../offloaded-statement.js'
import { fill, keptEngineOffloader, run, slow } from './offload-test.fixture.js'
import { MAX_OFFLOAD_ROWS, SLICED_FROM_ROWS, type OffloadRequest } from './statement-offload.js'

// A worker keeps its engine between moved statements: later requests carry only what the
// engine lacks (offloaded-statement.ts, docs/decisions/0031-statement-offload.md).

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})
afterAll(async () => {
  await db.close()
})

/** Tables whose state a request carries, and how. */
function carried(request: OffloadRequest): Array<[string, string]> {
  return request.shards.map((s) => [s.shard === CATALOG_SHARD ? 'catalog' : parseShardId(s.shard)?.table ?? s.shard, s.kind] as [string, string]).sort()
}

describe('a moved statement on the engine its worker kept', () => {
  it('carries only the changes since the last one (nothing when there are none) and answers as on the event loop', async () => {
    await fill(db, 'kept')
    const off = keptEngineOffloader()
    const q = `SELECT count(*), sum(v), min(note), max(id), sum(k) FROM kept WHERE ${slow('k < 500')}`
    expect(await run(db, q, off)).toEqual(await run(db, q, undefined))
    const first = off.requests[0]!
    expect(first.engine).toMatchObject({ fresh: true })
    expect(carried(first)).toEqual([['catalog', 'full'], ['kept', 'full']])

    // Inserted, updated and deleted rows, by this node and as a peer's would be.
    await db.query("INSERT INTO kept SELECT g, g % 1000, 1, 'n' || g FROM generate_series(30001, 30100) g")
    await db.query('UPDATE kept SET v = 5, note = note || \'!\' WHERE id <= 50')
    await db.query('DELETE FROM kept WHERE id BETWEEN 100 AND 199')
    expect(await run(db, q, off)).toEqual(await run(db, q, undefined))
    const second = off.requests[1]!
    expect(second.engine).toMatchObject({ fresh: false, id: first.engine!.id + 1 })
    expect(carried(second)).toEqual([['kept', 'diff']])
    expect(second.engine!.bytes).toBeLessThan(first.engine!.bytes / 20)

    // Nothing changed: nothing is sent, and the answer is the same.
    const again = await run(db, q, off)
    expect(again).toEqual(await run(db, q, undefined))
    expect(off.requests[2]!.shards).toEqual([])
    expect(off.replies.every((r) => r.ok)).toBe(true)
  })

  it('an UPDATE and a DELETE find their rows on the kept engine too, sent only what changed', async () => {
    await fill(db, 'kept_w_on')
    await fill(db, 'kept_w_off')
    const off = keptEngineOffloader()
    await run(db, `SELECT count(*) FROM kept_w_on WHERE ${slow('k < 10')}`, off)
    const statements = [`UPDATE {t} SET v = v + 1 WHERE ${slow('k = 7')} RETURNING id, v`, `DELETE FROM {t} WHERE ${slow("note LIKE '%77x'")}`]
    for (const sql of statements) {
      expect(await run(db, sql.replace('{t}', 'kept_w_on'), off)).toEqual(await run(db, sql.replace('{t}', 'kept_w_off'), undefined))
    }
    expect(off.requests.slice(1).map((r) => [r.targetKeys?.table, r.engine?.fresh, carried(r)])).toEqual([
      ['kept_w_on', false, []],
      ['kept_w_on', false, [['kept_w_on', 'diff']]],
    ])
    const contents = async (t: string) => (await db.query(`SELECT id, k, v, note FROM ${t} ORDER BY id`)).rowArrays
    expect(await contents('kept_w_on')).toEqual(await contents('kept_w_off'))
  })

  it('follows the catalog: a column added, a table created, dropped and created again', async () => {
    await fill(db, 'kept_ddl')
    const off = keptEngineOffloader()
    await run(db, `SELECT count(*) FROM kept_ddl WHERE ${slow('k < 10')}`, off)
    await db.query('ALTER TABLE kept_ddl ADD COLUMN w INT DEFAULT 3')
    await db.query('UPDATE kept_ddl SET w = 4 WHERE id < 100')
    const withColumn = `SELECT sum(w), count(*) FROM kept_ddl WHERE ${slow('k < 10')}`
    expect(await run(db, withColumn, off)).toEqual(await run(db, withColumn, undefined))
    expect(off.requests[1]!.engine).toMatchObject({ fresh: false })
    expect(carried(off.requests[1]!)).toEqual([['catalog', 'diff'], ['kept_ddl', 'diff']])

    const joined = `SELECT count(*), sum(u.id) FROM kept_ddl JOIN kept_u u USING (k) WHERE ${slow('kept_ddl.id < 5000')}`
    for (const rows of ['1, 7), (2, 8', '3, 7), (4, 9), (5, 11']) {
      await db.query('DROP TABLE IF EXISTS kept_u')
      await db.query('CREATE TABLE kept_u (id INT PRIMARY KEY, k INT)')
      await db.query(`INSERT INTO kept_u VALUES (${rows})`)
      expect(await run(db, joined, off)).toEqual(await run(db, joined, undefined))
    }
    // Both runs of the join on the kept engine, the new incarnation sent whole.
    expect(off.requests.slice(2).map((r) => [r.engine?.fresh, carried(r)])).toEqual([
      [false, [['catalog', 'diff'], ['kept_u', 'full']]],
      [false, [['catalog', 'diff'], ['kept_u', 'full']]],
    ])
    const incarnations = off.requests.slice(2).map((r) => r.shards.find((s) => parseShardId(s.shard)?.table === 'kept_u')!.shard)
    expect(new Set(incarnations).size).toBe(2)
    expect((await run(db, joined, undefined)).rowArrays).toEqual([['15', '60']])
  })

  it('a shard compacted into a new generation starts the engine afresh', async () => {
    await fill(db, 'kept_gen')
    const off = keptEngineOffloader()
    const q = `SELECT count(*), max(note) FROM kept_gen WHERE ${slow('k > 3')}`
    await run(db, q, off)
    await db.query('DELETE FROM kept_gen WHERE id < 1000')
    const shard = [...db.replica.shards.values()].find((s) => s.viewName() === 'kept_gen')!
    db.replica.compactShard(shard)
    expect(await run(db, q, off)).toEqual(await run(db, q, undefined))
    expect(off.requests.map((r) => r.engine?.fresh)).toEqual([true, true])
  })

  it("a transaction block's carried writes do not stay on the engine", async () => {
    await fill(db, 'kept_block')
    const off = keptEngineOffloader()
    const q = `SELECT count(*), sum(v) FROM kept_block WHERE ${slow('k >= 0')}`
    const session = db.session({ offloader: off })
    await session.query("SET offload_after = '1ms'")
    await session.query('BEGIN')
    await session.query("INSERT INTO kept_block SELECT g, 1, 2, 'b' FROM generate_series(50001, 50010) g")
    await session.query('UPDATE kept_block SET v = 7 WHERE id = 1')
    expect((await session.query(q)).rowArrays).toEqual([['20010', '27']])
    await session.query('ROLLBACK')
    expect((await session.query(q)).rowArrays).toEqual([['20000', '0']])
    await session.close()
    expect(off.requests.map((r) => [r.engine?.fresh, r.carried !== undefined])).toEqual([
      [true, true],
      [false, false],
    ])
  })

  it('a table sent in slices with too little room left beside what the engine holds goes to a fresh engine', async () => {
    const off = keptEngineOffloader()
    const tables = ['kept_room_a', 'kept_room_b']
    for (const t of tables) {
      await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, k INT)`)
      await db.query(`INSERT INTO ${t} SELECT g, g % 1000 FROM generate_series(1, 60000) g`)
    }
    const q = (t: string) => `SELECT count(*), sum(k) FROM ${t} WHERE ${slow('k < 900', 'k::text')}`
    expect(await run(db, q('kept_room_a'), off)).toEqual(await run(db, q('kept_room_a'), undefined))
    // Room for one of the tables, not both.
    off.record.maxBytes = Math.floor(off.record.bytes * 1.5)
    const sent = off.requests.length
    expect(await run(db, q('kept_room_b'), off)).toEqual(await run(db, q('kept_room_b'), undefined))
    const after = off.requests.slice(sent)
    // Slices onto the kept engine until it was full, then the catalog to a fresh one and the table again, then the statement.
    const fresh = after.findIndex((r) => r.engine?.fresh === true)
    expect(fresh).toBeGreaterThan(0)
    expect(carried(after[fresh]!)).toEqual([['catalog', 'full']])
    expect(after.slice(fresh + 1, -1).every((r) => r.applyOnly === true && carried(r).join() === 'kept_room_b,diff')).toBe(true)
    expect(after.at(-1)!.applyOnly).toBeUndefined()
    expect([...off.record.held.keys()].map((id) => parseShardId(id)?.table ?? 'catalog').sort()).toEqual(['catalog', 'kept_room_b'])

    // No room even on a fresh engine: it runs here, and the next statement over as many rows is not sliced again.
    off.record.maxBytes = 64 * 1024
    const before = off.requests.length
    expect(await run(db, q('kept_room_a'), off)).toEqual(await run(db, q('kept_room_a'), undefined))
    expect(off.requests.slice(before).every((r) => r.applyOnly === true)).toBe(true)
    const next = off.requests.length
    expect(await run(db, q('kept_room_a'), off)).toEqual(await run(db, q('kept_room_a'), undefined))
    // Taken whole at its point (60,000 rows, within one snapshot's bound): one request, to a fresh engine.
    expect(off.requests.slice(next).map((r) => [r.applyOnly === true, r.engine?.fresh, carried(r)])).toEqual([[false, true, [['catalog', 'full'], ['kept_room_a', 'full']]]])
  })

  it('an UPDATE over a table no engine holds, past SLICED_FROM_ROWS, sends it in slices first; writes made meanwhile and after the snapshot are seen', async () => {
    const rows = SLICED_FROM_ROWS + 10_000
    for (const t of ['kept_sw_on', 'kept_sw_off']) {
      await db.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, k INT, v INT)`)
      await db.query(`INSERT INTO ${t} SELECT g, g % 1000, 0 FROM generate_series(1, ${rows}) g`)
    }
    // Other clients' writes: one while the table is on its way, one after the snapshot
    // (while the worker finds the rows). The twin gets the same before its statement.
    const during = (t: string) => `UPDATE ${t} SET k = 7 WHERE id <= 20`
    const after = (t: string) => `UPDATE ${t} SET k = 7 WHERE id BETWEEN 21 AND 30`
    const other = db.session()
    let slices = 0
    const off = keptEngineOffloader(64 * 1024 * 1024, async (request) => {
      if (request.applyOnly === true && request.shards.some((x) => parseShardId(x.shard)?.table === 'kept_sw_on') && ++slices === 2) await other.query(during('kept_sw_on'))
      // The write's own request (the slices carry its targetKeys too, but only apply).
      if (request.targetKeys !== undefined && request.applyOnly !== true) await other.query(after('kept_sw_on'))
    })
    const update = (t: string) => `UPDATE ${t} SET v = v + 1 WHERE ${slow('k = 7', 'k::text')}`
    const moved = await run(db, update('kept_sw_on'), off)
    await db.query(during('kept_sw_off'))
    await db.query(after('kept_sw_off'))
    const here = await run(db, update('kept_sw_off'), undefined)
    expect(moved.rowCount).toBe(here.rowCount)
    // The 60 rows of k = 7, and 29 more the other client set to 7 (ids 1 to 30 but 7).
    expect(moved.rowCount).toBe(rows / 1000 + 29)
    const contents = async (t: string) => (await db.query(`SELECT id, k, v FROM ${t} ORDER BY id`)).rowArrays
    expect(await contents('kept_sw_on')).toEqual(await contents('kept_sw_off'))
    await other.close()
    // The catalog to an engine that held nothing, the table in slices, then the write's request, onto the kept engine.
    const applied = off.requests.filter((r) => r.applyOnly === true)
    expect(applied[0]!.engine).toMatchObject({ fresh: true })
    expect(applied.length).toBeGreaterThan(2)
    expect(applied.slice(1).every((r) => carried(r).join() === 'kept_sw_on,diff')).toBe(true)
    const statement = off.requests.at(-1)!
    expect(statement.applyOnly).toBeUndefined()
    expect(statement.targetKeys?.table).toBe('kept_sw_on')
    expect(statement.engine).toMatchObject({ fresh: false })
    expect(off.replies.every((r) => r.ok)).toBe(true)
  }, 120_000)

  it('an engine sent a shard in another generation than it holds refuses it (ENGINE_GONE), and holds nothing after', async () => {
    await fill(db, 'kept_other')
    const off = keptEngineOffloader()
    await run(db, `SELECT count(*) FROM kept_other WHERE ${slow('k < 10')}`, off)
    const first = off.requests[0]!
    const cut = first.shards.find((s) => parseShardId(s.shard)?.table === 'kept_other')!
    const other = { ...first, shards: [{ ...cut, generation: cut.generation + 1 }], engine: { id: off.record.id, fresh: false, states: [], bytes: 0 } }
    const reply = await off.host.run(structuredClone(other), () => false)
    expect(!reply.ok && reply.error.message.startsWith(ENGINE_GONE)).toBe(true)
    const again = await off.host.run({ ...structuredClone(first), shards: [], engine: { id: off.record.id, fresh: false, states: [], bytes: 0 } }, () => false)
    expect(!again.ok && again.error.message.startsWith(ENGINE_GONE)).toBe(true)
  })

  it('a request for an engine the worker does not hold fails with ENGINE_GONE (the offloader then runs it on the event loop)', async () => {
    await fill(db, 'kept_gone')
    const off = keptEngineOffloader()
    await run(db, `SELECT count(*) FROM kept_gone WHERE ${slow('k < 10')}`, off)
    const host = new OffloadEngineHost()
    try {
      const request = { ...off.requests[0]!, shards: [], engine: { id: 99, fresh: false, states: [], bytes: 0 } }
      const reply = await host.run(request, () => false)
      expect(reply.ok).toBe(false)
      expect(!reply.ok && reply.error.message.startsWith(ENGINE_GONE)).toBe(true)
    } finally {
      await host.close()
    }
  })

  it('a SELECT over more rows than one snapshot may hold sends the table to the engine in slices first, writes made meanwhile included', async () => {
    const rows = MAX_OFFLOAD_ROWS + 10_000
    await db.query('CREATE TABLE kept_big (id INT PRIMARY KEY, k INT)')
    for (let i = 0; i < rows; i += 50_000) await db.query(`INSERT INTO kept_big SELECT g, g % 1000 FROM generate_series(${i + 1}, ${Math.min(rows, i + 50_000)}) g`)
    const other = db.session()
    let slices = 0
    const off = keptEngineOffloader(64 * 1024 * 1024, async (request) => {
      // Other clients write while the table is on its way.
      if (request.applyOnly === true && request.shards.some((s) => parseShardId(s.shard)?.table === 'kept_big') && ++slices === 2) {
        await other.query('UPDATE kept_big SET k = k + 1 WHERE id <= 1000')
        await other.query('DELETE FROM kept_big WHERE id > 200000 AND id <= 200500')
        await other.query('INSERT INTO kept_big VALUES (-1, 7)')
      }
    })
    const q = `SELECT count(*), sum(k), min(id) FROM kept_big WHERE ${slow('k < 600', 'k::text')}`
    const moved = await run(db, q, off)
    expect(moved).toEqual(await run(db, q, undefined))
    expect(moved.rowArrays[0]![2]).toBe(-1)
    const applied = off.requests.filter((r) => r.applyOnly === true)
    // The catalog first (the engine held nothing), then the table's slices, the last one recording it held.
    expect(applied[0]!.engine).toMatchObject({ fresh: true })
    expect(carried(applied[0]!)).toEqual([['catalog', 'full']])
    const sliceRequests = applied.slice(1)
    expect(sliceRequests.length).toBeGreaterThan(5)
    expect(sliceRequests.every((r) => carried(r).join() === 'kept_big,diff')).toBe(true)
    expect(sliceRequests.map((r) => r.engine!.states.length)).toEqual([...sliceRequests.slice(1).map(() => 0), 1])
    // The statement itself: only what changed since slicing began.
    const statement = off.requests.at(-1)!
    expect(statement.applyOnly).toBeUndefined()
    expect(statement.engine).toMatchObject({ fresh: false })
    expect(statement.engine!.bytes).toBeLessThan(200_000)
    expect(off.replies.every((r) => r.ok)).toBe(true)
    await other.close()

    // An INSERT .. SELECT over the table the engine holds moves too (before: past its 200,000-row bound), its snapshot a diff.
    await db.query('CREATE TABLE kept_big_on (id INT PRIMARY KEY, k INT)')
    await db.query('CREATE TABLE kept_big_off (id INT PRIMARY KEY, k INT)')
    const insert = (t: string) => `INSERT INTO ${t} SELECT id, k FROM kept_big WHERE ${slow('k = 7', 'k::text')}`
    const before = off.requests.length
    expect(await run(db, insert('kept_big_on'), off)).toEqual(await run(db, insert('kept_big_off'), undefined))
    expect(off.requests.slice(before).map((r) => [r.insertRows?.table, r.engine?.fresh, carried(r)])).toEqual([['kept_big_on', false, [['catalog', 'diff']]]])
    const rowsOf = async (t: string) => (await db.query(`SELECT id, k FROM ${t} ORDER BY id`)).rowArrays
    expect(await rowsOf('kept_big_on')).toEqual(await rowsOf('kept_big_off'))
    expect((await rowsOf('kept_big_on')).length).toBe(210)

    // Compacted into a new generation (another document): sent again, to a fresh engine.
    await db.query('DELETE FROM kept_big WHERE id <= 100')
    db.replica.compactShard([...db.replica.shards.values()].find((s) => s.viewName() === 'kept_big')!)
    const sent = off.requests.length
    expect(await run(db, q, off)).toEqual(await run(db, q, undefined))
    const after = off.requests.slice(sent)
    expect(after[0]).toMatchObject({ applyOnly: true, engine: { fresh: true } })
    expect(carried(after[0]!)).toEqual([['catalog', 'full']])
    expect(after.length).toBeGreaterThan(5)
    expect(off.replies.slice(sent).every((r) => r.ok)).toBe(true)
  }, 120_000)
})
