import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'

type ConflictRow = { table_name: string; key: string; column_name: string | null; kind: string; policy: string; winning_value: string | null; winning_node: string | null; losing_values: string; nodes: string }

async function pair(seed: number) {
  const cluster = await SimCluster.create({ seed, nodes: [{ id: 'a' }, { id: 'b' }] })
  return { cluster, a: cluster.node('a'), b: cluster.node('b') }
}

const conflicts = async (db: { query: (s: string) => Promise<{ rows: unknown[] }> }) =>
  (await db.query('SELECT table_name, key, column_name, kind, policy, winning_value, winning_node, losing_values, nodes FROM concord_conflicts')).rows as ConflictRow[]

describe('concord_conflicts', () => {
  it('records concurrent updates of one column on every node: policy, winner, loser, nodes', async () => {
    const { cluster, a, b } = await pair(31)
    await a.query('CREATE TABLE kv (k TEXT PRIMARY KEY, v INT, note TEXT)')
    await a.query("INSERT INTO kv VALUES ('x', 1, 'n')")
    await cluster.settle()
    // Sequential writes are no conflict.
    await b.query("UPDATE kv SET v = 2 WHERE k = 'x'")
    await cluster.settle()
    expect(await conflicts(a)).toEqual([])
    cluster.partition(['a'], ['b'])
    await a.query("UPDATE kv SET v = 10 WHERE k = 'x'")
    await cluster.advance(20)
    await b.query("UPDATE kv SET v = 20 WHERE k = 'x'")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) {
      expect((await db.query("SELECT v FROM kv WHERE k = 'x'")).rows).toEqual([{ v: 20 }])
      expect(await conflicts(db)).toEqual([
        { table_name: 'kv', key: '(x)', column_name: 'v', kind: 'update_update', policy: 'last_write_wins', winning_value: '20', winning_node: 'b', losing_values: '{10}', nodes: '{a,b}' },
      ])
    }
    await cluster.close()
  })

  it('records concurrent inserts of one key, and a delete that won over a concurrent update', async () => {
    const { cluster, a, b } = await pair(32)
    await a.query("SET conflict_resolution_policy = 'first_write_wins'")
    await a.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
    await a.query("INSERT INTO t VALUES (2, 'old')")
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await a.query("INSERT INTO t VALUES (1, 'from a')")
    await a.query('DELETE FROM t WHERE id = 2')
    await cluster.advance(20)
    await b.query("INSERT INTO t VALUES (1, 'from b')")
    await b.query("UPDATE t SET v = 'updated by b' WHERE id = 2")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) {
      expect((await db.query('SELECT id, v FROM t ORDER BY id')).rows).toEqual([{ id: 1, v: 'from a' }])
      const rows = (await conflicts(db)).sort((x, y) => (x.kind < y.kind ? -1 : 1))
      expect(rows).toEqual([
        { table_name: 't', key: '(2)', column_name: null, kind: 'delete_update', policy: 'delete_wins', winning_value: null, winning_node: 'a', losing_values: '{"{\\"v\\":\\"updated by b\\"}"}', nodes: '{a,b}' },
        { table_name: 't', key: '(1)', column_name: 'v', kind: 'insert_insert', policy: 'first_write_wins', winning_value: 'from a', winning_node: 'a', losing_values: '{"from b"}', nodes: '{a,b}' },
      ])
    }
    await cluster.close()
  })

  it('records a UNIQUE value two masters inserted while apart: both rows stay, the conflict shows', async () => {
    const { cluster, a, b } = await pair(33)
    await a.query('CREATE TABLE users (id INT PRIMARY KEY, email TEXT UNIQUE)')
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await a.query("INSERT INTO users VALUES (1, 'x@example.com')")
    await b.query("INSERT INTO users VALUES (2, 'x@example.com')")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) {
      expect((await db.query('SELECT id FROM users ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }])
      const rows = await conflicts(db)
      expect(rows).toEqual([
        { table_name: 'users', key: '(1)', column_name: 'email', kind: 'unique', policy: 'keep_both', winning_value: 'x@example.com', winning_node: null, losing_values: '{(2)}', nodes: '{a,b}' },
      ])
    }
    await cluster.close()
  })

  it('is bounded: the oldest entries go first, counts by kind keep counting', async () => {
    const { cluster, a, b } = await pair(34)
    const dbA = cluster.node('a')
    // A node setting: it bounds this node's history only.
    await a.query('SET conflict_history_limit = 3')
    await expect(a.query('SET conflict_history_limit = 0')).rejects.toMatchObject({ code: '22023' })
    expect((await a.query("SELECT scope FROM pg_settings WHERE name = 'conflict_history_limit'")).rows).toEqual([{ scope: 'node' }])
    await a.query('CREATE TABLE kv (k INT PRIMARY KEY, v INT)')
    await a.query('INSERT INTO kv SELECT g, 0 FROM generate_series(1, 5) g')
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    for (let k = 1; k <= 5; k++) await a.query(`UPDATE kv SET v = 1 WHERE k = ${k}`)
    await cluster.advance(20)
    for (let k = 1; k <= 5; k++) await b.query(`UPDATE kv SET v = 2 WHERE k = ${k}`)
    cluster.heal()
    await cluster.settle()
    expect((await conflicts(a)).map((r) => r.key)).toEqual(['(3)', '(4)', '(5)'])
    expect(dbA.conflicts.counts.get('update_update')).toBe(5)
    expect((await conflicts(b)).length).toBe(5)
    await cluster.close()
  })
})
