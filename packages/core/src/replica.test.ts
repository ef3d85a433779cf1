import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Replica } from './replica.js'
import { Simulation } from './sim/simulation.js'
import { MemoryStorage } from './storage/memory-storage.js'
import { encodeMessage, MessageType } from './replication/messages.js'
import type { RowChange, TableSpec, Value } from './types.js'
import type { Transaction } from './api.js'
import { shardId } from './placement/shard-id.js'
import { SHARD_PLACEMENT_KIND } from './placement/shard-placement.js'

const products: TableSpec = {
  name: 'products',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'text' },
    { name: 'price', type: 'numeric' },
  ],
  primaryKey: ['id'],
}

async function cluster(ids: string[], seed = 1, table: TableSpec = products, resolvers?: Record<string, (a: Value, b: Value) => Value>) {
  const sim = new Simulation({ seed })
  for (const id of ids) await sim.addNode({ id, options: resolvers ? { resolvers } : {} })
  sim.replica(ids[0]!).transact((tx) => tx.createTable(table))
  await sim.settle()
  return sim
}

const rows = (r: Replica, t = 'products') => [...r.scan(t)].sort((a, b) => Number(a.id) - Number(b.id))

describe('replica: rows and merge', () => {
  it('concurrent inserts of one key merge per column', async () => {
    const sim = await cluster(['a', 'b'])
    sim.partition(['a'], ['b'])
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, name: 'Widget' }))
    sim.replica('b').transact((tx) => tx.insert('products', { id: 1, price: '99.99' }))
    sim.heal()
    await sim.settle()
    const expected = [{ id: 1, name: 'Widget', price: '99.99' }]
    expect(rows(sim.replica('a'))).toEqual(expected)
    expect(rows(sim.replica('b'))).toEqual(expected)
  })

  for (const firstToDeliver of ['earlier writer', 'later writer']) {
    it(`the later wall-clock write wins after a partition, whichever side delivers first (${firstToDeliver} first)`, async () => {
      const sim = await cluster(['a', 'b', 'c'])
      sim.replica('a').transact((tx) => tx.insert('products', { id: 1, price: '1.00' }))
      await sim.settle()
      sim.partition(['a'], ['b'], ['c'])
      sim.replica('a').transact((tx) => tx.update('products', [1], { price: '10.00' }))
      await sim.advance(1000)
      sim.replica('b').transact((tx) => tx.update('products', [1], { price: '20.00' }))
      // c hears one side first, then everybody.
      if (firstToDeliver === 'earlier writer') sim.partition(['a', 'c'], ['b'])
      else sim.partition(['b', 'c'], ['a'])
      await sim.settle()
      sim.heal()
      await sim.settle()
      for (const id of ['a', 'b', 'c']) expect(sim.replica(id).get('products', [1])?.price).toBe('20.00')
    })
  }

  it('first_write_wins keeps the earliest of concurrent writes', async () => {
    const sim = await cluster(['a', 'b'], 2, { ...products, policy: 'first_write_wins' })
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, price: '1.00' }))
    await sim.settle()
    sim.partition(['a'], ['b'])
    sim.replica('a').transact((tx) => tx.update('products', [1], { price: 'early' }))
    await sim.advance(500)
    sim.replica('b').transact((tx) => tx.update('products', [1], { price: 'late' }))
    sim.heal()
    await sim.settle()
    expect(sim.replica('a').get('products', [1])?.price).toBe('early')
    expect(sim.replica('b').get('products', [1])?.price).toBe('early')
  })

  it('a write that has seen the current value supersedes it under every policy', async () => {
    const sim = await cluster(['a', 'b'], 3, { ...products, policy: 'first_write_wins' })
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, price: 'first' }))
    await sim.settle()
    await sim.advance(100)
    sim.replica('b').transact((tx) => tx.update('products', [1], { price: 'second' }))
    await sim.settle()
    expect(sim.replica('a').get('products', [1])?.price).toBe('second')
  })

  it('custom resolvers see every concurrent value and all replicas agree', async () => {
    const max = (a: Value, b: Value) => (Number(a) > Number(b) ? a : b)
    const sim = await cluster(['a', 'b', 'c'], 4, { ...products, policy: { custom: 'max' } }, { max })
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, price: 5 }))
    await sim.settle()
    sim.partition(['a'], ['b'], ['c'])
    sim.replica('a').transact((tx) => tx.update('products', [1], { price: 30 }))
    await sim.advance(10)
    sim.replica('b').transact((tx) => tx.update('products', [1], { price: 70 }))
    await sim.advance(10)
    sim.replica('c').transact((tx) => tx.update('products', [1], { price: 50 }))
    sim.heal()
    await sim.settle()
    for (const id of ['a', 'b', 'c']) expect(sim.replica(id).get('products', [1])?.price).toBe(70)
    // a later write supersedes the whole concurrent set, even with a smaller value
    sim.replica('c').transact((tx) => tx.update('products', [1], { price: 1 }))
    await sim.settle()
    for (const id of ['a', 'b', 'c']) expect(sim.replica(id).get('products', [1])?.price).toBe(1)
  })

  it('counter columns add up concurrent increments', async () => {
    const counters: TableSpec = { name: 'c', columns: [{ name: 'id', type: 'int' }, { name: 'n', type: 'bigint', kind: 'counter' }], primaryKey: ['id'] }
    const sim = await cluster(['a', 'b', 'c'], 5, counters)
    sim.replica('a').transact((tx) => tx.insert('c', { id: 1, n: 10n }))
    await sim.settle()
    sim.partition(['a'], ['b'], ['c'])
    sim.replica('a').transact((tx) => tx.increment('c', [1], 'n', 5n))
    sim.replica('b').transact((tx) => tx.increment('c', [1], 'n', 7n))
    sim.replica('b').transact((tx) => tx.increment('c', [1], 'n', 1n))
    sim.replica('c').transact((tx) => tx.increment('c', [1], 'n', -2n))
    sim.heal()
    await sim.settle()
    for (const id of ['a', 'b', 'c']) expect(sim.replica(id).get('c', [1])?.n).toBe(21n)
    // setting a counter sets the total
    sim.replica('b').transact((tx) => tx.update('c', [1], { n: 100n }))
    await sim.settle()
    for (const id of ['a', 'b', 'c']) expect(sim.replica(id).get('c', [1])?.n).toBe(100n)
  })

  it('a register converted to a counter keeps its values; writes made concurrently under the old kind still count', async () => {
    const stock: TableSpec = { name: 's', columns: [{ name: 'id', type: 'int' }, { name: 'n', type: 'int' }], primaryKey: ['id'] }
    const sim = await cluster(['a', 'b', 'c'], 8, stock)
    sim.replica('a').transact((tx) => tx.insert('s', { id: 1, n: 10 }))
    sim.replica('b').transact((tx) => tx.insert('s', { id: 2, n: 20 }))
    await sim.settle()
    sim.replica('c').transact((tx) => tx.update('s', [1], { n: 11 })) // a second writer of the register
    await sim.settle()
    sim.partition(['a', 'b'], ['c'])
    sim.replica('a').transact((tx) => tx.alterColumn('s', 'n', { kind: 'counter' }))
    await sim.settle()
    for (const id of ['a', 'b']) expect(rows(sim.replica(id), 's')).toEqual([{ id: 1, n: 11 }, { id: 2, n: 20 }])
    sim.replica('a').transact((tx) => tx.increment('s', [1], 'n', 5))
    sim.replica('b').transact((tx) => tx.increment('s', [1], 'n', 1))
    sim.replica('b').transact((tx) => tx.update('s', [2], { n: 50 })) // sets the total
    // c has not seen the conversion: it writes the register (row 1) and re-inserts nothing.
    sim.replica('c').transact((tx) => tx.update('s', [1], { n: 100 }))
    sim.heal()
    await sim.settle()
    for (const id of ['a', 'b', 'c']) expect(rows(sim.replica(id), 's')).toEqual([{ id: 1, n: 106 }, { id: 2, n: 50 }])
    // Back to a register: the value stays until someone writes it.
    sim.replica('c').transact((tx) => tx.alterColumn('s', 'n', { kind: 'register' }))
    await sim.settle()
    for (const id of ['a', 'b', 'c']) expect(rows(sim.replica(id), 's')).toEqual([{ id: 1, n: 106 }, { id: 2, n: 50 }])
    sim.replica('a').transact((tx) => tx.update('s', [2], { n: 7 }))
    await sim.settle()
    for (const id of ['a', 'b', 'c']) expect(rows(sim.replica(id), 's')).toEqual([{ id: 1, n: 106 }, { id: 2, n: 7 }])
  })

  it('an open transaction applies nothing until commit; rollbackTo restores its writes; a table created again in it starts empty', async () => {
    const sim = await cluster(['a'])
    const r = sim.replica('a')
    r.transact((tx) => tx.insert('products', { id: 1, name: 'one' }))
    const tx = r.begin()
    tx.insert('products', { id: 2, name: 'two' })
    const mark = tx.savepoint()
    tx.update('products', [1], { name: 'uno' })
    tx.delete('products', [2])
    expect(tx.writtenKeys('products')).toEqual([[2], [1]])
    tx.rollbackTo(mark)
    expect(rows(r)).toEqual([{ id: 1, name: 'one', price: null }])
    expect([...tx.scan('products')].map((x) => x.name).sort()).toEqual(['one', 'two'])
    tx.dropTable('products')
    tx.createTable(products)
    expect([...tx.scan('products')]).toEqual([])
    tx.insert('products', { id: 3, name: 'three' })
    tx.commit()
    expect(rows(r)).toEqual([{ id: 3, name: 'three', price: null }])
  })

  it('a transaction that has written nothing holds nothing of another; a savepoint taken before its first write undoes them all', async () => {
    const sim = await cluster(['a'])
    const r = sim.replica('a')
    r.transact((tx) => tx.insert('products', { id: 1, name: 'one' }))
    const reader = r.begin()
    const writer = r.begin()
    const mark = writer.savepoint()
    expect([...reader.scan('products')].map((x) => x.name)).toEqual(['one'])
    writer.insert('products', { id: 2, name: 'two' })
    writer.update('products', [1], { name: 'uno' })
    // The other transaction, which wrote nothing, sees none of it.
    expect(reader.writtenKeys('products')).toEqual([])
    expect([...reader.scan('products')].map((x) => x.name)).toEqual(['one'])
    writer.rollbackTo(mark)
    expect(writer.writtenKeys('products')).toEqual([])
    expect([...writer.scan('products')].map((x) => x.name)).toEqual(['one'])
    // Writes after the rollback are its own, and commit.
    writer.insert('products', { id: 3, name: 'three' })
    reader.insert('products', { id: 4, name: 'four' })
    expect(writer.writtenKeys('products')).toEqual([[3]])
    expect(reader.writtenKeys('products')).toEqual([[4]])
    writer.commit()
    reader.commit()
    expect(rows(r).map((x) => x['name']).sort()).toEqual(['four', 'one', 'three'])
  })

  it("an open transaction's row writes, carried to another transaction over the same rows, read there as here", async () => {
    const sim = await cluster(['a'])
    for (const id of [1, 2, 3]) sim.replica('a').transact((tx) => tx.insert('products', { id, name: `p${id}`, price: '1.00' }))
    const tx = sim.replica('a').begin()
    expect(tx.carryRows(new Set(['products']), 10)).toEqual({ tables: [] })
    tx.insert('products', { id: 4, name: 'four' })
    tx.update('products', [1], { price: '2.00' })
    tx.delete('products', [2])
    const carried = tx.carryRows(new Set(['products']), 10)!
    expect(carried.tables.map((t) => t.rows.length)).toEqual([3])
    // Plain data: it crosses a thread as it is.
    const there = sim.replica('a').begin(structuredClone(carried))
    const read = (t: typeof tx) => [...t.scan('products')].sort((x, y) => Number(x.id) - Number(y.id))
    expect(read(there)).toEqual(read(tx))
    expect(there.get('products', [2])).toBeUndefined()
    expect(there.writtenKeys('products')).toEqual(tx.writtenKeys('products'))
    // Tables not asked for are left out; past the bound, or with DDL or other catalog writes, nothing is carried.
    expect(tx.carryRows(new Set(['other']), 10)).toEqual({ tables: [] })
    expect(tx.carryRows(new Set(['products']), 2)).toBeNull()
    const mark = tx.savepoint()
    tx.addColumn('products', { name: 'extra', type: 'int' })
    expect(tx.carryRows(new Set(['products']), 10)).toBeNull()
    tx.rollbackTo(mark)
    tx.setCatalog('setting', 'x', 'y')
    expect(tx.carryRows(new Set(['products']), 10)).toBeNull()
    // What does not fit the replica's catalog is refused.
    const row = carried.tables[0]!.rows[0]!
    for (const bad of [
      { tables: [{ table: 'nowhere', rows: [row] }] },
      { tables: [{ table: 'products', rows: [{ ...row, keyValues: [1, 2] }] }] },
      { tables: [{ table: 'products', rows: [{ ...row, cols: [['nope', 1]] as Array<[string, Value]> }] }] },
      { tables: [{ table: 'products', rows: [row, row] }] },
    ]) expect(() => sim.replica('a').begin(bad)).toThrow(/does not (exist|fit)/)
  })

  it('a change an open transaction made to a row deleted before it commits loses to the delete', async () => {
    const sim = await cluster(['a', 'b'])
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, name: 'one' }))
    sim.replica('a').transact((tx) => tx.insert('products', { id: 2, name: 'two' }))
    await sim.settle()
    const tx = sim.replica('a').begin()
    tx.update('products', [1], { name: 'uno' })
    tx.update('products', [2], { name: 'dos' })
    sim.replica('b').transact((t) => t.delete('products', [1]))
    sim.replica('b').transact((t) => t.update('products', [2], { price: 2 }))
    await sim.settle()
    expect(tx.get('products', [1])).toBeUndefined()
    tx.commit()
    await sim.settle()
    for (const id of ['a', 'b']) expect(rows(sim.replica(id))).toEqual([{ id: 2, name: 'dos', price: 2 }])
  })

  it("a change an open transaction made to a row its shard's only writer deleted before it commits loses to the delete", async () => {
    const sim = await cluster(['a'])
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, name: 'one' }))
    const tx = sim.replica('a').begin()
    tx.update('products', [1], { name: 'uno' })
    sim.replica('a').transact((t) => t.delete('products', [1]))
    expect(tx.get('products', [1])).toBeUndefined()
    tx.commit()
    expect(rows(sim.replica('a'))).toEqual([])
  })

  it('text columns merge concurrent edits to different parts', async () => {
    const docs: TableSpec = { name: 'docs', columns: [{ name: 'id', type: 'int' }, { name: 'body', type: 'text', kind: 'text' }], primaryKey: ['id'] }
    const sim = await cluster(['a', 'b'], 6, docs)
    sim.replica('a').transact((tx) => tx.insert('docs', { id: 1, body: 'hello world' }))
    await sim.settle()
    sim.partition(['a'], ['b'])
    sim.replica('a').transact((tx) => tx.update('docs', [1], { body: 'Hello world' }))
    sim.replica('b').transact((tx) => tx.update('docs', [1], { body: 'hello world!' }))
    sim.heal()
    await sim.settle()
    expect(sim.replica('a').get('docs', [1])?.body).toBe('Hello world!')
    expect(sim.replica('b').get('docs', [1])?.body).toBe('Hello world!')
  })
})

describe('replica: deletes', () => {
  it('a delete wins over a concurrent update', async () => {
    const sim = await cluster(['a', 'b'], 7)
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, name: 'x', price: '1' }))
    await sim.settle()
    sim.partition(['a'], ['b'])
    sim.replica('a').transact((tx) => tx.delete('products', [1]))
    await sim.advance(1000)
    sim.replica('b').transact((tx) => tx.update('products', [1], { price: '2' }))
    sim.heal()
    await sim.settle()
    expect(sim.replica('a').get('products', [1])).toBeUndefined()
    expect(sim.replica('b').get('products', [1])).toBeUndefined()
  })

  it('an insert after a delete brings the row back with only the new values', async () => {
    const sim = await cluster(['a', 'b'], 8)
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, name: 'old', price: '1' }))
    await sim.settle()
    sim.replica('b').transact((tx) => tx.delete('products', [1]))
    await sim.settle()
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, name: 'new' }))
    await sim.settle()
    expect(sim.replica('b').get('products', [1])).toEqual({ id: 1, name: 'new', price: null })
  })

  it('concurrent deletes and a later re-insert converge', async () => {
    const sim = await cluster(['a', 'b', 'c'], 9)
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, name: 'x' }))
    await sim.settle()
    sim.partition(['a'], ['b'], ['c'])
    sim.replica('a').transact((tx) => tx.delete('products', [1]))
    sim.replica('b').transact((tx) => tx.delete('products', [1]))
    sim.heal()
    await sim.settle()
    sim.replica('c').transact((tx) => tx.insert('products', { id: 1, name: 'again' }))
    await sim.settle()
    for (const id of ['a', 'b', 'c']) expect(sim.replica(id).get('products', [1])?.name).toBe('again')
  })
})

describe('replica: transactions', () => {
  it('a transaction that throws leaves nothing behind', async () => {
    const r = await Replica.open({ nodeId: 'a' })
    r.transact((tx) => tx.createTable(products))
    r.transact((tx) => tx.insert('products', { id: 1, name: 'keep' }))
    expect(() =>
      r.transact((tx) => {
        tx.insert('products', { id: 2, name: 'gone' })
        tx.update('products', [1], { name: 'changed' })
        tx.insert('products', { id: 1, name: 'duplicate' })
      }),
    ).toThrow(expect.objectContaining({ condition: 'uniqueViolation' }))
    expect(rows(r)).toEqual([{ id: 1, name: 'keep', price: null }])
    await r.close()
  })

  it('the table list is one frozen array until a table is created, changed or dropped', async () => {
    const r = await Replica.open({ nodeId: 'a' })
    r.transact((tx) => tx.createTable(products))
    const first = r.tables()
    expect(Object.isFrozen(first)).toBe(true)
    r.transact((tx) => tx.insert('products', { id: 1, name: 'row writes leave it' }))
    expect(r.tables()).toBe(first)
    // A transaction that changes no table reads the same list.
    r.transact((tx) => expect(tx.tables()).toBe(first))
    r.transact((tx) => tx.createTable({ ...products, name: 'audit' }))
    const second = r.tables()
    expect(second).not.toBe(first)
    expect(second.map((t) => t.name)).toEqual(['audit', 'products'])
    r.transact((tx) => tx.addColumn('audit', { name: 'note', type: 'text' }))
    expect(r.tables()).not.toBe(second)
    expect(r.tables().find((t) => t.name === 'audit')?.columns.map((c) => c.name)).toContain('note')
    r.transact((tx) => tx.dropTable('audit'))
    expect(r.tables().map((t) => t.name)).toEqual(['products'])
    await r.close()
  })

  it('reads inside a transaction see its own writes, including DDL', async () => {
    const r = await Replica.open({ nodeId: 'a' })
    const seen = r.transact((tx) => {
      tx.createTable(products)
      tx.insert('products', { id: 1, name: 'a' })
      tx.update('products', [1], { price: '3' })
      tx.insert('products', { id: 2, name: 'b' })
      tx.delete('products', [2])
      return [...tx.scan('products')]
    })
    expect(seen).toEqual([{ id: 1, name: 'a', price: '3' }])
    expect(rows(r)).toEqual(seen)
    await r.close()
  })

  it('multi-table transactions apply together, locally and on peers', async () => {
    const sim = await cluster(['a', 'b'], 10)
    sim.replica('a').transact((tx) => tx.createTable({ ...products, name: 'audit' }))
    await sim.settle()
    const changes: RowChange[][] = []
    sim.replica('b').on('change', (c) => changes.push(c))
    sim.replica('a').transact((tx) => {
      tx.insert('products', { id: 1, name: 'p' })
      tx.insert('audit', { id: 1, name: 'inserted p' })
    })
    await sim.settle()
    expect(changes).toHaveLength(1)
    expect(changes[0]!.map((c) => c.table).sort()).toEqual(['audit', 'products'])
    expect(changes[0]!.every((c) => c.origin === 'remote')).toBe(true)
  })

  it('reports errors with named conditions (the SQL layer gives their SQLSTATE codes)', async () => {
    const r = await Replica.open({ nodeId: 'a' })
    expect(() => r.transact((tx) => tx.insert('nope', { id: 1 }))).toThrow(expect.objectContaining({ condition: 'undefinedTable' }))
    r.transact((tx) => tx.createTable(products))
    expect(() => r.transact((tx) => tx.createTable(products))).toThrow(expect.objectContaining({ condition: 'duplicateTable' }))
    expect(() => r.transact((tx) => tx.insert('products', { id: 1, bogus: 1 }))).toThrow(expect.objectContaining({ condition: 'undefinedColumn' }))
    expect(() => r.transact((tx) => tx.insert('products', { name: 'no key' }))).toThrow(expect.objectContaining({ condition: 'notNullViolation' }))
    await r.close()
  })
})

describe('replica: catalog', () => {
  it('a table created on one node appears on every node', async () => {
    const sim = await cluster(['a', 'b', 'c'], 11)
    for (const id of ['b', 'c']) expect(sim.replica(id).table('products')?.columns.map((c) => c.name)).toEqual(['id', 'name', 'price'])
  })

  it('concurrent CREATE TABLE of one name resolves to the same definition everywhere and keeps both sides rows', async () => {
    const sim = new Simulation({ seed: 12 })
    await sim.addNode({ id: 'a' })
    await sim.addNode({ id: 'b' })
    sim.partition(['a'], ['b'])
    sim.replica('a').transact((tx) => {
      tx.createTable({ name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'x', type: 'text' }], primaryKey: ['id'] })
      tx.insert('t', { id: 1, x: 'from a' })
    })
    await sim.advance(5)
    sim.replica('b').transact((tx) => {
      tx.createTable({ name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'y', type: 'text' }], primaryKey: ['id'] })
      tx.insert('t', { id: 2, y: 'from b' })
    })
    sim.heal()
    await sim.settle()
    const ta = sim.replica('a').table('t')
    expect(ta).toEqual(sim.replica('b').table('t'))
    expect(ta?.columns.map((c) => c.name).sort()).toEqual(['id', 'x', 'y'])
    expect(rows(sim.replica('a'), 't')).toEqual(rows(sim.replica('b'), 't'))
    expect(rows(sim.replica('a'), 't')).toHaveLength(2)
  })

  it('concurrent ADD COLUMN on two nodes keeps both columns', async () => {
    const sim = await cluster(['a', 'b'], 13)
    sim.partition(['a'], ['b'])
    sim.replica('a').transact((tx) => tx.addColumn('products', { name: 'color', type: 'text' }))
    sim.replica('b').transact((tx) => tx.addColumn('products', { name: 'weight', type: 'int' }))
    sim.heal()
    await sim.settle()
    for (const id of ['a', 'b']) expect(sim.replica(id).table('products')?.columns.map((c) => c.name)).toEqual(['id', 'name', 'price', 'color', 'weight'])
  })

  it('DROP and CREATE of a name starts an empty table, and a re-added column starts empty', async () => {
    const sim = await cluster(['a', 'b'], 14)
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, name: 'x', price: '9' }))
    await sim.settle()
    sim.replica('b').transact((tx) => {
      tx.dropColumn('products', 'price')
      tx.addColumn('products', { name: 'price', type: 'numeric' })
    })
    await sim.settle()
    expect(sim.replica('a').get('products', [1])).toEqual({ id: 1, name: 'x', price: null })
    sim.replica('b').transact((tx) => tx.dropTable('products'))
    await sim.settle()
    expect(sim.replica('a').table('products')).toBeUndefined()
    sim.replica('a').transact((tx) => tx.createTable(products))
    await sim.settle()
    expect(rows(sim.replica('b'))).toEqual([])
    expect(sim.replica('b').table('products')?.incarnation).toBe(3)
  })

  it('ALTER COLUMN rewrites a column in place, keeping its data, on every node', async () => {
    const sim = await cluster(['a', 'b'], 21)
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, price: '5' }))
    sim.replica('a').transact((tx) => tx.alterColumn('products', 'price', { type: 'numeric(10,2)', meta: { notNull: true }, policy: 'first_write_wins' }))
    await sim.settle()
    const col = sim.replica('b').table('products')?.columns.find((c) => c.name === 'price')
    expect(col).toEqual({ name: 'price', type: 'numeric(10,2)', kind: 'register', policy: 'first_write_wins', meta: { notNull: true } })
    expect(sim.replica('b').get('products', [1])?.price).toBe('5')
    expect(sim.replica('b').table('products')?.columns.map((c) => c.name)).toEqual(['id', 'name', 'price'])
  })

  it('generic catalog objects replicate, and the cluster default policy applies to tables without one', async () => {
    const sim = await cluster(['a', 'b'], 15)
    sim.replica('a').transact((tx) => {
      tx.setCatalog('setting', 'wal_level', 'replica')
      tx.setCatalog('policy', 'default', 'first_write_wins')
    })
    await sim.settle()
    expect(sim.replica('b').getCatalog('setting', 'wal_level')).toBe('replica')
    expect(sim.replica('b').listCatalog('setting')).toEqual([['wal_level', 'replica']])
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, price: '1' }))
    await sim.settle()
    sim.partition(['a'], ['b'])
    sim.replica('a').transact((tx) => tx.update('products', [1], { price: 'early' }))
    await sim.advance(100)
    sim.replica('b').transact((tx) => tx.update('products', [1], { price: 'late' }))
    sim.heal()
    await sim.settle()
    expect(sim.replica('b').get('products', [1])?.price).toBe('early')
  })
})

describe('replica: durability and replication', () => {
  it('restart from storage restores exactly the state it had', async () => {
    const storage = new MemoryStorage()
    const r = await Replica.open({ nodeId: 'a', storage })
    r.transact((tx) => tx.createTable(products))
    for (let i = 0; i < 50; i++) r.transact((tx) => tx.insert('products', { id: i, name: `p${i}`, price: String(i) }))
    r.transact((tx) => tx.delete('products', [3]))
    r.transact((tx) => tx.update('products', [4], { name: 'renamed' }))
    await r.durable()
    const before = rows(r)
    const catalog = r.tables()
    await r.close()
    const again = await Replica.open({ nodeId: 'a', storage })
    expect(rows(again)).toEqual(before)
    expect(again.tables()).toEqual(catalog)
    again.transact((tx) => tx.insert('products', { id: 100, name: 'after restart' }))
    expect(again.rowCount('products')).toBe(50)
  })

  it('a long storage log is compacted into a snapshot that restores the same state', async () => {
    const storage = new MemoryStorage()
    const r = await Replica.open({ nodeId: 'a', storage })
    r.transact((tx) => tx.createTable(products))
    // The first rewrite: at the 2,000th record the log's bytes stand for its state, due once
    // the records after reach half of them (~3,000 records of about one size).
    for (let i = 0; i < 3300; i++) r.transact((tx) => tx.upsert('products', { id: i % 300, name: `v${i}` }))
    await r.durable()
    const shard = storage.shards().find((s) => s !== 'catalog')!
    const records = storage.load(shard)
    expect(records[0]!.kind).toBe('snapshot')
    expect(records.length).toBeLessThan(600)
    const before = rows(r)
    await r.close()
    expect(rows(await Replica.open({ nodeId: 'a', storage }))).toEqual(before)
  })

  it('change events carry before, after and origin', async () => {
    const sim = await cluster(['a', 'b'], 16)
    const local: RowChange[] = []
    const remote: RowChange[] = []
    sim.replica('a').on('change', (c) => local.push(...c))
    sim.replica('b').on('change', (c) => remote.push(...c))
    sim.replica('a').transact((tx) => tx.insert('products', { id: 1, name: 'x' }))
    sim.replica('a').transact((tx) => tx.update('products', [1], { name: 'y' }))
    await sim.settle()
    expect(local.map((c) => [c.origin, c.before?.name ?? null, c.after?.name ?? null])).toEqual([
      ['local', null, 'x'],
      ['local', 'x', 'y'],
    ])
    expect(remote.every((c) => c.origin === 'remote')).toBe(true)
    expect(remote.at(-1)?.after?.name).toBe('y')
  })

  it('anti-entropy repairs everything gossip lost, sending diffs only for shards that differ', async () => {
    const sim = await cluster(['a', 'b'], 17)
    sim.replica('a').transact((tx) => tx.createTable({ ...products, name: 'quiet' }))
    sim.replica('a').transact((tx) => tx.insert('quiet', { id: 1, name: 'same everywhere' }))
    await sim.settle()
    sim.setFaults({ drop: 1 })
    for (let i = 0; i < 100; i++) sim.replica('a').transact((tx) => tx.insert('products', { id: i, name: `p${i}` }))
    expect(sim.replica('b').rowCount('products')).toBe(0)
    sim.setFaults({ drop: 0 })
    const diffsBefore = sim.replica('a').stats().diffsSent + sim.replica('b').stats().diffsSent
    await sim.settle()
    expect(sim.replica('b').rowCount('products')).toBe(100)
    const diffs = sim.replica('a').stats().diffsSent + sim.replica('b').stats().diffsSent - diffsBefore
    // only the products shard needed a diff; catalog and `quiet` matched by hash
    expect(diffs).toBeGreaterThanOrEqual(1)
    expect(diffs).toBeLessThanOrEqual(2)
  })

  it('a node that was down catches up on what it missed', async () => {
    const sim = await cluster(['a', 'b', 'c'], 18)
    sim.crash('c')
    for (let i = 0; i < 30; i++) sim.replica('a').transact((tx) => tx.insert('products', { id: i, name: `p${i}` }))
    await sim.settle()
    sim.replica('b').transact((tx) => tx.update('products', [5], { name: 'edited' }))
    await sim.settle()
    await sim.restart('c')
    await sim.settle()
    expect(rows(sim.replica('c'))).toEqual(rows(sim.replica('a')))
    expect(sim.replica('c').get('products', [5])?.name).toBe('edited')
  })

  it('malformed messages are rejected and counted, never applied, and the node keeps working', async () => {
    const sim = await cluster(['a', 'b'], 19)
    const b = sim.replica('b')
    const deliver = (data: Uint8Array) => b.replicator.receive('a', data)
    deliver(new Uint8Array([1, 2, 3]))
    deliver(new Uint8Array(100).fill(0xff))
    const good = encodeMessage({ type: MessageType.Updates, prevLsn: 0, lsn: 0, updates: [{ shard: 't:1:0:products', generation: 0, update: new Uint8Array([0, 0]) }] })
    deliver(good.subarray(0, good.length - 1))
    // well-framed, but the Yjs update inside is garbage
    deliver(encodeMessage({ type: MessageType.Updates, prevLsn: 0, lsn: 0, updates: [{ shard: 't:1:0:products', generation: 0, update: new Uint8Array([200, 1, 2, 3, 4]) }] }))
    // well-framed Yjs update whose entry is not a writer entry
    const doc = new Y.Doc()
    doc.getMap('rows').set('n1\u0000a', 'not an entry')
    deliver(encodeMessage({ type: MessageType.Updates, prevLsn: 0, lsn: 0, updates: [{ shard: 't:1:0:products', generation: 0, update: Y.encodeStateAsUpdate(doc) }] }))
    expect(b.stats().malformed).toBeGreaterThanOrEqual(5)
    expect(b.get('products', [1])).toBeUndefined()
    sim.replica('a').transact((tx) => tx.insert('products', { id: 2, name: 'still works' }))
    await sim.settle()
    expect(b.get('products', [2])?.name).toBe('still works')
  })

  it('peers acknowledge durable changes: LSN positions, commit-to-ack lag, replay timestamps', async () => {
    const sim = await cluster(['a', 'b'], 22)
    const a = sim.replica('a')
    const b = sim.replica('b')
    for (let i = 0; i < 5; i++) a.transact((tx) => tx.insert('products', { id: i, name: `p${i}` }))
    await sim.settle()
    await sim.advance(10)
    const seen = a.replicator.peerStatus().find((p) => p.nodeId === 'b')!
    expect(a.lsn).toBeGreaterThan(0)
    expect(seen.ackedLsn).toBe(a.lsn)
    expect(seen.connected).toBe(true)
    expect(seen.lagMs).not.toBeNull()
    expect(seen.lagMs!).toBeLessThan(100)
    expect(b.replicator.peerStatus().find((p) => p.nodeId === 'a')!.receivedLsn).toBe(a.lsn)
    const replayed = b.lastReplayedCommitMs!
    expect(Math.abs(replayed - sim.now)).toBeLessThan(1000)

    // cut off: acknowledgements stop, then catch up through anti-entropy after healing
    sim.partition(['a'], ['b'])
    await sim.advance(2000)
    a.transact((tx) => tx.insert('products', { id: 100, name: 'while apart' }))
    await sim.advance(2000)
    const behind = a.replicator.peerStatus().find((p) => p.nodeId === 'b')!
    expect(behind.connected).toBe(false)
    expect(behind.ackedLsn).toBeLessThan(a.lsn)
    sim.heal()
    await sim.settle()
    await sim.advance(2000)
    const caught = a.replicator.peerStatus().find((p) => p.nodeId === "b")!

    expect(caught.ackedLsn).toBe(a.lsn)
    expect(caught.lagMs!).toBeGreaterThanOrEqual(2000)
    expect(b.lastReplayedCommitMs!).toBeGreaterThan(replayed)
  })

  it('a repair by anti-entropy is acknowledged once every shard asked for has arrived', async () => {
    const sim = await cluster(['a', 'b'], 23)
    const a = sim.replica('a')
    const b = sim.replica('b')
    // b's own changes never reach a (as on a one-way subscriber that wrote locally), so the
    // two never hold equal shards again: only the repair path can acknowledge a's changes.
    const deliver = sim.deliver.bind(sim)
    let lost = 0
    sim.deliver = (from: string, to: string, data: Uint8Array) => {
      const type = data[1]
      if (from === 'b' && to === 'a' && (type === MessageType.Updates || type === MessageType.SyncDiff)) {
        lost++
        return
      }
      if (from === 'a' && to === 'b' && type === MessageType.Updates) return
      deliver(from, to, data)
    }
    // Updates travel by publish (the gossip mesh), not by deliver: cut them there too.
    const publish = sim.publish.bind(sim)
    sim.publish = (from: string, topic: string, data: Uint8Array) => {
      if (data[1] === MessageType.Updates) {
        if (from === 'b') lost++
        return
      }
      publish(from, topic, data)
    }
    b.transact((tx) => tx.insert('products', { id: 100, name: 'b only' }))
    a.transact((tx) => tx.insert('products', { id: 1, name: 'reaches b by repair' }))
    await sim.advance(3000)
    expect(b.get('products', [1])?.name).toBe('reaches b by repair')
    expect(a.get('products', [100])).toBeUndefined()
    expect(lost).toBeGreaterThan(0)
    expect(a.replicator.peerStatus()[0]!.ackedLsn).toBe(a.lsn)
  })

  it('the change sequence only grows, also across restarts', async () => {
    const storage = new MemoryStorage()
    const r = await Replica.open({ nodeId: 'a', storage })
    r.transact((tx) => tx.createTable(products))
    for (let i = 0; i < 10; i++) r.transact((tx) => tx.insert('products', { id: i, name: 'x'.repeat(200_000) }))
    await r.durable()
    const before = r.lsn
    await r.close()
    const again = await Replica.open({ nodeId: 'a', storage })
    expect(again.lsn).toBeGreaterThan(before)
  })

  it('a region-scoped table is held only by nodes of its regions', async () => {
    const sim = new Simulation({ seed: 20 })
    await sim.addNode({ id: 'us1', region: 'us-west' })
    await sim.addNode({ id: 'us2', region: 'us-west' })
    await sim.addNode({ id: 'eu1', region: 'eu-central' })
    sim.replica('us1').transact((tx) => tx.createTable({ ...products, regions: ['us-west'] }))
    await sim.settle()
    sim.replica('us1').transact((tx) => tx.insert('products', { id: 1, name: 'local data' }))
    await sim.settle()
    expect(sim.replica('us2').get('products', [1])?.name).toBe('local data')
    expect(sim.replica('eu1').table('products')).toBeDefined()
    expect(sim.replica('eu1').rowCount('products')).toBe(0)
    // Only the system shards, which every replica holds.
    expect([...sim.replica('eu1').digests().keys()]).toEqual(['catalog', 'secrets'])
  })
})

describe('replica: application metadata', () => {
  it('setMeta goes through the storage queue, is durable when it resolves, survives a reopen; core keys are refused', async () => {
    const storage = new MemoryStorage()
    const r = await Replica.open({ nodeId: 'm', storage })
    await r.setMeta('app/state', Uint8Array.of(1, 2, 3))
    expect([...((await storage.getMeta('app/state')) ?? [])]).toEqual([1, 2, 3])
    expect([...((await r.getMeta('app/state')) ?? [])]).toEqual([1, 2, 3])
    await expect(r.setMeta('lsn', Uint8Array.of(0))).rejects.toMatchObject({ condition: 'invalidParameterValue' })
    await expect(r.getMeta('lsn')).rejects.toMatchObject({ condition: 'invalidParameterValue' })
    await r.close()
    await expect(r.setMeta('app/state', Uint8Array.of(9))).rejects.toMatchObject({ condition: 'objectNotInPrerequisiteState' })

    const again = await Replica.open({ nodeId: 'm', storage })
    expect([...((await again.getMeta('app/state')) ?? [])]).toEqual([1, 2, 3])
    expect(await again.getMeta('app/other')).toBeUndefined()
    await again.close()
  })
})

describe('replica: holding a table whole', () => {
  // holdsWhole keeps its answers per table info until the catalog moves: a placement
  // record changes the answer for the very same info, so the change must be seen.
  it('follows a shard placement set and removed, for the same table info', async () => {
    const r = await Replica.open({ nodeId: 'a' })
    r.transact((tx) => tx.createTable(products))
    const info = r.table('products')!
    expect(r.holdsWhole(info)).toBe(true)
    const id = shardId('products', info.incarnation, 0)
    r.transact((tx) => tx.setCatalog(SHARD_PLACEMENT_KIND, id, { location: 'b', nodes: ['b'], regions: ['default'] }))
    expect(r.table('products')).toBe(info)
    expect(r.holdsWhole(info)).toBe(false)
    expect(() => r.transact((tx) => [...tx.scan('products')])).toThrow()
    r.transact((tx) => tx.setCatalog(SHARD_PLACEMENT_KIND, id, null))
    expect(r.holdsWhole(info)).toBe(true)
    await r.close()
  })

  // insertNew is an INSERT's one lookup of its key: what `get` then `insert` did in two.
  it('insertNew refuses a key a row holds (23505) and a table not held whole, as get does', async () => {
    const r = await Replica.open({ nodeId: 'a' })
    r.transact((tx) => tx.createTable(products))
    r.transact((tx) => tx.insertNew('products', { id: 1, name: 'pen', price: 2 }))
    expect(r.get('products', [1])).toEqual({ id: 1, name: 'pen', price: 2 })
    expect(() => r.transact((tx) => tx.insertNew('products', { id: 1, name: 'ink', price: 3 }))).toThrow(expect.objectContaining({ condition: 'uniqueViolation' }))
    // Inserted and then inserted again in one transaction; deleted and inserted again.
    expect(() => r.transact((tx) => {
      tx.insertNew('products', { id: 2, name: 'cap', price: 1 })
      tx.insertNew('products', { id: 2, name: 'lid', price: 1 })
    })).toThrow(expect.objectContaining({ condition: 'uniqueViolation' }))
    r.transact((tx) => {
      tx.delete('products', [1])
      tx.insertNew('products', { id: 1, name: 'ink', price: 3 })
    })
    expect(r.get('products', [1])).toEqual({ id: 1, name: 'ink', price: 3 })
    const info = r.table('products')!
    r.transact((tx) => tx.setCatalog(SHARD_PLACEMENT_KIND, shardId('products', info.incarnation, 0), { location: 'b', nodes: ['b'], regions: ['default'] }))
    // Refused at the lookup, as the read is, not only at commit (where a write to the shard is).
    const atCall = (op: (tx: Transaction) => unknown): unknown => {
      try {
        r.transact((tx) => {
          try {
            op(tx)
          } catch (e) {
            throw { atCall: e }
          }
        })
      } catch (e) {
        return e
      }
      return null
    }
    const read = atCall((tx) => tx.get('products', [5])) as { atCall?: { condition?: string } }
    expect(read.atCall?.condition).toEqual(expect.any(String))
    expect(atCall((tx) => tx.insertNew('products', { id: 5, name: 'nib', price: 1 }))).toMatchObject({ atCall: { condition: read.atCall!.condition } })
    await r.close()
  })
})
