import { describe, expect, it } from 'vitest'
import type { Replica } from '../replica.js'
import { catalogReplicas } from './catalog-replicas.fixture.js'
import { catalogKindsOfUpdate } from './catalog-update-kinds.js'

const replica = catalogReplicas()

/** What `to` lacks of `from`'s catalog, as anti-entropy would send it. */
function diff(from: Replica, to: Replica): Uint8Array {
  return from.catalogShard.encodeState(to.catalogShard.stateVector())
}

/** The kinds an update changes, without the replicas' own registrations ('member', written at open). */
function kinds(doc: Parameters<typeof catalogKindsOfUpdate>[0], update: Uint8Array): Set<string> | null {
  const k = catalogKindsOfUpdate(doc, update)
  k?.delete('member')
  return k
}

function sync(from: Replica, to: Replica): void {
  to.applyRemote(to.catalogShard, diff(from, to))
}

describe('catalogKindsOfUpdate', () => {
  it('names the kinds an update sets, also when it overwrites entries the receiver holds', async () => {
    const a = await replica('a')
    const b = await replica('b')
    a.transact((tx) => tx.setCatalog('peer_member', 'x', { removed: false }))
    a.transact((tx) => tx.setCatalog('setting', 'work_mem', '4MB'))
    expect(kinds(b.catalogShard.doc, diff(a, b))).toEqual(new Set(['peer_member', 'setting']))
    sync(a, b)
    // Everything held: nothing changes.
    expect(kinds(b.catalogShard.doc, diff(a, b))).toEqual(new Set())
    // An overwrite of a held entry does not carry its key (it names its predecessor).
    a.transact((tx) => tx.setCatalog('peer_member', 'x', { removed: true }))
    expect(kinds(b.catalogShard.doc, diff(a, b))).toEqual(new Set(['peer_member']))
    a.transact((tx) => tx.setCatalog('view', 'v', { sql: 'select 1' }))
    sync(a, b)
    b.transact((tx) => tx.setCatalog('view', 'w', { sql: 'select 2' }))
    expect(kinds(a.catalogShard.doc, diff(b, a))).toEqual(new Set(['view']))
  })

  it('names the kinds of entries another writer wrote when a peer relays them', async () => {
    const a = await replica('a')
    const b = await replica('b')
    const c = await replica('c')
    a.transact((tx) => tx.setCatalog('role', 'alice', { login: true }))
    sync(a, b)
    b.transact((tx) => tx.setCatalog('view', 'v', { sql: 'select 1' }))
    // b's diff to c carries a's role besides its own view.
    expect(kinds(c.catalogShard.doc, diff(b, c))).toEqual(new Set(['role', 'view']))
  })

  it('answers null for an overwrite whose predecessor the receiver lacks, and for garbage', async () => {
    const a = await replica('a')
    const b = await replica('b')
    a.transact((tx) => tx.setCatalog('policy', 'default', 'x'))
    const before = a.catalogShard.stateVector()
    a.transact((tx) => tx.setCatalog('policy', 'default', 'y'))
    const overwrite = a.catalogShard.encodeState(before)
    expect(catalogKindsOfUpdate(b.catalogShard.doc, overwrite)).toBeNull()
    expect(catalogKindsOfUpdate(null, overwrite)).toBeNull()
    expect(catalogKindsOfUpdate(b.catalogShard.doc, new Uint8Array([9, 9, 9]))).toBeNull()
    // A whole state (a GENERATION) read against a fresh document.
    expect(kinds(null, a.catalogShard.encodeState())).toEqual(new Set(['policy']))
  })
})
