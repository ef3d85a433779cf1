import { describe, expect, it } from 'vitest'
import { Replica } from '../replica.js'
import type { Shard } from './shard.js'

const quiet = { antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0 }
const table = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }

function tableShard(r: Replica): Shard {
  return [...r.shards.values()].find((s) => s.viewName() === 't')!
}

/** The rows hash of a replica that received `from`'s whole state at once: every row resolved afresh. */
async function freshHash(from: Replica): Promise<number> {
  const fresh = await Replica.open({ nodeId: 'fresh', ...quiet })
  fresh.applyRemote(fresh.catalogShard, from.catalogShard.encodeState())
  fresh.applyRemote(fresh.shardFor(tableShard(from).id)!, tableShard(from).encodeState())
  const hash = tableShard(fresh).rowsHash
  await fresh.close()
  return hash
}

// The shard sums its rows' hashes lazily (rows changed since the last digest are hashed
// when one asks): the sum must be the one every row hashed afresh gives, whenever read.
describe("a shard's rows hash, summed when read", () => {
  it('equals a fresh resolution of the same state after inserts past the bound, hot rows rewritten, deletes and re-inserts', async () => {
    const a = await Replica.open({ nodeId: 'a', ...quiet })
    a.transact((tx) => tx.createTable(table))
    a.transact((tx) => {
      for (let i = 0; i < 2500; i++) tx.upsert('t', { id: i, v: `v${i}` })
    })
    const shard = tableShard(a)
    expect(shard.rowsHash).toBe(await freshHash(a))
    for (let n = 0; n < 300; n++) {
      a.transact((tx) => {
        tx.upsert('t', { id: 1, v: `hot ${n}` })
        tx.upsert('t', { id: 100 + (n % 7), v: `warm ${n}` })
        if (n % 3 === 0) tx.delete('t', [2000 + n])
        if (n % 5 === 0) tx.upsert('t', { id: 2000 + n, v: `back ${n}` })
      })
      // Read now and then: what was summed and what was not both count.
      if (n === 150) expect(shard.rowsHash).toBe(await freshHash(a))
    }
    a.transact((tx) => {
      for (let i = 0; i < 1500; i++) tx.upsert('t', { id: i, v: `rewritten ${i}` })
      tx.delete('t', [1])
    })
    expect(shard.rowsHash).toBe(await freshHash(a))
    await a.close()
  })
})
