import { afterEach, describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'
import { findBrokenForeignKeys } from './broken-foreign-keys.js'

let cluster: SimCluster | null = null
afterEach(async () => {
  await cluster?.close()
  cluster = null
})

describe('foreign keys across nodes', () => {
  it('a parent deleted on one node while another inserts its child: the child stays and is reported broken', async () => {
    cluster = await SimCluster.create({ seed: 5, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE parent (id int PRIMARY KEY)')
    await a.query('CREATE TABLE child (id int PRIMARY KEY, pid int REFERENCES parent, note text)')
    await a.query('INSERT INTO parent VALUES (1), (2)')
    await cluster.settle()
    expect(findBrokenForeignKeys(a)).toEqual([])

    cluster.partition(['a'], ['b'])
    await a.query('DELETE FROM parent WHERE id = 1') // no child of 1 on a: allowed
    await b.query('INSERT INTO child VALUES (10, 1, null), (11, 2, null)') // parent 1 still on b: allowed
    cluster.heal()
    await cluster.settle()

    for (const db of [a, b]) {
      expect((await db.query('SELECT id, pid FROM child ORDER BY id')).rows).toEqual([{ id: 10, pid: 1 }, { id: 11, pid: 2 }])
      expect((await db.query('SELECT id FROM parent')).rows).toEqual([{ id: 2 }])
      expect(findBrokenForeignKeys(db, 'child')).toEqual([
        { table: 'child', key: [10], constraint: 'child_pid_fkey', columns: ['pid'], refTable: 'parent', refColumns: ['id'], detail: 'Key (pid)=(1) is not present in table "parent".' },
      ])
      // and each node records it in its conflict history, once
      expect((await db.query("SELECT table_name, key, column_name, kind, policy, winning_value, losing_values, nodes FROM concord_conflicts WHERE kind = 'foreign_key'")).rows).toEqual([
        { table_name: 'child', key: '(10)', column_name: 'pid', kind: 'foreign_key', policy: 'keep_child', winning_value: 'Key (pid)=(1) is not present in table "parent".', losing_values: '{parent(id)}', nodes: '{b}' },
      ])
    }
    // Local enforcement goes on: the broken row can be changed elsewhere or repaired, not extended.
    await a.query("UPDATE child SET note = 'seen' WHERE id = 10")
    await expect(a.query('INSERT INTO child VALUES (12, 1, null)')).rejects.toMatchObject({ code: '23503' })
    await a.query('UPDATE child SET pid = 2 WHERE id = 10')
    expect(findBrokenForeignKeys(a)).toEqual([])
  })
})
