import { describe, expect, it } from 'vitest'
import { Simulation } from '../sim/simulation.js'
import type { OpenTransaction } from '../api.js'
import type { TableSpec } from '../types.js'
import { SeededRandom } from '../sim/seeded-random.js'

const items: TableSpec = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'text' },
    { name: 'n', type: 'int', kind: 'counter' },
  ],
  primaryKey: ['id'],
}

async function oneNode() {
  const sim = new Simulation({ seed: 7 })
  await sim.addNode({ id: 'a' })
  const r = sim.replica('a')
  r.transact((tx) => tx.createTable(items))
  r.transact((tx) => {
    for (let id = 1; id <= 4; id++) tx.insert('items', { id, name: `stored ${id}`, n: 0 })
  })
  return r
}

/**
 * What a transaction shows of itself: its tables, their rows as it reads them, the keys it
 * wrote. `rowsOnly`: the rows without their counter (a moved row's unset counter reads
 * NULL in its transaction and 0 once committed) and no keys.
 */
function state(tx: OpenTransaction, rowsOnly = false): string {
  const tables = tx.tables().map((t) => t.name).filter((n) => !n.startsWith('$')).sort()
  return JSON.stringify(
    tables.map((t) => [t, [...tx.scan(t)].sort((a, b) => Number(a['id']) - Number(b['id'])).map((row) => Object.entries(row).filter(([c]) => !rowsOnly || c !== 'n').sort()), rowsOnly ? [] : tx.writtenKeys(t).map((k) => JSON.stringify(k)).sort()]),
    (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
  )
}

describe('local transaction: savepoints as an undo log', () => {
  it('a rollback returns exactly to what the transaction showed at its savepoint, through nested marks, repeated rollbacks and DDL', async () => {
    const r = await oneNode()
    for (let seed = 1; seed <= 40; seed++) {
      const rand = new SeededRandom(seed)
      const tx = r.begin()
      // The SQL layer's discipline: a stack of marks, each with what the transaction showed when it was taken.
      const marks: Array<{ mark: ReturnType<OpenTransaction['savepoint']>; seen: string }> = []
      let table = 'items'
      let renames = 0
      for (let step = 0; step < 120; step++) {
        const id = 1 + rand.int(0, 7)
        const exists = tx.get(table, [id]) !== undefined
        const op = rand.int(0, 99)
        if (op < 18) {
          marks.push({ mark: tx.savepoint(), seen: state(tx) })
        } else if (op < 26 && marks.length > 0) {
          // ROLLBACK TO an earlier mark releases the ones after it; the mark itself stays (ROLLBACK TO twice).
          const i = rand.int(0, marks.length - 1)
          tx.rollbackTo(marks[i]!.mark)
          marks.length = i + 1
          expect(state(tx)).toBe(marks[i]!.seen)
          table = tx.table('items') !== undefined ? 'items' : tx.tables().find((t) => t.name.startsWith('items_'))?.name ?? 'items'
        } else if (op < 28) {
          const next = `items_${++renames}`
          tx.renameTable(table, next)
          table = next
        } else if (op < 30) {
          tx.renameColumn(table, tx.table(table)!.columns.some((c) => c.name === 'name') ? 'name' : 'label', tx.table(table)!.columns.some((c) => c.name === 'name') ? 'label' : 'name')
        } else if (op < 31) {
          tx.dropTable(table)
          tx.createTable({ ...items, name: table })
        } else if (op < 50 && !exists) {
          const nameColumn = tx.table(table)!.columns.some((c) => c.name === 'name') ? 'name' : 'label'
          tx.insert(table, { id, [nameColumn]: `new ${step}`, n: step })
        } else if (op < 70 && exists) {
          const nameColumn = tx.table(table)!.columns.some((c) => c.name === 'name') ? 'name' : 'label'
          tx.update(table, [id], { [nameColumn]: `changed ${step}` })
        } else if (op < 80 && exists) {
          tx.increment(table, [id], 'n', 1 + rand.int(0, 4))
        } else if (op < 90 && exists) {
          tx.delete(table, [id])
        } else if (exists && tx.get(table, [id + 100]) === undefined) {
          tx.update(table, [id], { id: id + 100 })
        }
      }
      const last = state(tx, true)
      tx.commit()
      const after = r.begin()
      expect(state(after, true)).toBe(last)
      after.commit()
      // Back to where every seed starts: the table as created, with its four stored rows.
      r.transact((t) => {
        for (const info of t.tables()) if (!info.name.startsWith('$')) t.dropTable(info.name)
        t.createTable(items)
        for (let id = 1; id <= 4; id++) t.insert('items', { id, name: `stored ${id}`, n: 0 })
      })
    }
  })

  it('a mark taken after one that was rolled back to is gone, and says so', async () => {
    const r = await oneNode()
    const tx = r.begin()
    const first = tx.savepoint()
    tx.update('items', [1], { name: 'one' })
    const second = tx.savepoint()
    tx.update('items', [2], { name: 'two' })
    tx.rollbackTo(first)
    tx.update('items', [3], { name: 'three' })
    expect(() => tx.rollbackTo(second)).toThrow(/no longer exists/)
    // The first still holds, as often as asked.
    tx.rollbackTo(first)
    tx.rollbackTo(first)
    expect(tx.writtenKeys('items')).toEqual([])
    expect(tx.get('items', [1])?.['name']).toBe('stored 1')
    tx.commit()
  })
})
