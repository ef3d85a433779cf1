import { describe, expect, it } from 'vitest'
import type { Replica } from '../replica.js'
import { catalogReplicas } from './catalog-replicas.fixture.js'

const replica = catalogReplicas()

/** Sends `to` what it lacks of `from`'s catalog and secrets, as anti-entropy would. */
function sync(from: Replica, to: Replica): void {
  to.applyRemote(to.catalogShard, from.catalogShard.encodeState(to.catalogShard.stateVector()))
  to.applyRemote(to.secretsShard, from.secretsShard.encodeState(to.secretsShard.stateVector()))
}

/** Whether a replica's catalog state (what a peer reading the catalog is sent) holds `text`. */
const catalogHolds = (r: Replica, text: string): boolean => Buffer.from(r.catalogShard.encodeState()).toString('latin1').includes(text)

describe('replaceCatalog', () => {
  it("deletes the other writers' entries of the object, so their values leave every copy of the catalog", async () => {
    const a = await replica('a')
    const b = await replica('b')
    a.transact((tx) => tx.setCatalog('thing', 'x', { v: 'written-by-a' }))
    sync(a, b)
    b.transact((tx) => tx.setCatalog('thing', 'x', { v: 'written-by-b' }))
    sync(b, a)
    // setCatalog leaves a's entry (the newer value wins, the older one stays in the document).
    expect(a.getCatalog('thing', 'x')).toEqual({ v: 'written-by-b' })
    expect(catalogHolds(a, 'written-by-a')).toBe(true)
    expect(a.catalogEntryValues('thing')).toEqual([['x', expect.arrayContaining([{ v: 'written-by-a' }, { v: 'written-by-b' }])]])
    b.transact((tx) => tx.replaceCatalog('thing', 'x', { v: 'replaced-by-b' }))
    sync(b, a)
    for (const r of [a, b]) {
      expect(r.getCatalog('thing', 'x')).toEqual({ v: 'replaced-by-b' })
      expect(catalogHolds(r, 'written-by-a') || catalogHolds(r, 'written-by-b')).toBe(false)
      expect(r.catalogEntryValues('thing')).toEqual([['x', [{ v: 'replaced-by-b' }]]])
    }
  })

  it('keeps a concurrent write it did not see, and a deletion stays a deletion', async () => {
    const a = await replica('a')
    const b = await replica('b')
    a.transact((tx) => tx.setCatalog('thing', 'x', { v: 'first' }))
    sync(a, b)
    b.transact((tx) => tx.replaceCatalog('thing', 'x', { v: 'from-b' }))
    a.transact((tx) => tx.setCatalog('thing', 'x', { v: 'from-a-concurrently' }))
    sync(a, b)
    sync(b, a)
    expect(a.getCatalog('thing', 'x')).toEqual(b.getCatalog('thing', 'x'))
    expect(a.catalogEntryValues('thing')[0]![1]).toEqual(expect.arrayContaining([{ v: 'from-b' }, { v: 'from-a-concurrently' }]))
    expect(catalogHolds(b, 'first')).toBe(false)

    // A dropped object keeps no value of its past lives, and stays dropped when an older write arrives late.
    const c = await replica('c')
    sync(a, c)
    a.transact((tx) => tx.setCatalog('thing', 'y', { v: 'old-life' }))
    sync(a, b)
    sync(a, c)
    b.transact((tx) => tx.setCatalog('thing', 'y', null))
    c.transact((tx) => tx.setCatalog('thing', 'y', { v: 'late-update' }))
    sync(b, a)
    a.transact((tx) => tx.replaceCatalog('thing', 'y', null))
    expect(catalogHolds(a, 'old-life')).toBe(false)
    sync(c, a)
    sync(a, b)
    sync(a, c)
    for (const r of [a, b, c]) {
      expect(r.getCatalog('thing', 'y')).toBeUndefined()
      expect(catalogHolds(r, 'old-life')).toBe(false)
    }
  })

  it('writes secrets to the secrets shard, never to the catalog', async () => {
    const a = await replica('a')
    const b = await replica('b')
    a.transact((tx) => {
      tx.setCatalog('thing', 'x', { v: 1 })
      tx.setSecret('key', 'x', 'the-secret-value')
      expect(tx.getSecret('key', 'x')).toBe('the-secret-value')
    })
    expect(a.getSecret('key', 'x')).toBe('the-secret-value')
    expect(catalogHolds(a, 'the-secret-value')).toBe(false)
    sync(a, b)
    expect(b.getSecret('key', 'x')).toBe('the-secret-value')
    b.transact((tx) => tx.setSecret('key', 'x', null))
    sync(b, a)
    expect(a.getSecret('key', 'x')).toBeUndefined()
    expect(Buffer.from(a.secretsShard.encodeState()).toString('latin1')).not.toContain('the-secret-value')
  })
})
