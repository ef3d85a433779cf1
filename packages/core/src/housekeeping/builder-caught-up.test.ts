import { describe, expect, it } from 'vitest'
import { Replica } from '../replica.js'
import { CATALOG_SHARD } from '../placement/shard-id.js'

describe('who builds generations', () => {
  const table = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }

  // A joiner got a table's rows before the catalog naming the table. It read every row as
  // deleted, knew no member but itself, so it built the shard's next generation without
  // those rows; the writer adopted it and lost 50,000 of its 100,000 rows (over psql, real
  // nodes). A replica builds only shards of tables it knows and has caught up on.
  it('a replica holding rows of a table its catalog does not know builds no generation of them', async () => {
    const writer = await Replica.open({ nodeId: 'zz-writer', antiEntropyIntervalMs: 0 })
    writer.transact((tx) => tx.createTable(table))
    writer.transact((tx) => {
      for (let i = 0; i < 2000; i++) tx.insert('t', { id: i, v: `row ${i}` })
    })
    const id = [...writer.stateDigests().keys()].find((k) => k.startsWith('t:'))!
    expect(id).toBeDefined()
    const joiner = await Replica.open({ nodeId: 'aa-joiner', antiEntropyIntervalMs: 0 })
    const shard = joiner.shardFor(id)!
    expect(joiner.applyRemote(shard, writer.shardFor(id)!.encodeState())).toBe(true)
    expect(joiner.table('t')).toBeUndefined()
    joiner.compactionRound()
    expect(shard.generation).toBe(0)
    expect(joiner.stats().generationsAdopted).toBe(0)
    // Once the catalog arrives the same rows read as rows again.
    expect(joiner.applyRemote(joiner.shardFor(CATALOG_SHARD)!, writer.shardFor(CATALOG_SHARD)!.encodeState())).toBe(true)
    expect(joiner.rowCount('t')).toBe(2000)
    await writer.close()
    await joiner.close()
  })
})
